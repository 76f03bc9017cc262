package parse_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/parsego/parse"
)

// protectedFields entries "userField:<field>" apply to the objects whose
// <field> points to the caller (a Pointer or an array of them), intersected
// with what the caller's other entities hide, as the reference does.
func TestProtectedUserFields(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	var users []*parse.Object
	for _, name := range []string{"ann", "bob", "cid"} {
		u, err := app.Users.SignUp(ctx, map[string]any{"username": name, "password": "pw"})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	ann, bob, cid := users[0], users[1], users[2]
	docs := map[string]map[string]any{
		"annOwns":   {"owner": ann.Pointer(), "editors": []any{}},
		"bobOwns":   {"owner": bob.Pointer(), "editors": []any{ann.Pointer()}},
		"nobodyOwn": {"editors": []any{}},
	}
	for title, d := range docs {
		d["title"], d["secret"], d["notes"], d["draft"] = title, "s", "n", "d"
		if _, err := app.Objects.Create(ctx, "Doc", d); err != nil {
			t.Fatal(err)
		}
	}
	clp := `{"find":{"*":true},"get":{"*":true},"protectedFields":{` +
		`"*":["secret","notes","draft"],"userField:owner":["secret"],"userField:editors":["secret","draft"]}}`
	if _, err := app.Schemas.Update(ctx, "Doc", parse.SchemaUpdate{ClassLevelPermissions: json.RawMessage(clp)}); err != nil {
		t.Fatal(err)
	}
	shown := func(u *parse.Object, keys ...string) map[string][]string {
		t.Helper()
		q := app.Query("Doc")
		if keys != nil {
			q = q.Keys(keys...)
		}
		auth := parse.Auth{}
		if u != nil {
			auth.User = u
		}
		objs, err := q.Find(parse.WithAuth(ctx, auth))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, o := range objs {
			var names []string
			for _, f := range []string{"secret", "notes", "draft"} {
				if _, ok := o.Fields[f]; ok {
					names = append(names, f)
				}
			}
			out[o.Fields["title"].(string)] = names
		}
		return out
	}
	for _, c := range []struct {
		name string
		user *parse.Object
		keys []string
		want map[string][]string
	}{
		// Owner: "*" ∩ {secret} hides only secret. An editor: "*" ∩
		// {secret, draft}. Both: the intersection of all three.
		{"ann", ann, nil, map[string][]string{"annOwns": {"notes", "draft"}, "bobOwns": {"notes"}, "nobodyOwn": nil}},
		{"bob", bob, nil, map[string][]string{"annOwns": nil, "bobOwns": {"notes", "draft"}, "nobodyOwn": nil}},
		{"cid, no pointer to him", cid, nil, map[string][]string{"annOwns": nil, "bobOwns": nil, "nobodyOwn": nil}},
		{"anonymous", nil, nil, map[string][]string{"annOwns": nil, "bobOwns": nil, "nobodyOwn": nil}},
		// keys leaving out the pointer fields do not lose the exemption.
		{"ann with keys", ann, []string{"title", "notes"}, map[string][]string{"annOwns": {"notes"}, "bobOwns": {"notes"}, "nobodyOwn": nil}},
	} {
		got := shown(c.user, c.keys...)
		for title, want := range c.want {
			if !slices.Equal(got[title], want) {
				t.Errorf("%s reads %s: fields %v, want %v", c.name, title, got[title], want)
			}
		}
	}
	// The master key sees everything.
	objs, err := app.Query("Doc").Find(ctx)
	if err != nil || len(objs) != 3 || objs[0].Fields["secret"] != "s" {
		t.Fatalf("master: %v, %v", objs, err)
	}
}

// A sign-up is a _User create: the class-level permission applies to it,
// by either route, as the reference checks it.
func TestSignUpCreatePermission(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	if _, err := app.Users.SignUp(ctx, map[string]any{"username": "first", "password": "pw"}); err != nil {
		t.Fatal(err)
	}
	clp := `{"find":{"*":true},"get":{"*":true},"count":{"*":true},"update":{"*":true},"delete":{"*":true},"addField":{"*":true},"create":{}}`
	if _, err := app.Schemas.Update(ctx, parse.ClassUser, parse.SchemaUpdate{ClassLevelPermissions: json.RawMessage(clp)}); err != nil {
		t.Fatal(err)
	}
	client := parse.WithAuth(ctx, parse.Auth{})
	_, err := app.Users.SignUp(client, map[string]any{"username": "second", "password": "pw"})
	wantCode(t, err, parse.OperationForbidden)
	_, err = app.Objects.Create(client, parse.ClassUser, map[string]any{"username": "third", "password": "pw"})
	wantCode(t, err, parse.OperationForbidden)
	if _, err := app.Users.SignUp(ctx, map[string]any{"username": "byMaster", "password": "pw"}); err != nil {
		t.Fatalf("the master key signs users up regardless: %v", err)
	}
	// Logging in is not creating.
	if _, err := app.Users.LogIn(client, parse.Login{Username: "first", Password: "pw"}); err != nil {
		t.Fatalf("login: %v", err)
	}
}
