package postgres_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/storage"
)

// The benchmarks measure the adapter's overhead over a bare pgx query (the
// "floor") on the calls an App makes most.

func benchStore(b *testing.B, n int) storage.Store {
	b.Helper()
	s := pgtest.NewStore(b)
	ctx := b.Context()
	if _, err := s.CreateClass(ctx, storage.Class{Name: "Bench"}); err != nil {
		b.Fatal(err)
	}
	objs := make([]storage.Object, n)
	for i := range objs {
		objs[i] = storage.Object{ID: fmt.Sprintf("o%d", i), CreatedAt: t0, UpdatedAt: t0, ReadPerm: []string{"*"},
			Data: json.RawMessage(fmt.Sprintf(`{"n":%d,"name":"name %d","owner":{"__type":"Pointer","className":"_User","objectId":"u%d"}}`, i, i, i%10))}
	}
	if err := s.Insert(ctx, "Bench", objs...); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkGetFloor(b *testing.B) {
	s := benchStore(b, 100)
	ns := s.(interface{ Namespace() string }).Namespace()
	conn, err := pgx.Connect(b.Context(), pgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	sql := `SELECT "objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "data" FROM ` + pgx.Identifier{ns, "Bench"}.Sanitize() + ` WHERE "objectId" = $1`
	var o storage.Object
	var data []byte
	for b.Loop() {
		if err := conn.QueryRow(b.Context(), sql, "o1").Scan(&o.ID, &o.CreatedAt, &o.UpdatedAt, &o.ReadPerm, &o.WritePerm, &data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	s := benchStore(b, 100)
	for b.Loop() {
		if _, err := s.Get(b.Context(), "Bench", "o1", []string{"*", "u1"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFindPointer(b *testing.B) {
	s := benchStore(b, 1000)
	q := storage.Query{
		Where:    storage.Cmp{Field: "owner", Op: storage.Eq, Value: json.RawMessage(`{"__type":"Pointer","className":"_User","objectId":"u3"}`)},
		ReadPerm: []string{"*"}, Order: []storage.Sort{{Field: "createdAt", Desc: true}}, Limit: 20,
	}
	for b.Loop() {
		if objs, err := s.Find(b.Context(), "Bench", q); err != nil || len(objs) != 20 {
			b.Fatal(len(objs), err)
		}
	}
}

func BenchmarkUpdateIncrement(b *testing.B) {
	s := benchStore(b, 100)
	u := storage.Update{UpdatedAt: t1, WritePerm: []string{"*"}, Ops: []storage.Op{{Field: "n", Kind: storage.OpIncrement, Value: json.RawMessage("1")}}}
	for b.Loop() {
		if _, err := s.Update(b.Context(), "Bench", "o1", u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInsert(b *testing.B) {
	s := benchStore(b, 0)
	i := 0
	for b.Loop() {
		i++
		o := storage.Object{ID: fmt.Sprintf("x%d", i), CreatedAt: t0, UpdatedAt: t0, Data: json.RawMessage(`{"a":1}`)}
		if err := s.Insert(b.Context(), "Bench", o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdateIncrementFloor(b *testing.B) {
	s := benchStore(b, 100)
	ns := s.(interface{ Namespace() string }).Namespace()
	conn, err := pgx.Connect(b.Context(), pgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	sql := `UPDATE ` + pgx.Identifier{ns, "Bench"}.Sanitize() + ` SET "data" = jsonb_set("data", '{n}', to_jsonb(("data"->>'n')::float8 + 1)), "updatedAt" = $2 WHERE "objectId" = $1 RETURNING "objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "data"`
	var o storage.Object
	var data []byte
	for b.Loop() {
		if err := conn.QueryRow(b.Context(), sql, "o1", t1).Scan(&o.ID, &o.CreatedAt, &o.UpdatedAt, &o.ReadPerm, &o.WritePerm, &data); err != nil {
			b.Fatal(err)
		}
	}
}
