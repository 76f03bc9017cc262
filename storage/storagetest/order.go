package storagetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parsego/parse/storage"
)

func asc(f string) storage.Sort  { return storage.Sort{Field: f} }
func desc(f string) storage.Sort { return storage.Sort{Field: f, Desc: true} }

func testOrderLimitSkip(t *testing.T, o opener) {
	// OrderIndexed runs the cases with a schema index on score, which an
	// adapter may walk (the PostgreSQL one, on score's number column).
	for _, name := range []string{"Order", "OrderIndexed"} {
		t.Run(name, func(t *testing.T) { testOrder(t, o, name == "OrderIndexed") })
	}

	t.Run("LimitWithoutOrder", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		var objs []storage.Object
		for i := range 10 {
			objs = append(objs, obj(fmt.Sprintf("o%d", i), fmt.Sprintf(`{"n":%d}`, i)))
		}
		mustInsert(t, ctx, s, "Item", objs...)
		got := mustFind(t, ctx, s, "Item", storage.Query{Limit: 3})
		if len(got) != 3 {
			t.Errorf("Limit 3 returned %d objects", len(got))
		}
		got = mustFind(t, ctx, s, "Item", storage.Query{Skip: 8})
		if len(got) != 2 {
			t.Errorf("Skip 8 of 10 returned %d objects", len(got))
		}
		// Pages of a stable order cover every object once.
		var pages []string
		for skip := 0; skip < 10; skip += 4 {
			page := mustFind(t, ctx, s, "Item", storage.Query{Order: []storage.Sort{desc("n")}, Skip: skip, Limit: 4})
			pages = append(pages, ids(page)...)
		}
		if got, want := strings.Join(pages, ","), "o9,o8,o7,o6,o5,o4,o3,o2,o1,o0"; got != want {
			t.Errorf("pages: %s, want %s", got, want)
		}
	})

	t.Run("TiesInInsertionOrder", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Tie", "n", "Number", "same", "Number")
		// Twelve objects created in one millisecond, their IDs in the
		// reverse of their creation order: the first six inserted one by
		// one, the rest in one Insert, as a batch.
		var want []string
		var batch []storage.Object
		for i := range 12 {
			id := fmt.Sprintf("t%02d", 99-i)
			want = append(want, id)
			o := obj(id, fmt.Sprintf(`{"n":%d,"same":1}`, i))
			if i < 6 {
				mustInsert(t, ctx, s, "Tie", o)
			} else {
				batch = append(batch, o)
			}
		}
		mustInsert(t, ctx, s, "Tie", batch...)
		// An update leaves an object's place among its ties.
		mustUpdate(t, ctx, s, "Tie", want[3], update(opSet("n", "30")))
		reversed := slices.Clone(want)
		slices.Reverse(reversed)
		cases := []struct {
			name  string
			order []storage.Sort
			want  []string
		}{
			{"CreatedAtAsc", []storage.Sort{asc("createdAt")}, want},
			{"CreatedAtDesc", []storage.Sort{desc("createdAt")}, reversed},
			{"FieldAsc", []storage.Sort{asc("same")}, want},
			{"FieldThenCreatedAtDesc", []storage.Sort{asc("same"), desc("createdAt")}, reversed},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				q := storage.Query{Order: c.order}
				wantIDs(t, describeQuery(q), mustFind(t, ctx, s, "Tie", q), c.want...)
				// Pages of it cover every object once, in the same order.
				var pages []storage.Object
				for skip := 0; skip < 12; skip += 5 {
					q := storage.Query{Order: c.order, Skip: skip, Limit: 5}
					pages = append(pages, mustFind(t, ctx, s, "Tie", q)...)
				}
				wantIDs(t, "pages of "+describeQuery(q), pages, c.want...)
			})
		}
	})
}

func testOrder(t *testing.T, o opener, indexed bool) {
	ctx, s := o.fresh(t)
	mustClass(t, ctx, s, "Rank", "score", "Number", "name", "String", "nest", "Object", "when", "Date")
	if indexed {
		if _, err := s.UpdateClass(ctx, "Rank", storage.ClassUpdate{AddIndexes: map[string]map[string]any{"score_1": {"score": 1.0}}}); err != nil {
			t.Fatalf("UpdateClass AddIndexes: %v", err)
		}
	}
	// rN is created at at(N) and updated at at(11-N). r4 lacks score,
	// nest and when.
	data := []string{
		`{"score":10,"name":"b","nest":{"k":3},"when":` + date("2021-01-01T00:00:00.000Z") + `}`,
		`{"score":5,"name":"a","nest":{"k":1},"when":` + date("2019-01-01T00:00:00.000Z") + `}`,
		`{"score":10,"name":"a","nest":{"k":2},"when":` + date("2020-01-01T00:00:00.000Z") + `}`,
		`{"name":"c"}`,
		`{"score":-1,"name":"d","nest":{"k":4},"when":` + date("2022-01-01T00:00:00.000Z") + `}`,
	}
	objs := make([]storage.Object, len(data))
	for i, d := range data {
		objs[i] = storage.Object{ID: fmt.Sprintf("r%d", i+1), CreatedAt: at(i + 1), UpdatedAt: at(11 - (i + 1)), Data: raw(d)}
	}
	mustInsert(t, ctx, s, "Rank", objs...)
	cases := []struct {
		name string
		q    storage.Query
		want []string
	}{
		// Missing values come after present ones ascending and before
		// them descending (PostgreSQL's NULLS LAST / NULLS FIRST
		// defaults, as the reference Parse Server answers).
		{"NumberAscMissingLast", storage.Query{Order: []storage.Sort{asc("score"), asc("name")}}, []string{"r5", "r2", "r3", "r1", "r4"}},
		{"NumberDescMissingFirst", storage.Query{Order: []storage.Sort{desc("score"), asc("name")}}, []string{"r4", "r3", "r1", "r2", "r5"}},
		{"BothDesc", storage.Query{Order: []storage.Sort{desc("score"), desc("name")}}, []string{"r4", "r1", "r3", "r2", "r5"}},
		{"StringThenCreatedAt", storage.Query{Order: []storage.Sort{asc("name"), desc("createdAt")}}, []string{"r3", "r2", "r1", "r4", "r5"}},
		{"DotPathAsc", storage.Query{Order: []storage.Sort{asc("nest.k")}}, []string{"r2", "r3", "r1", "r5", "r4"}},
		{"DotPathDesc", storage.Query{Order: []storage.Sort{desc("nest.k")}}, []string{"r4", "r5", "r1", "r3", "r2"}},
		{"DateAsc", storage.Query{Order: []storage.Sort{asc("when")}}, []string{"r2", "r3", "r1", "r5", "r4"}},
		{"DateDesc", storage.Query{Order: []storage.Sort{desc("when")}}, []string{"r4", "r5", "r1", "r3", "r2"}},
		{"CreatedAtAsc", storage.Query{Order: []storage.Sort{asc("createdAt")}}, []string{"r1", "r2", "r3", "r4", "r5"}},
		{"CreatedAtDesc", storage.Query{Order: []storage.Sort{desc("createdAt")}}, []string{"r5", "r4", "r3", "r2", "r1"}},
		{"UpdatedAtAsc", storage.Query{Order: []storage.Sort{asc("updatedAt")}}, []string{"r5", "r4", "r3", "r2", "r1"}},
		{"ObjectIDDesc", storage.Query{Order: []storage.Sort{desc("objectId")}}, []string{"r5", "r4", "r3", "r2", "r1"}},
		{"WithWhere", storage.Query{Where: gt("score", 0.0), Order: []storage.Sort{asc("score"), asc("name")}}, []string{"r2", "r3", "r1"}},
		{"Limit", storage.Query{Order: []storage.Sort{asc("createdAt")}, Limit: 2}, []string{"r1", "r2"}},
		{"SkipLimit", storage.Query{Order: []storage.Sort{asc("createdAt")}, Skip: 2, Limit: 2}, []string{"r3", "r4"}},
		{"SkipToLast", storage.Query{Order: []storage.Sort{asc("createdAt")}, Skip: 4, Limit: 10}, []string{"r5"}},
		{"SkipAll", storage.Query{Order: []storage.Sort{asc("createdAt")}, Skip: 5}, nil},
		{"SkipPastEnd", storage.Query{Order: []storage.Sort{asc("createdAt")}, Skip: 100, Limit: 3}, nil},
		{"LimitZeroIsNoCap", storage.Query{Order: []storage.Sort{asc("createdAt")}, Limit: 0}, []string{"r1", "r2", "r3", "r4", "r5"}},
		{"LimitZeroWithSkip", storage.Query{Order: []storage.Sort{asc("createdAt")}, Skip: 3}, []string{"r4", "r5"}},
		{"LimitAboveCount", storage.Query{Order: []storage.Sort{desc("createdAt")}, Limit: 100}, []string{"r5", "r4", "r3", "r2", "r1"}},
		{"LimitOneDesc", storage.Query{Order: []storage.Sort{desc("score")}, Limit: 1}, []string{"r4"}},
		{"WhereSkipLimit", storage.Query{Where: gt("score", 0.0), Order: []storage.Sort{asc("score"), asc("name")}, Skip: 1, Limit: 1}, []string{"r3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := mustFind(t, t.Context(), s, "Rank", c.q)
			wantIDs(t, describeQuery(c.q), got, c.want...)
		})
	}
}
