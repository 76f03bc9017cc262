package postgres_test

import (
	"errors"
	"testing"

	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/storage"
)

func TestFindJoined(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := t.Context()
	lookup := func(v string) storage.JoinLookup {
		return storage.JoinLookup{Class: "Sess", Field: "token", Value: v, Pointer: "owner", TargetClass: "Owner"}
	}
	// Missing classes: not found, in and out of a transaction.
	if _, _, err := s.FindJoined(ctx, lookup("a")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("no classes: %v", err)
	}
	err := s.Tx(ctx, func(tx storage.Store) error {
		_, _, err := tx.(storage.Joiner).FindJoined(ctx, lookup("a"))
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("no classes, in a transaction: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the transaction was aborted: %v", err)
	}

	if _, err := s.CreateClass(ctx, storage.Class{Name: "Owner"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateClass(ctx, storage.Class{Name: "Sess", Unique: []storage.Unique{{Field: "token"}}}); err != nil {
		t.Fatal(err)
	}
	owner := obj("owner00001", `{"name":"ann"}`)
	owner.ReadPerm, owner.WritePerm = []string{"owner00001"}, []string{}
	if err := s.Insert(ctx, "Owner", owner); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, "Sess",
		obj("sess000001", `{"token":"a","owner":{"__type":"Pointer","className":"Owner","objectId":"owner00001"}}`),
		obj("sess000002", `{"token":"b","owner":{"__type":"Pointer","className":"Owner","objectId":"gone000001"}}`),
		obj("sess000003", `{"token":"c"}`),
	); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		value, id, target string
	}{
		{"a", "sess000001", "owner00001"},
		{"b", "sess000002", ""}, // the pointer's object is gone
		{"c", "sess000003", ""}, // no pointer
	} {
		o, target, err := s.FindJoined(ctx, lookup(tc.value))
		if err != nil {
			t.Fatalf("%s: %v", tc.value, err)
		}
		if o.ID != tc.id || !o.CreatedAt.Equal(t0) {
			t.Fatalf("%s: object %+v", tc.value, o)
		}
		switch {
		case tc.target == "" && target != nil:
			t.Fatalf("%s: target %+v, want none", tc.value, target)
		case tc.target != "" && (target == nil || target.ID != tc.target || string(target.Data) != `{"name": "ann"}` ||
			len(target.ReadPerm) != 1 || target.WritePerm == nil || len(target.WritePerm) != 0 || !target.UpdatedAt.Equal(t0)):
			t.Fatalf("%s: target %+v", tc.value, target)
		}
	}
	if _, _, err := s.FindJoined(ctx, lookup("zzz")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown value: %v", err)
	}
	bad := lookup("a")
	bad.Field = "to'ken"
	if _, _, err := s.FindJoined(ctx, bad); !errors.Is(err, storage.ErrInvalidQuery) {
		t.Fatalf("invalid field: %v", err)
	}
}
