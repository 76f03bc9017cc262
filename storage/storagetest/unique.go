package storagetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/parsego/parse/storage"
)

// uniqueClass creates Account with a case-insensitive unique username and a
// case-sensitive unique code.
func uniqueClass(t *testing.T, ctx context.Context, s storage.Store) storage.Class {
	t.Helper()
	c, err := s.CreateClass(ctx, storage.Class{
		Name:   "Account",
		Fields: fields("username", "String", "code", "String", "n", "Number"),
		Unique: []storage.Unique{
			{Field: "username", CaseInsensitive: true},
			{Field: "code"},
		},
	})
	if err != nil {
		t.Fatalf("CreateClass with unique fields: %v", err)
	}
	return c
}

// wantDuplicate checks that err reports a duplicate value of field.
func wantDuplicate(t *testing.T, what string, err error, field string) {
	t.Helper()
	if !errors.Is(err, storage.ErrDuplicateValue) {
		t.Errorf("%s: got error %v, want ErrDuplicateValue", what, err)
		return
	}
	if field == "" {
		return
	}
	var de *storage.DuplicateError
	if !errors.As(err, &de) {
		t.Errorf("%s: error %v is not a *storage.DuplicateError", what, err)
		return
	}
	if de.Field != field {
		t.Errorf("%s: DuplicateError.Field = %q, want %q", what, de.Field, field)
	}
}

func testUnique(t *testing.T, o opener) {
	t.Run("SchemaShowsUnique", func(t *testing.T) {
		ctx, s := o.fresh(t)
		c := uniqueClass(t, ctx, s)
		want := []storage.Unique{{Field: "code"}, {Field: "username", CaseInsensitive: true}}
		wantUniques(t, "CreateClass result", c.Unique, want)
		wantUniques(t, "LoadSchema", loadClass(t, ctx, s, "Account").Unique, want)
	})

	t.Run("CaseInsensitive", func(t *testing.T) {
		ctx, s := o.fresh(t)
		uniqueClass(t, ctx, s)
		mustInsert(t, ctx, s, "Account", obj("a1", `{"username":"Alice","code":"X1"}`))
		err := s.Insert(ctx, "Account", obj("a2", `{"username":"alice","code":"X2"}`))
		wantDuplicate(t, `"alice" after "Alice"`, err, "username")
		err = s.Insert(ctx, "Account", obj("a3", `{"username":"ALICE","code":"X3"}`))
		wantDuplicate(t, `"ALICE" after "Alice"`, err, "username")
		err = s.Insert(ctx, "Account", obj("a4", `{"username":"Alice","code":"X4"}`))
		wantDuplicate(t, `"Alice" after "Alice"`, err, "username")
		for _, id := range []string{"a2", "a3", "a4"} {
			_, err := s.Get(ctx, "Account", id, nil)
			wantErr(t, "Get of a rejected object", err, storage.ErrNotFound)
		}
		mustInsert(t, ctx, s, "Account", obj("a5", `{"username":"Alicia","code":"X5"}`))
	})

	t.Run("CaseSensitive", func(t *testing.T) {
		ctx, s := o.fresh(t)
		uniqueClass(t, ctx, s)
		mustInsert(t, ctx, s, "Account", obj("a1", `{"username":"alice","code":"X1"}`))
		mustInsert(t, ctx, s, "Account", obj("a2", `{"username":"bob","code":"x1"}`))
		err := s.Insert(ctx, "Account", obj("a3", `{"username":"carol","code":"X1"}`))
		wantDuplicate(t, `code "X1" twice`, err, "code")
		wantIDSet(t, "stored", mustFind(t, ctx, s, "Account", storage.Query{}), "a1", "a2")
	})

	t.Run("MissingValuesDoNotCollide", func(t *testing.T) {
		// Decision: objects lacking a unique field (users without an email)
		// do not collide with one another.
		ctx, s := o.fresh(t)
		uniqueClass(t, ctx, s)
		mustInsert(t, ctx, s, "Account", obj("a1", `{"code":"X1"}`))
		mustInsert(t, ctx, s, "Account", obj("a2", `{"code":"X2"}`))
		mustInsert(t, ctx, s, "Account", obj("a3", `{"username":"u"}`), obj("a4", `{}`))
		wantIDSet(t, "stored", mustFind(t, ctx, s, "Account", storage.Query{}), "a1", "a2", "a3", "a4")
	})

	t.Run("MultiInsertAllOrNothing", func(t *testing.T) {
		ctx, s := o.fresh(t)
		uniqueClass(t, ctx, s)
		mustInsert(t, ctx, s, "Account", obj("a1", `{"username":"alice","code":"X1"}`))
		// The last object collides with a stored one.
		err := s.Insert(ctx, "Account",
			obj("b1", `{"username":"bob","code":"B1"}`),
			obj("b2", `{"username":"carol","code":"B2"}`),
			obj("b3", `{"username":"ALICE","code":"B3"}`))
		wantDuplicate(t, "batch colliding with a stored object", err, "username")
		// Two objects of the batch collide with each other.
		err = s.Insert(ctx, "Account",
			obj("c1", `{"username":"dave","code":"C1"}`),
			obj("c2", `{"username":"erin","code":"C1"}`))
		wantDuplicate(t, "batch colliding with itself", err, "code")
		wantIDSet(t, "stored after the failed batches", mustFind(t, ctx, s, "Account", storage.Query{}), "a1")
		// The values of the failed batches are free.
		mustInsert(t, ctx, s, "Account", obj("d1", `{"username":"bob","code":"C1"}`))
	})

	t.Run("DuplicateObjectID", func(t *testing.T) {
		// Decision: an objectId that is taken is a duplicate value, like
		// Mongo's duplicate _id, and leaves the stored object alone.
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "a", "Number")
		first := obj("x1", `{"a":1}`)
		mustInsert(t, ctx, s, "Item", first)
		err := s.Insert(ctx, "Item", obj("x2", `{"a":2}`), obj("x1", `{"a":3}`))
		wantDuplicate(t, "insert of a taken objectId", err, "")
		wantUnchanged(t, ctx, s, "Item", first)
		_, err = s.Get(ctx, "Item", "x2", nil)
		wantErr(t, "Get of the batch's other object", err, storage.ErrNotFound)
	})

	t.Run("Update", func(t *testing.T) {
		// Decision: Update that makes a unique value collide fails with a
		// duplicate error too (the contract lists ErrDuplicateValue among
		// the errors no adapter reports as a driver error).
		ctx, s := o.fresh(t)
		uniqueClass(t, ctx, s)
		mustInsert(t, ctx, s, "Account",
			obj("a1", `{"username":"alice","code":"X1"}`),
			obj("a2", `{"username":"bob","code":"X2","n":1}`))
		_, err := s.Update(ctx, "Account", "a2", update(opSet("username", `"Alice"`), opIncrement("n", "1")))
		wantDuplicate(t, "Update to a taken username", err, "username")
		wantUnchanged(t, ctx, s, "Account", obj("a2", `{"username":"bob","code":"X2","n":1}`))
		mustUpdate(t, ctx, s, "Account", "a2", update(opSet("username", `"Bobby"`)))
		// An object may keep its own value.
		mustUpdate(t, ctx, s, "Account", "a1", update(opSet("username", `"ALICE"`)))
	})
}

func wantUniques(t *testing.T, what string, got, want []storage.Unique) {
	t.Helper()
	cmp := func(a, b storage.Unique) int {
		if a.Field < b.Field {
			return -1
		}
		if a.Field > b.Field {
			return 1
		}
		return 0
	}
	g := slices.Clone(got)
	slices.SortFunc(g, cmp)
	w := slices.Clone(want)
	slices.SortFunc(w, cmp)
	if !slices.Equal(g, w) {
		t.Errorf("%s: Unique = %+v, want %+v", what, got, want)
	}
}
