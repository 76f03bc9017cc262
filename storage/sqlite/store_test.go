package sqlite_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/sqlite"
)

var t0 = time.Date(2024, 3, 1, 10, 0, 0, 123_456_789, time.UTC)

func obj(id, data string) storage.Object {
	return storage.Object{ID: id, CreatedAt: t0, UpdatedAt: t0, Data: json.RawMessage(data)}
}

func openFile(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// A file database keeps its data across Close and Open, in WAL mode, with
// timestamps to the nanosecond.
func TestFilePersists(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	s := openFile(t, path)
	if _, err := s.CreateClass(ctx, storage.Class{Name: "Note", Fields: map[string]storage.Field{"text": {Type: "String"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, "Note", obj("n1", `{"text":"kept"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no write-ahead log beside the database: %v", err)
	}
	s.Close()

	s = openFile(t, path)
	o, err := s.Get(ctx, "Note", "n1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(o.Data) != `{"text":"kept"}` || !o.CreatedAt.Equal(t0) {
		t.Errorf("reopened object: %s created %s, want {\"text\":\"kept\"} created %s", o.Data, o.CreatedAt, t0)
	}
	classes, err := s.LoadSchema(ctx)
	if err != nil || len(classes) != 1 || classes[0].Name != "Note" || classes[0].Fields["text"].Type != "String" {
		t.Errorf("reopened schema: %+v, %v", classes, err)
	}
}

// A memory database is private to its Store and removed by Close.
func TestMemoryIsPrivate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, b := open(t), open(t)
	if _, err := a.CreateClass(ctx, storage.Class{Name: "Only"}); err != nil {
		t.Fatal(err)
	}
	classes, err := b.LoadSchema(ctx)
	if err != nil || len(classes) != 0 {
		t.Errorf("second memory store sees %+v (%v), want nothing", classes, err)
	}
}

// While a transaction holds the writer, the Store still answers reads,
// from the last committed state: the App reads the schema through the
// Store while a batch transaction is open.
func TestTxDoesNotBlockReads(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t)
	if _, err := s.CreateClass(ctx, storage.Class{Name: "Item"}); err != nil {
		t.Fatal(err)
	}
	err := s.Tx(ctx, func(tx storage.Store) error {
		if err := tx.Insert(ctx, "Item", obj("in-tx", `{}`)); err != nil {
			return err
		}
		if _, err := tx.CreateClass(ctx, storage.Class{Name: "Later"}); err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		classes, err := s.LoadSchema(rctx)
		if err != nil {
			return fmt.Errorf("LoadSchema beside the transaction: %w", err)
		}
		if len(classes) != 1 {
			t.Errorf("LoadSchema beside the transaction: %d classes, want the committed 1", len(classes))
		}
		if _, err := s.Get(rctx, "Item", "in-tx", nil); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get of an uncommitted object beside the transaction: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "Item", "in-tx", nil); err != nil {
		t.Errorf("Get after commit: %v", err)
	}
}

// Two Stores on one file (two processes, say) write concurrently without
// "database is locked" reaching either, and lose no update.
func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := openFile(t, path), openFile(t, path)
	if _, err := a.CreateClass(ctx, storage.Class{Name: "Counter"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Insert(ctx, "Counter", obj("c", `{"n":0}`)); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for range each {
				u := storage.Update{UpdatedAt: t0, Ops: []storage.Op{{Field: "n", Kind: storage.OpIncrement, Value: json.RawMessage("1")}}}
				if _, err := s.Update(ctx, "Counter", "c", u); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	o, err := b.Get(ctx, "Counter", "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`{"n":%d}`, workers*each); string(o.Data) != want {
		t.Errorf("counter %s, want %s", o.Data, want)
	}
}

// ACL entries are matched exactly, whatever characters they hold, and read
// back as stored.
func TestACLEntriesExact(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t)
	if _, err := s.CreateClass(ctx, storage.Class{Name: "Doc"}); err != nil {
		t.Fatal(err)
	}
	read := []string{"a|b", "50%", "x%7Cy", "", "role:Café ☕"}
	o := obj("d", `{}`)
	o.ReadPerm, o.WritePerm = read, []string{}
	if err := s.Insert(ctx, "Doc", o); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "Doc", "d", nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%q", got.ReadPerm) != fmt.Sprintf("%q", read) || got.WritePerm == nil || len(got.WritePerm) != 0 {
		t.Errorf("ACL read back as %q / %#v, want %q / []string{}", got.ReadPerm, got.WritePerm, read)
	}
	for _, c := range []struct {
		perm string
		want bool
	}{
		{"a|b", true}, {"a", false}, {"b", false}, {"50%", true}, {"50", false}, {"x|y", false},
		{"x%7Cy", true}, {"", true}, {"role:Café ☕", true}, {"role:Café", false}, {"|", false},
	} {
		_, err := s.Get(ctx, "Doc", "d", []string{c.perm})
		if found := err == nil; found != c.want {
			t.Errorf("Get with %q: found %v (%v), want %v", c.perm, found, err, c.want)
		}
	}
	if _, err := s.Update(ctx, "Doc", "d", storage.Update{UpdatedAt: t0, WritePerm: []string{"a|b"}}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Update by a reader under an empty write ACL: %v, want ErrNotFound", err)
	}
}
