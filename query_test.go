package parse_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/parsego/parse"
)

// AppendFind copies plain stored documents to the wire without decoding
// them; what it writes must be what Find's objects encode to, for every
// value type, for objects it copies and for those it has to decode.
func TestAppendFindMatchesFind(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	team, err := app.Objects.Create(ctx, "Team", map[string]any{"name": "red"})
	if err != nil {
		t.Fatal(err)
	}
	docs := []map[string]any{
		{"n": 1, "f": 1.5, "big": 1e21, "neg": -0.25, "s": "é \"quoted\" \\ \u2028 <tag>", "b": true, "null": nil,
			"when": parse.FormatDate(team.CreatedAt), "team": team.Pointer(), "pos": parse.GeoPoint{Latitude: 40, Longitude: -30},
			"blob": parse.Bytes("hi"), "tags": []any{"a", 2, nil, map[string]any{"x": []any{}}}, "stats": map[string]any{"wins": 3, "deep": map[string]any{}}},
		{"n": 2, "file": parse.File{Name: "abc_pic.png"}},
		{"n": 3, "stats": map[string]any{"inner": parse.File{Name: "abc_doc.txt"}}},
		{"n": 4, "s": "File"},
		{"n": 5, "ACL": parse.ACL{"someone": {Read: true, Write: true}}},
		{"n": 6},
	}
	for _, d := range docs {
		if _, err := app.Objects.Create(ctx, "Mixed", d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := app.Objects.Update(ctx, "Team", team.ID, map[string]any{"members": parse.AddRelation(team.Pointer())}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Objects.Create(ctx, "Team", map[string]any{"name": "blue"}); err != nil {
		t.Fatal(err)
	}
	// A class whose protected field a client must not see.
	if _, err := app.Objects.Create(ctx, "Guarded", map[string]any{"open": 1, "secret": 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Schemas.Update(ctx, "Guarded", parse.SchemaUpdate{ClassLevelPermissions: json.RawMessage(`{"find":{"*":true},"protectedFields":{"*":["secret"]}}`)}); err != nil {
		t.Fatal(err)
	}
	client := parse.WithAuth(ctx, parse.Auth{})
	for _, tc := range []struct {
		name  string
		query func() *parse.Query
		n     int
		ctx   context.Context // nil: the master key
	}{
		{"protected fields", func() *parse.Query { return app.Query("Guarded") }, 1, client},
		{"every type", func() *parse.Query { return app.Query("Mixed").Order("n") }, 6, nil},
		{"relations", func() *parse.Query { return app.Query("Team").Order("name") }, 2, nil},
		{"keys", func() *parse.Query { return app.Query("Mixed").Order("n").Keys("n", "file") }, 6, nil},
		{"include", func() *parse.Query { return app.Query("Mixed").Order("n").Include("team") }, 6, nil},
		{"system class", func() *parse.Query { return app.Query(parse.ClassUser) }, 0, nil},
		{"limit 0", func() *parse.Query { return app.Query("Mixed").Limit(0) }, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctx
			if tc.ctx != nil {
				ctx = tc.ctx
			}
			objs, err := tc.query().Find(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != tc.n {
				t.Fatalf("%d objects, want %d", len(objs), tc.n)
			}
			want := []byte{'['}
			for i, o := range objs {
				if i > 0 {
					want = append(want, ',')
				}
				want = o.AppendJSON(want)
			}
			want = append(want, ']')
			got, err := tc.query().AppendFind(ctx, []byte{'['})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ']')
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("AppendFind wrote invalid JSON %s: %v", got, err)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("AppendFind wrote\n%s\nFind encodes\n%s", got, want)
			}
		})
	}
}
