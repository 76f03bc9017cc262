package parse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse/internal/teststore"
	"github.com/parsego/parse/storage"
)

// recordingStore is a real store that records the rows of each Insert,
// and holds the first one until release returns.
type recordingStore struct {
	storage.Store
	release func()

	mu   sync.Mutex
	rows []int
}

func (s *recordingStore) Insert(ctx context.Context, class string, objs ...storage.Object) error {
	s.mu.Lock()
	first := len(s.rows) == 0
	s.rows = append(s.rows, len(objs))
	s.mu.Unlock()
	if first {
		s.release()
	}
	return s.Store.Insert(ctx, class, objs...)
}

// queued waits until g holds n records in its queue.
func queued(t *testing.T, g *groupInsert, n int) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		l := len(g.queue)
		g.mu.Unlock()
		if l == n {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d records queued, want %d", l, n)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func groupTestStore(t *testing.T) storage.Store {
	store := teststore.New(t)
	if _, err := store.CreateClass(t.Context(), storage.Class{Name: "Grouped", Fields: map[string]storage.Field{"n": {Type: "Number"}}}); err != nil {
		t.Fatal(err)
	}
	return store
}

func groupObject(id string, n int) storage.Object {
	now := time.Now()
	return storage.Object{ID: id, CreatedAt: now, UpdatedAt: now, Data: fmt.Appendf(nil, `{"n":%d}`, n)}
}

// Records that arrive while a statement runs go in the next ones, at
// most maxGroup a statement, and each caller learns its own outcome.
func TestGroupInsert(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	g := &groupInsert{class: "Grouped"}
	const callers = 1 + 2*maxGroup + 5
	store := &recordingStore{Store: groupTestStore(t)}
	store.release = func() { queued(t, g, callers-1) }
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { errs[i] = g.insert(ctx, store, groupObject(fmt.Sprintf("obj%03d", i), i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	if want := []int{1, maxGroup, maxGroup, 5}; !slices.Equal(store.rows, want) {
		t.Errorf("statements of %v rows, want %v", store.rows, want)
	}
	n, err := store.Count(ctx, "Grouped", storage.Query{})
	if err != nil || n != callers {
		t.Errorf("stored %d, %v; want %d", n, err, callers)
	}
}

// A record that fails its statement fails only its own caller: the
// others are inserted one by one.
func TestGroupInsertBadRecord(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	g := &groupInsert{class: "Grouped"}
	base := groupTestStore(t)
	if err := base.Insert(ctx, "Grouped", groupObject("taken", 0)); err != nil {
		t.Fatal(err)
	}
	store := &recordingStore{Store: base}
	store.release = func() { queued(t, g, 4) }
	ids := []string{"first", "a", "b", "taken", "c"}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = g.insert(ctx, store, groupObject(ids[0], 1)) })
	for { // the first caller runs its statement alone
		g.mu.Lock()
		running := g.running
		g.mu.Unlock()
		if running {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < len(ids); i++ {
		wg.Go(func() { errs[i] = g.insert(ctx, store, groupObject(ids[i], i+1)) })
	}
	wg.Wait()
	for i, id := range ids {
		if id == "taken" {
			if !errors.Is(errs[i], storage.ErrDuplicateValue) {
				t.Errorf("%s: %v, want ErrDuplicateValue", id, errs[i])
			}
		} else if errs[i] != nil {
			t.Errorf("%s: %v", id, errs[i])
		}
	}
	if want := []int{1, 4, 1, 1, 1, 1}; !slices.Equal(store.rows, want) {
		t.Errorf("statements of %v rows, want %v", store.rows, want)
	}
	objs, err := base.Find(ctx, "Grouped", storage.Query{})
	if err != nil || len(objs) != 5 {
		t.Fatalf("found %d, %v; want 5", len(objs), err)
	}
	for _, o := range objs {
		var d struct{ N int }
		if err := json.Unmarshal(o.Data, &d); err != nil || o.ID == "taken" && d.N != 0 {
			t.Errorf("%s: %s, %v; the taken record must keep n 0", o.ID, o.Data, err)
		}
	}
}
