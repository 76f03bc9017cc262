package sqlite_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/storage"
)

// The benchmarks compare the embedded store with the PostgreSQL one on what
// an App does most: a Get by id, a Find by equality (on an indexed field, as
// ../shared/bench's query-eq, and on one without an index) on 10,000
// objects, and an Insert. The PostgreSQL runs skip when it is unreachable.

var benchStores = []struct {
	name string
	open func(b *testing.B) storage.Store
}{
	{"sqlite", func(b *testing.B) storage.Store { return open(b) }},
	{"postgres", func(b *testing.B) storage.Store { return pgtest.NewStore(b) }},
}

func fill(b *testing.B, s storage.Store, n int) {
	b.Helper()
	ctx := b.Context()
	// The index ../shared/bench's seeding adds on the field it queries.
	c := storage.Class{Name: "Bench", Indexes: map[string]map[string]any{"group_1": {"group": 1.0}},
		Fields: map[string]storage.Field{"n": {Type: "Number"}, "name": {Type: "String"}, "group": {Type: "String"}}}
	if _, err := s.CreateClass(ctx, c); err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	objs := make([]storage.Object, n)
	for i := range objs {
		objs[i] = storage.Object{ID: fmt.Sprintf("o%d", i), CreatedAt: t0, UpdatedAt: t0, ReadPerm: []string{"*"},
			Data: json.RawMessage(fmt.Sprintf(`{"n":%d,"name":"name %d","group":"g%d"}`, i, i, i%500))}
	}
	if err := s.Insert(ctx, "Bench", objs...); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkGet(b *testing.B) {
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			fill(b, s, 10000)
			for b.Loop() {
				if _, err := s.Get(b.Context(), "Bench", "o1234", []string{"*", "u1"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFindEq(b *testing.B) {
	benchFind(b, storage.Cmp{Field: "group", Op: storage.Eq, Value: "g42"}, 20)
}

func BenchmarkFindEqUnindexed(b *testing.B) {
	benchFind(b, storage.Cmp{Field: "name", Op: storage.Eq, Value: "name 42"}, 1)
}

func benchFind(b *testing.B, where storage.Cond, want int) {
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			fill(b, s, 10000)
			q := storage.Query{Where: where, ReadPerm: []string{"*", "u1"}, Limit: 100}
			for b.Loop() {
				if objs, err := s.Find(b.Context(), "Bench", q); err != nil || len(objs) != want {
					b.Fatal(len(objs), err)
				}
			}
		})
	}
}

func BenchmarkInsert(b *testing.B) {
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			fill(b, s, 0)
			i := 0
			for b.Loop() {
				i++
				o := storage.Object{ID: fmt.Sprintf("x%d", i), CreatedAt: time.Now(), UpdatedAt: time.Now(), Data: json.RawMessage(`{"score":1337,"group":"g1"}`)}
				if err := s.Insert(b.Context(), "Bench", o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
