package parse_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/internal/teststore"
)

// newApp returns an App on a fresh store (teststore: embedded, or
// PostgreSQL).
func newApp(t *testing.T) *parse.App {
	t.Helper()
	app, err := parse.New(context.Background(), parse.Config{
		AppID: "APP", MasterKey: "MASTER", ServerURL: "http://example.test/parse",
		Store: teststore.New(t), AllowClientClassCreation: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app
}

// instances returns two Apps on one fresh PostgreSQL namespace, as two
// instances of a deployment sharing a database.
func instances(t *testing.T) (*parse.App, *parse.App) {
	t.Helper()
	store := pgtest.NewStore(t)
	open := func() *parse.App {
		app, err := parse.New(context.Background(), parse.Config{AppID: "APP", MasterKey: "MASTER", Store: store})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		return app
	}
	return open(), open()
}

func wantCode(t *testing.T, err error, code int) {
	t.Helper()
	if got := parse.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %d, want %d", err, got, code)
	}
}

func TestObjectsCRUD(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	when := time.Date(2011, 8, 21, 18, 2, 52, 249e6, time.UTC)
	target, err := app.Objects.Create(ctx, "Team", map[string]any{"name": "red"})
	if err != nil {
		t.Fatal(err)
	}
	created, err := app.Objects.Create(ctx, "GameScore", map[string]any{
		"score": 1337, "playerName": "Sean Plott", "cheatMode": false, "when": when,
		"team": target.Pointer(), "pos": parse.GeoPoint{Latitude: 40, Longitude: -30},
		"blob": parse.Bytes("hi"), "tags": []any{"a", 2, nil}, "stats": map[string]any{"wins": 3, "x": nil},
		"skipped": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(created.ID) != 10 || created.CreatedAt.IsZero() || !created.CreatedAt.Equal(created.UpdatedAt) {
		t.Fatalf("created %+v", created)
	}
	got, err := app.Objects.Get(ctx, "GameScore", created.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"objectId":"` + created.ID + `","createdAt":"` + parse.FormatDate(created.CreatedAt) + `","updatedAt":"` + parse.FormatDate(created.CreatedAt) +
		`","blob":{"__type":"Bytes","base64":"aGk="},"cheatMode":false,"playerName":"Sean Plott","pos":{"__type":"GeoPoint","latitude":40,"longitude":-30},` +
		`"score":1337,"stats":{"wins":3,"x":null},"tags":["a",2,null],"team":{"__type":"Pointer","className":"Team","objectId":"` + target.ID + `"},` +
		`"when":{"__type":"Date","iso":"2011-08-21T18:02:52.249Z"}}`
	if b, _ := got.MarshalJSON(); string(b) != want {
		t.Fatalf("get:\n got %s\nwant %s", b, want)
	}

	updated, err := app.Objects.Update(ctx, "GameScore", created.ID, map[string]any{"score": 73453, "cheatMode": nil})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Fields["score"] != 73453.0 || updated.Fields["playerName"] != "Sean Plott" {
		t.Fatalf("update kept/changed wrong fields: %v", updated.Fields)
	}
	if _, ok := updated.Fields["cheatMode"]; ok {
		t.Fatal("a nil value must remove the field")
	}
	if !updated.UpdatedAt.After(created.UpdatedAt) && !updated.UpdatedAt.Equal(created.UpdatedAt) {
		t.Fatal("updatedAt went backwards")
	}

	if err := app.Objects.Delete(ctx, "GameScore", created.ID); err != nil {
		t.Fatal(err)
	}
	_, err = app.Objects.Get(ctx, "GameScore", created.ID)
	wantCode(t, err, parse.ObjectNotFound)
	wantCode(t, app.Objects.Delete(ctx, "GameScore", created.ID), parse.ObjectNotFound)
	_, err = app.Objects.Update(ctx, "GameScore", created.ID, map[string]any{"score": 1})
	wantCode(t, err, parse.ObjectNotFound)
}

func TestObjectsOperators(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	o, err := app.Objects.Create(ctx, "Ops", map[string]any{
		"n": parse.Increment(5), "list": parse.Add("x", "x"), "set": parse.AddUnique("a", "a", "b"), "gone": parse.Remove("z"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(parse.AppendJSON(nil, o.Fields)); got != `{"gone":[],"list":["x","x"],"n":5,"set":["a","b"]}` {
		t.Fatalf("create with operators stored %s", got)
	}
	tests := []struct {
		name   string
		update map[string]any
		field  string
		want   string
	}{
		{"increment", map[string]any{"n": parse.Increment(1)}, "n", `6`},
		{"decrement by a fraction", map[string]any{"n": parse.Increment(-0.5)}, "n", `5.5`},
		{"increment a missing field", map[string]any{"fresh": parse.Increment(3)}, "fresh", `3`},
		{"add keeps duplicates", map[string]any{"list": parse.Add("y", "x")}, "list", `["x","x","y","x"]`},
		{"add unique appends only new ones", map[string]any{"set": parse.AddUnique("b", "c", "c")}, "set", `["a","b","c"]`},
		{"remove every occurrence", map[string]any{"list": parse.Remove("x", "absent")}, "list", `["y"]`},
		{"set nested path", map[string]any{"stats.wins": 2}, "stats", `{"wins":2}`},
		{"increment nested path", map[string]any{"stats.wins": parse.Increment(2)}, "stats", `{"wins":4}`},
		{"delete", map[string]any{"set": parse.Delete()}, "set", `null`},
	}
	for _, tt := range tests {
		u, err := app.Objects.Update(ctx, "Ops", o.ID, tt.update)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := string(parse.AppendJSON(nil, u.Fields[tt.field])); got != tt.want {
			t.Fatalf("%s: %s = %s, want %s", tt.name, tt.field, got, tt.want)
		}
	}
	_, err = app.Objects.Update(ctx, "Ops", o.ID, map[string]any{"list": parse.Increment(1)})
	wantCode(t, err, parse.IncorrectType)
}

func TestObjectsRelations(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	t1, _ := app.Objects.Create(ctx, "Tag", map[string]any{"name": "go"})
	t2, _ := app.Objects.Create(ctx, "Tag", map[string]any{"name": "pg"})
	post, err := app.Objects.Create(ctx, "Post", map[string]any{"title": "hi", "tags": parse.AddRelation(t1.Pointer())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Objects.Update(ctx, "Post", post.ID, map[string]any{"tags": parse.AddRelation(t2.Pointer())}); err != nil {
		t.Fatal(err)
	}
	related := func() []string {
		list, err := app.Query("Tag").Where(map[string]any{"$relatedTo": map[string]any{
			"object": map[string]any{"__type": "Pointer", "className": "Post", "objectId": post.ID}, "key": "tags"}}).Order("name").Find(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range list {
			names = append(names, o.Fields["name"].(string))
		}
		return names
	}
	if got := strings.Join(related(), ","); got != "go,pg" {
		t.Fatalf("related = %s", got)
	}
	got, _ := app.Objects.Get(ctx, "Post", post.ID)
	if got.Fields["tags"] != (parse.Relation{ClassName: "Tag"}) {
		t.Fatalf("relation field reads as %#v", got.Fields["tags"])
	}
	if _, err := app.Objects.Update(ctx, "Post", post.ID, map[string]any{"tags": parse.RemoveRelation(t1.Pointer())}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(related(), ","); got != "pg" {
		t.Fatalf("related after remove = %s", got)
	}
	_, err = app.Objects.Update(ctx, "Post", post.ID, map[string]any{"tags": parse.AddRelation(post.Pointer())})
	wantCode(t, err, parse.IncorrectType)
}

// TestObjectsBadInput checks that invalid writes get their Parse code and
// store nothing.
func TestObjectsBadInput(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	seed, err := app.Objects.Create(ctx, "Bad", map[string]any{"score": 1, "when": time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("x", 17<<20)
	creates := []struct {
		name   string
		class  string
		fields map[string]any
		code   int
	}{
		{"class name with a dash", "bad-name", map[string]any{"a": 1}, parse.InvalidJSON},
		{"class name with a leading digit", "1Bad", map[string]any{"a": 1}, parse.InvalidJSON},
		{"unknown system class", "_Unknown", map[string]any{"a": 1}, parse.InvalidJSON},
		{"objectId in fields", "Bad", map[string]any{"objectId": "abcdefghij"}, parse.InvalidKeyName},
		{"leading underscore", "Bad", map[string]any{"_private": 1}, parse.InvalidKeyName},
		{"space in a field name", "Bad", map[string]any{"bl ng": 1}, parse.InvalidKeyName},
		{"dot in a field name on create", "Bad", map[string]any{"a.b": 1}, parse.InvalidKeyName},
		{"string into a number", "Bad", map[string]any{"score": "high"}, parse.IncorrectType},
		{"createdAt as a string", "Bad", map[string]any{"createdAt": "yesterday"}, parse.IncorrectType},
		{"unsupported Go type", "Bad", map[string]any{"c": make(chan int)}, parse.IncorrectType},
		{"dollar in a nested key", "Bad", map[string]any{"o": map[string]any{"$k": 1}}, parse.InvalidNestedKey},
		{"second GeoPoint field", "Bad", map[string]any{"p1": parse.GeoPoint{}, "p2": parse.GeoPoint{Latitude: 1}}, parse.IncorrectType},
		{"bad ACL", "Bad", map[string]any{"ACL": map[string]any{"u": true}}, parse.InvalidACL},
		{"object too large", "Bad", map[string]any{"big": huge}, parse.ObjectTooLarge},
	}
	for _, tt := range creates {
		_, err := app.Objects.Create(ctx, tt.class, tt.fields)
		if got := parse.ErrorCode(err); got != tt.code {
			t.Errorf("%s: %v, want code %d", tt.name, err, tt.code)
		}
	}
	updates := []struct {
		name   string
		id     string
		fields map[string]any
		code   int
	}{
		{"unknown objectId", "aaaaaaaaaa", map[string]any{"score": 2}, parse.ObjectNotFound},
		{"number into a date", seed.ID, map[string]any{"when": 5}, parse.IncorrectType},
		{"pointer into a number", seed.ID, map[string]any{"score": parse.Pointer{ClassName: "_User", ObjectID: "x"}}, parse.IncorrectType},
		{"increment a date", seed.ID, map[string]any{"when": parse.Increment(1)}, parse.IncorrectType},
		{"invalid field name", seed.ID, map[string]any{"bl!ng": 1}, parse.InvalidKeyName},
		{"another objectId", seed.ID, map[string]any{"objectId": "zzzzzzzzzz"}, parse.InvalidKeyName},
	}
	for _, tt := range updates {
		_, err := app.Objects.Update(ctx, "Bad", tt.id, tt.fields)
		if got := parse.ErrorCode(err); got != tt.code {
			t.Errorf("%s: %v, want code %d", tt.name, err, tt.code)
		}
	}
	n, err := app.Query("Bad").Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Bad holds %d objects (%v), want only the seed", n, err)
	}
	got, _ := app.Objects.Get(ctx, "Bad", seed.ID)
	if got.Fields["score"] != 1.0 || len(got.Fields) != 2 {
		t.Fatalf("seed changed: %v", got.Fields)
	}
	if _, err := app.Schemas.Get(ctx, "bad-name"); err == nil {
		t.Fatal("a class with an invalid name exists")
	}
}

func TestObjectsReadOnlyMasterKey(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	ro := parse.WithAuth(ctx, parse.Auth{Master: true, ReadOnly: true})
	_, err := app.Objects.Create(ro, "RO", map[string]any{"a": 1})
	wantCode(t, err, parse.OperationForbidden)
}

// TestConcurrentIncrements: 50 writers × 200 increments each land exactly
// 10,000, because the store applies Increment in SQL.
func TestConcurrentIncrements(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	o, err := app.Objects.Create(ctx, "Counter", map[string]any{"hits": 0})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			for range 200 {
				if _, err := app.Objects.Update(ctx, "Counter", o.ID, map[string]any{"hits": parse.Increment(1)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := app.Objects.Get(ctx, "Counter", o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fields["hits"] != 10000.0 {
		t.Fatalf("hits = %v, want 10000", got.Fields["hits"])
	}
}

func TestTxRollsBackEverything(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	boom := errors.New("boom")
	err := app.Tx(ctx, func(ctx context.Context) error {
		if _, err := app.Objects.Create(ctx, "TxNew", map[string]any{"a": 1}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx returned %v", err)
	}
	if _, err := app.Schemas.Get(ctx, "TxNew"); parse.ErrorCode(err) != parse.InvalidClassName {
		t.Fatalf("class created in a rolled-back transaction survives: %v", err)
	}
	// The class can be created again afterwards.
	if _, err := app.Objects.Create(ctx, "TxNew", map[string]any{"a": "now a string"}); err != nil {
		t.Fatal(err)
	}
}

func TestCreateManyIsolatesFailures(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	objs, errs := app.Objects.CreateMany(ctx, "Many", []map[string]any{{"i": 1}, {"i": "bad"}, {"i": 3}})
	if errs[0] != nil || errs[2] != nil || objs[0] == nil || objs[2] == nil {
		t.Fatalf("good objects failed: %v", errs)
	}
	wantCode(t, errs[1], parse.IncorrectType)
	n, _ := app.Query("Many").Count(ctx)
	if n != 2 {
		t.Fatalf("%d objects stored, want 2", n)
	}
}

func TestQueryKeysIncludeCount(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	author, _ := app.Objects.Create(ctx, "Author", map[string]any{"name": "ann", "age": 40})
	secret, _ := app.Objects.Create(ctx, "Author", map[string]any{"name": "bob", "ACL": parse.ACL{}})
	for i := range 5 {
		f := map[string]any{"n": i, "title": "t", "author": author.Pointer()}
		if i == 4 {
			f["author"] = secret.Pointer()
		}
		if _, err := app.Objects.Create(ctx, "Book", f); err != nil {
			t.Fatal(err)
		}
	}
	public := parse.WithAuth(ctx, parse.Auth{})
	books, err := app.Query("Book").GreaterThanOrEqualTo("n", 1).Order("-n").Limit(3).Keys("n", "author.name").Find(public)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range books {
		got = append(got, string(parse.AppendJSON(nil, b.Fields)))
	}
	want := []string{
		`{"n":4}`, // bob's ACL hides him: the include drops the pointer
		`{"author":{"__type":"Object","className":"Author","objectId":"` + author.ID + `","createdAt":"` + parse.FormatDate(author.CreatedAt) +
			`","updatedAt":"` + parse.FormatDate(author.CreatedAt) + `","name":"ann"},"n":3}`,
	}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("keys+include:\n got %v\nwant %v…", got, want)
	}
	n, err := app.Query("Book").LessThan("n", 3).Limit(0).Count(public)
	if err != nil || n != 3 {
		t.Fatalf("count = %d, %v", n, err)
	}
	none, err := app.Query("NeverCreated").Find(public)
	if err != nil || len(none) != 0 {
		t.Fatalf("missing class: %v %v", none, err)
	}
}
