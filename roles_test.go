package parse_test

import (
	"context"
	"slices"
	"testing"

	"github.com/parsego/parse"
)

// From Go, App.UserAuth gives a user's Auth its roles, inherited ones
// included, and role ACLs then apply as over HTTP.
func TestUserAuthRoles(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	u, err := app.Users.SignUp(ctx, map[string]any{"username": "gopher", "password": "pw"})
	if err != nil {
		t.Fatal(err)
	}
	child, err := app.Objects.Create(ctx, parse.ClassRole, map[string]any{"name": "Writers", "ACL": parse.ACL{}, "users": parse.AddRelation(u.Pointer())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Objects.Create(ctx, parse.ClassRole, map[string]any{"name": "Staff", "ACL": parse.ACL{}, "roles": parse.AddRelation(child.Pointer())}); err != nil {
		t.Fatal(err)
	}
	doc, err := app.Objects.Create(ctx, "Memo", map[string]any{"text": "hi", "ACL": parse.ACL{"role:Staff": {Read: true}}})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := app.UserAuth(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(auth.Roles, []string{"Staff", "Writers"}) {
		t.Fatalf("roles %q", auth.Roles)
	}
	got, err := app.Objects.Get(parse.WithAuth(ctx, auth), "Memo", doc.ID)
	if err != nil || got.Fields["text"] != "hi" {
		t.Fatalf("get as a Staff member: %v, %v", got, err)
	}
	_, err = app.Objects.Get(parse.WithAuth(ctx, parse.Auth{User: u}), "Memo", doc.ID)
	wantCode(t, err, parse.ObjectNotFound)
	_, err = app.Objects.Update(parse.WithAuth(ctx, auth), parse.ClassRole, child.ID, map[string]any{"name": "Renamed"})
	wantCode(t, err, parse.ChangedImmutableField)
}
