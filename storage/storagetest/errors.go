package storagetest

import (
	"fmt"
	"testing"

	"github.com/parsego/parse/storage"
)

// badFields are field names no App lets through; a store still refuses
// them instead of building a statement from them.
var badFields = []string{`a'b`, `a;drop`, `a"b`, `a) OR (1=1 --`, `obj.a'b`, `a\`}

func testErrors(t *testing.T, o opener) {
	t.Run("InvalidFieldName", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "a", "String", "obj", "Object")
		orig := obj("x", `{"a":"v","obj":{"k":1}}`)
		mustInsert(t, ctx, s, "Item", orig)
		for _, f := range badFields {
			conds := []storage.Cond{
				eq(f, "v"),
				ne(f, nil),
				lt(f, 1.0),
				in(f, "v"),
				nin(f, "v"),
				exists(f, true),
				all(f, "v"),
				re(f, "v", ""),
				storage.And{eq("a", "v"), eq(f, "v")},
				storage.Or{eq("a", "v"), storage.Nor{exists(f, false)}},
			}
			for _, c := range conds {
				what := describeCond(c)
				noPanic(t, "Find "+what, func() {
					_, err := s.Find(ctx, "Item", storage.Query{Where: c})
					wantErr(t, "Find "+what, err, storage.ErrInvalidQuery)
				})
				noPanic(t, "Count "+what, func() {
					_, err := s.Count(ctx, "Item", storage.Query{Where: c})
					wantErr(t, "Count "+what, err, storage.ErrInvalidQuery)
				})
			}
			c := eq(f, "v")
			noPanic(t, "Update where "+f, func() {
				u := update(opSet("a", `"w"`))
				u.Where = c
				_, err := s.Update(ctx, "Item", "x", u)
				wantErr(t, fmt.Sprintf("Update where %q", f), err, storage.ErrInvalidQuery)
			})
			noPanic(t, "Update field "+f, func() {
				_, err := s.Update(ctx, "Item", "x", update(opSet(f, `"w"`)))
				wantErr(t, fmt.Sprintf("Update of field %q", f), err, storage.ErrInvalidQuery)
			})
			noPanic(t, "Delete where "+f, func() {
				err := s.Delete(ctx, "Item", "x", nil, c)
				wantErr(t, fmt.Sprintf("Delete where %q", f), err, storage.ErrInvalidQuery)
			})
			noPanic(t, "DeleteMany where "+f, func() {
				_, err := s.DeleteMany(ctx, "Item", c)
				wantErr(t, fmt.Sprintf("DeleteMany where %q", f), err, storage.ErrInvalidQuery)
			})
			noPanic(t, "Find order "+f, func() {
				_, err := s.Find(ctx, "Item", storage.Query{Order: []storage.Sort{asc(f)}})
				wantErr(t, fmt.Sprintf("Find ordered by %q", f), err, storage.ErrInvalidQuery)
			})
		}
		wantUnchanged(t, ctx, s, "Item", orig)
		wantIDSet(t, "objects", mustFind(t, ctx, s, "Item", storage.Query{}), "x")
		wantIDSet(t, "classes are intact", mustFind(t, ctx, s, "Item", storage.Query{Where: eq("a", "v")}), "x")
	})

	t.Run("InvalidRegex", func(t *testing.T) {
		// Decision: a pattern that does not compile is an invalid query.
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "a", "String")
		mustInsert(t, ctx, s, "Item", obj("x", `{"a":"v"}`))
		for _, p := range []string{"(", "[a-", `a{2,1}`, `\`} {
			noPanic(t, "Find regex "+p, func() {
				_, err := s.Find(ctx, "Item", storage.Query{Where: re("a", p, "")})
				wantErr(t, fmt.Sprintf("Find with regex %q", p), err, storage.ErrInvalidQuery)
			})
			noPanic(t, "Count regex "+p, func() {
				_, err := s.Count(ctx, "Item", storage.Query{Where: re("a", p, "")})
				wantErr(t, fmt.Sprintf("Count with regex %q", p), err, storage.ErrInvalidQuery)
			})
		}
	})
}
