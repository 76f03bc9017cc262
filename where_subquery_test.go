package parse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parsego/parse"
)

// names runs a where query on class, ordered by name, and returns the names.
func names(t *testing.T, ctx context.Context, app *parse.App, class string, where map[string]any) string {
	t.Helper()
	list, err := app.Query(class).Where(where).Order("name").Find(ctx)
	if err != nil {
		t.Fatalf("query %s %v: %v", class, where, err)
	}
	var out []string
	for _, o := range list {
		s, _ := o.Fields["name"].(string)
		out = append(out, s)
	}
	n, err := app.Query(class).Where(where).Count(ctx)
	if err != nil || int(n) != len(list) {
		t.Fatalf("count %s %v = %d, %v; find found %d", class, where, n, err, len(list))
	}
	return strings.Join(out, ",")
}

func TestInQuery(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	p1, _ := app.Objects.Create(ctx, "Post", map[string]any{"name": "p1", "image": "a.png"})
	p2, _ := app.Objects.Create(ctx, "Post", map[string]any{"name": "p2"})
	p3, _ := app.Objects.Create(ctx, "Post", map[string]any{"name": "p3", "image": "b.png", "ACL": parse.ACL{}})
	for _, c := range []map[string]any{
		{"name": "c1", "post": p1.Pointer()},
		{"name": "c2", "post": p2.Pointer()},
		{"name": "c3"},
		{"name": "c4", "post": p3.Pointer()},
		{"name": "c5", "posts": []any{p2.Pointer(), p1.Pointer()}},
	} {
		if _, err := app.Objects.Create(ctx, "Comment", c); err != nil {
			t.Fatal(err)
		}
	}
	in := func(op, field string) map[string]any {
		return map[string]any{field: map[string]any{op: map[string]any{"className": "Post", "where": map[string]any{"image": map[string]any{"$exists": true}}}}}
	}
	public := parse.WithAuth(ctx, parse.Auth{})
	for _, tt := range []struct {
		ctx       context.Context
		where     map[string]any
		want      string
		something string
	}{
		{ctx, in("$inQuery", "post"), "c1,c4", "master"},
		{public, in("$inQuery", "post"), "c1", "ACL of the inner class"},
		{public, in("$notInQuery", "post"), "c2,c4", "not"},
		{public, in("$inQuery", "posts"), "c5", "array of pointers"},
		{public, map[string]any{"$or": []any{in("$inQuery", "post"), map[string]any{"name": "c3"}}}, "c1,c3", "in $or"},
		{public, map[string]any{"post": map[string]any{"$inQuery": map[string]any{"className": "Nope", "where": map[string]any{}}}}, "", "missing class"},
		{public, map[string]any{"post": map[string]any{"$inQuery": map[string]any{"className": "Post", "where": map[string]any{
			"objectId": map[string]any{"$select": map[string]any{"query": map[string]any{"className": "Post", "where": map[string]any{"name": "p2"}}, "key": "objectId"}},
		}}}}, "c2", "nested $select"},
	} {
		if got := names(t, tt.ctx, app, "Comment", tt.where); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.something, got, tt.want)
		}
	}
}

func TestSelectDontSelect(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	for _, team := range []map[string]any{
		{"city": "Paris", "winPct": 0.6},
		{"city": "Rome", "winPct": 0.4},
		{"city": "Oslo", "winPct": 0.7, "ACL": parse.ACL{}},
	} {
		if _, err := app.Objects.Create(ctx, "Team", team); err != nil {
			t.Fatal(err)
		}
	}
	for _, fan := range []map[string]any{
		{"name": "f1", "hometown": "Paris"},
		{"name": "f2", "hometown": "Rome"},
		{"name": "f3", "hometown": "Oslo"},
		{"name": "f4"},
	} {
		if _, err := app.Objects.Create(ctx, "Fan", fan); err != nil {
			t.Fatal(err)
		}
	}
	sel := func(op string) map[string]any {
		return map[string]any{"hometown": map[string]any{op: map[string]any{
			"query": map[string]any{"className": "Team", "where": map[string]any{"winPct": map[string]any{"$gt": 0.5}}}, "key": "city"}}}
	}
	public := parse.WithAuth(ctx, parse.Auth{})
	if got := names(t, ctx, app, "Fan", sel("$select")); got != "f1,f3" {
		t.Errorf("$select (master) = %q", got)
	}
	if got := names(t, public, app, "Fan", sel("$select")); got != "f1" {
		t.Errorf("$select = %q", got)
	}
	if got := names(t, public, app, "Fan", sel("$dontSelect")); got != "f2,f3" {
		t.Errorf("$dontSelect = %q", got)
	}
}

func TestRelationFieldConstraints(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	u1, _ := app.Objects.Create(ctx, "Person", map[string]any{"name": "u1"})
	u2, _ := app.Objects.Create(ctx, "Person", map[string]any{"name": "u2"})
	u3, _ := app.Objects.Create(ctx, "Person", map[string]any{"name": "u3"})
	if _, err := app.Objects.Create(ctx, "Club", map[string]any{"name": "a", "members": parse.AddRelation(u1.Pointer(), u2.Pointer())}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Objects.Create(ctx, "Club", map[string]any{"name": "b", "members": parse.AddRelation(u2.Pointer())}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Objects.Create(ctx, "Club", map[string]any{"name": "c"}); err != nil {
		t.Fatal(err)
	}
	p := func(o *parse.Object) map[string]any {
		return map[string]any{"__type": "Pointer", "className": "Person", "objectId": o.ID}
	}
	for _, tt := range []struct {
		where map[string]any
		want  string
	}{
		{map[string]any{"members": p(u1)}, "a"},
		{map[string]any{"members": p(u2)}, "a,b"},
		{map[string]any{"members": p(u3)}, ""},
		{map[string]any{"members": map[string]any{"$eq": p(u1)}}, "a"},
		{map[string]any{"members": map[string]any{"$in": []any{p(u1), p(u3)}}}, "a"},
		{map[string]any{"members": map[string]any{"$nin": []any{p(u1)}}}, "b,c"},
		{map[string]any{"members": map[string]any{"$ne": p(u2)}}, "c"},
		{map[string]any{"$or": []any{map[string]any{"members": p(u1)}, map[string]any{"name": "c"}}}, "a,c"},
	} {
		if got := names(t, ctx, app, "Club", tt.where); got != tt.want {
			t.Errorf("%v: got %q, want %q", tt.where, got, tt.want)
		}
	}
	inQ := func(op string) map[string]any {
		return map[string]any{"members": map[string]any{op: map[string]any{"className": "Person", "where": map[string]any{"name": map[string]any{"$in": []any{"u1", "u3"}}}}}}
	}
	if got := names(t, ctx, app, "Club", inQ("$inQuery")); got != "a" {
		t.Errorf("$inQuery on a relation: %q", got)
	}
	if got := names(t, ctx, app, "Club", inQ("$notInQuery")); got != "b,c" {
		t.Errorf("$notInQuery on a relation: %q", got)
	}
	_, err := app.Query("Club").Where(map[string]any{"members": "u1"}).Find(ctx)
	wantCode(t, err, parse.InvalidQuery)
}

func TestContainedBy(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	for _, b := range []map[string]any{
		{"name": "ab", "tags": []any{"a", "b"}},
		{"name": "a", "tags": []any{"a"}},
		{"name": "ac", "tags": []any{"a", "c"}},
		{"name": "none"},
	} {
		if _, err := app.Objects.Create(ctx, "Bag", b); err != nil {
			t.Fatal(err)
		}
	}
	if got := names(t, ctx, app, "Bag", map[string]any{"tags": map[string]any{"$containedBy": []any{"a", "b"}}}); got != "a,ab,none" {
		t.Errorf("$containedBy = %q", got)
	}
	_, err := app.Query("Bag").Where(map[string]any{"tags": map[string]any{"$containedBy": "a"}}).Find(ctx)
	wantCode(t, err, parse.InvalidJSON)
}

func TestSubqueryErrors(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	if _, err := app.Objects.Create(ctx, "Fan", map[string]any{"name": "x"}); err != nil {
		t.Fatal(err)
	}
	q := map[string]any{"className": "Team", "where": map[string]any{}}
	for _, tt := range []struct {
		where map[string]any
		code  int
		msg   string
	}{
		{map[string]any{"h": map[string]any{"$select": map[string]any{"query": q}}}, parse.InvalidQuery, "improper usage of $select"},
		{map[string]any{"h": map[string]any{"$select": map[string]any{"query": q, "key": "a", "x": 1}}}, parse.InvalidQuery, "improper usage of $select"},
		{map[string]any{"h": map[string]any{"$dontSelect": map[string]any{"query": map[string]any{}, "key": "a"}}}, parse.InvalidQuery, "improper usage of $dontSelect"},
		{map[string]any{"h": map[string]any{"$inQuery": map[string]any{"where": map[string]any{}}}}, parse.InvalidQuery, "improper usage of $inQuery"},
		{map[string]any{"h": map[string]any{"$notInQuery": "x"}}, parse.InvalidQuery, "improper usage of $notInQuery"},
		{map[string]any{"h": map[string]any{"$inQuery": map[string]any{"className": "1bad", "where": map[string]any{}}}}, parse.InvalidClassName, ""},
		{map[string]any{"h": map[string]any{"$inQuery": map[string]any{"className": "Team", "where": map[string]any{"$or": "x"}}}}, parse.InvalidQuery, "Bad $or format"},
	} {
		_, err := app.Query("Fan").Where(tt.where).Find(ctx)
		if parse.ErrorCode(err) != tt.code || tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%v: %v, want %d %q", tt.where, err, tt.code, tt.msg)
		}
	}
}

// TestSubqueryClassRules checks that subqueries on _Session and _User get
// the class rules a direct query gets.
func TestSubqueryClassRules(t *testing.T) {
	t.Parallel()
	app, _ := newUserApp(t, parse.Config{})
	ann := signUp(t, app, map[string]any{"username": "ann", "password": "pw", "email": "ann@example.com"})
	bob := signUp(t, app, map[string]any{"username": "bob", "password": "pw", "email": "bob@example.com"})
	ctx := context.Background()
	for _, u := range []*parse.Object{ann, bob} {
		if _, err := app.Objects.Create(ctx, "Note", map[string]any{"name": u.Fields["username"], "owner": u.Pointer()}); err != nil {
			t.Fatal(err)
		}
	}
	annCtx := client(t, app, ann.SessionToken())
	sessions := map[string]any{"owner": map[string]any{"$select": map[string]any{
		"query": map[string]any{"className": "_Session", "where": map[string]any{}}, "key": "user"}}}
	if got := names(t, annCtx, app, "Note", sessions); got != "ann" {
		t.Errorf("notes of the users of the sessions ann sees = %q, want ann", got)
	}
	if got := names(t, ctx, app, "Note", sessions); got != "ann,bob" {
		t.Errorf("master: %q", got)
	}
	_, err := app.Query("Note").Where(sessions).Find(client(t, app, ""))
	wantCode(t, err, parse.InvalidSessionToken)
	byEmail := map[string]any{"owner": map[string]any{"$inQuery": map[string]any{"className": "_User", "where": map[string]any{"email": "bob@example.com"}}}}
	_, err = app.Query("Note").Where(byEmail).Find(annCtx)
	wantCode(t, err, parse.OperationForbidden)
	if got := names(t, ctx, app, "Note", byEmail); got != "bob" {
		t.Errorf("master by email: %q", got)
	}
	emails := map[string]any{"name": map[string]any{"$select": map[string]any{"query": map[string]any{"className": "_User"}, "key": "email"}}}
	_, err = app.Query("Note").Where(emails).Find(annCtx)
	wantCode(t, err, parse.OperationForbidden)
}

// TestSubqueriesInGo checks the typed API: MatchesQuery and friends, and
// ContainedBy.
func TestSubqueriesInGo(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	p1, _ := app.Objects.Create(ctx, "Post", map[string]any{"name": "p1", "image": "a.png", "city": "Paris", "tags": []any{"x"}})
	p2, _ := app.Objects.Create(ctx, "Post", map[string]any{"name": "p2", "city": "Rome", "tags": []any{"x", "y"}})
	for _, c := range []map[string]any{
		{"name": "c1", "post": p1.Pointer(), "town": "Paris"},
		{"name": "c2", "post": p2.Pointer(), "town": "Rome"},
		{"name": "c3", "town": "Oslo"},
	} {
		if _, err := app.Objects.Create(ctx, "Comment", c); err != nil {
			t.Fatal(err)
		}
	}
	withImage := app.Query("Post").Exists("image")
	find := func(q *parse.Query) string {
		t.Helper()
		list, err := q.Order("name").Find(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range list {
			out = append(out, o.Fields["name"].(string))
		}
		return strings.Join(out, ",")
	}
	for _, tt := range []struct {
		q    *parse.Query
		want string
	}{
		{app.Query("Comment").MatchesQuery("post", withImage), "c1"},
		{app.Query("Comment").DoesNotMatchQuery("post", withImage), "c2"},
		{app.Query("Comment").MatchesKeyInQuery("town", "city", withImage), "c1"},
		{app.Query("Comment").DoesNotMatchKeyInQuery("town", "city", withImage), "c2,c3"},
		{app.Query("Comment").MatchesKeyInQuery("town", "city", app.Query("Post")).MatchesQuery("post", app.Query("Post").EqualTo("name", "p2")), "c2"},
		{app.Query("Post").ContainedBy("tags", "x"), "p1"},
	} {
		if got := find(tt.q); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	_, err := app.Query("Comment").MatchesKeyInQuery("town", "", withImage).Find(ctx)
	wantCode(t, err, parse.InvalidKeyName)
}
