package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/parsego/parse/storage"
)

var errRollback = errors.New("storagetest: roll back")

// txStore opens a store with Team/Player as relStore, plus class Doc with
// objects d1 {"n":1} and d2 {"n":2}, and t1.members holding p1.
func txStore(t *testing.T, o opener) (context.Context, storage.Store) {
	t.Helper()
	ctx, s := relStore(t, o)
	mustClass(t, ctx, s, "Doc", "n", "Number", "s", "String")
	mustInsert(t, ctx, s, "Doc", obj("d1", `{"n":1}`), obj("d2", `{"n":2}`))
	mustAddRelation(t, ctx, s, rel("t1", "members"), "p1")
	return ctx, s
}

// writeAll performs one write of every kind through st.
func writeAll(st storage.Store, ctx context.Context) error {
	if err := st.Insert(ctx, "Doc", obj("d3", `{"n":3}`)); err != nil {
		return fmt.Errorf("Insert: %w", err)
	}
	if _, err := st.Update(ctx, "Doc", "d1", update(opIncrement("n", "10"), opSet("s", `"tx"`))); err != nil {
		return fmt.Errorf("Update: %w", err)
	}
	if err := st.Delete(ctx, "Doc", "d2", nil, nil); err != nil {
		return fmt.Errorf("Delete: %w", err)
	}
	if err := st.AddRelation(ctx, rel("t1", "members"), "p2"); err != nil {
		return fmt.Errorf("AddRelation: %w", err)
	}
	if err := st.RemoveRelation(ctx, rel("t1", "members"), "p1"); err != nil {
		return fmt.Errorf("RemoveRelation: %w", err)
	}
	if n, err := st.DeleteMany(ctx, "Player", eq("name", "d")); err != nil || n != 1 {
		return fmt.Errorf("DeleteMany = %d, %v; want 1", n, err)
	}
	return nil
}

// wantWritten checks the effect of writeAll.
func wantWritten(t *testing.T, ctx context.Context, st storage.Store) {
	t.Helper()
	wantIDSet(t, "Doc objects", mustFind(t, ctx, st, "Doc", storage.Query{}), "d1", "d3")
	wantData(t, "d1", mustGet(t, ctx, st, "Doc", "d1").Data, `{"n":11,"s":"tx"}`)
	wantData(t, "d3", mustGet(t, ctx, st, "Doc", "d3").Data, `{"n":3}`)
	wantRelated(t, ctx, st, "t1", "members", "p2")
	wantIDSet(t, "players", mustFind(t, ctx, st, "Player", storage.Query{}), "p1", "p2", "p3")
}

// wantNotWritten checks that the store is as txStore left it.
func wantNotWritten(t *testing.T, ctx context.Context, s storage.Store) {
	t.Helper()
	wantIDSet(t, "Doc objects", mustFind(t, ctx, s, "Doc", storage.Query{}), "d1", "d2")
	wantObject(t, "d1", mustGet(t, ctx, s, "Doc", "d1"), obj("d1", `{"n":1}`))
	wantObject(t, "d2", mustGet(t, ctx, s, "Doc", "d2"), obj("d2", `{"n":2}`))
	_, err := s.Get(ctx, "Doc", "d3", nil)
	wantErr(t, "Get of the rolled back insert", err, storage.ErrNotFound)
	wantRelated(t, ctx, s, "t1", "members", "p1")
	wantIDSet(t, "players", mustFind(t, ctx, s, "Player", storage.Query{}), "p1", "p2", "p3", "p4")
}

func testTransactions(t *testing.T, o opener) {
	t.Run("Commit", func(t *testing.T) {
		ctx, s := txStore(t, o)
		err := s.Tx(ctx, func(tx storage.Store) error { return writeAll(tx, ctx) })
		if err != nil {
			t.Fatalf("Tx: %v", err)
		}
		wantWritten(t, ctx, s)
	})

	t.Run("Rollback", func(t *testing.T) {
		ctx, s := txStore(t, o)
		called := false
		err := s.Tx(ctx, func(tx storage.Store) error {
			called = true
			if err := writeAll(tx, ctx); err != nil {
				t.Errorf("writes in the transaction: %v", err)
			}
			return fmt.Errorf("wrapped: %w", errRollback)
		})
		if !called {
			t.Fatal("Tx did not call fn")
		}
		wantErr(t, "Tx whose fn failed", err, errRollback)
		wantNotWritten(t, ctx, s)
	})

	t.Run("ReadYourWrites", func(t *testing.T) {
		ctx, s := txStore(t, o)
		err := s.Tx(ctx, func(tx storage.Store) error {
			if err := writeAll(tx, ctx); err != nil {
				return err
			}
			wantWritten(t, ctx, tx)
			if n := mustCount(t, ctx, tx, "Doc", storage.Query{Where: gt("n", 2.0)}); n != 2 {
				t.Errorf("Count in the transaction = %d, want 2", n)
			}
			_, err := tx.Get(ctx, "Doc", "d2", nil)
			wantErr(t, "Get of an object deleted in the transaction", err, storage.ErrNotFound)
			got := mustUpdate(t, ctx, tx, "Doc", "d3", update(opIncrement("n", "1")))
			wantData(t, "Update of an object inserted in the transaction", got.Data, `{"n":4}`)
			return errRollback
		})
		wantErr(t, "Tx", err, errRollback)
		wantNotWritten(t, ctx, s)
	})

	t.Run("FailedWriteRollsBack", func(t *testing.T) {
		ctx, s := txStore(t, o)
		if _, err := s.CreateClass(ctx, storage.Class{Name: "Account", Fields: fields("username", "String"), Unique: []storage.Unique{{Field: "username"}}}); err != nil {
			t.Fatalf("CreateClass: %v", err)
		}
		mustInsert(t, ctx, s, "Account", obj("a1", `{"username":"alice"}`))
		err := s.Tx(ctx, func(tx storage.Store) error {
			if err := writeAll(tx, ctx); err != nil {
				t.Errorf("writes in the transaction: %v", err)
			}
			return tx.Insert(ctx, "Account", obj("a2", `{"username":"alice"}`))
		})
		wantErr(t, "Tx whose insert collided", err, storage.ErrDuplicateValue)
		wantNotWritten(t, ctx, s)
		wantIDSet(t, "accounts", mustFind(t, ctx, s, "Account", storage.Query{}), "a1")
	})

	t.Run("NestedCommit", func(t *testing.T) {
		ctx, s := txStore(t, o)
		err := s.Tx(ctx, func(outer storage.Store) error {
			if err := outer.Insert(ctx, "Doc", obj("d4", `{"n":4}`)); err != nil {
				return err
			}
			return outer.Tx(ctx, func(inner storage.Store) error {
				if _, err := inner.Get(ctx, "Doc", "d4", nil); err != nil {
					t.Errorf("inner transaction does not see the outer one's insert: %v", err)
				}
				return inner.Insert(ctx, "Doc", obj("d5", `{"n":5}`))
			})
		})
		if err != nil {
			t.Fatalf("Tx: %v", err)
		}
		wantIDSet(t, "Doc objects", mustFind(t, ctx, s, "Doc", storage.Query{}), "d1", "d2", "d4", "d5")
	})

	t.Run("NestedRollback", func(t *testing.T) {
		ctx, s := txStore(t, o)
		err := s.Tx(ctx, func(outer storage.Store) error {
			if err := outer.Insert(ctx, "Doc", obj("d4", `{"n":4}`)); err != nil {
				return err
			}
			err := outer.Tx(ctx, func(inner storage.Store) error {
				if err := writeAll(inner, ctx); err != nil {
					t.Errorf("writes in the inner transaction: %v", err)
				}
				return errRollback
			})
			wantErr(t, "inner Tx", err, errRollback)
			return fmt.Errorf("outer: %w", err)
		})
		wantErr(t, "outer Tx", err, errRollback)
		wantNotWritten(t, ctx, s)
		_, err = s.Get(ctx, "Doc", "d4", nil)
		wantErr(t, "Get of the outer transaction's insert", err, storage.ErrNotFound)
	})

	t.Run("NestedErrorAfterInnerCommit", func(t *testing.T) {
		// The inner transaction joins the outer one: its writes roll back
		// with the outer transaction even though the inner fn succeeded.
		ctx, s := txStore(t, o)
		err := s.Tx(ctx, func(outer storage.Store) error {
			if err := outer.Tx(ctx, func(inner storage.Store) error { return writeAll(inner, ctx) }); err != nil {
				t.Errorf("inner Tx: %v", err)
			}
			return errRollback
		})
		wantErr(t, "outer Tx", err, errRollback)
		wantNotWritten(t, ctx, s)
	})
}
