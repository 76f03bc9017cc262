package storagetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/parsego/parse/storage"
)

// errList collects errors from goroutines.
type errList struct {
	mu   sync.Mutex
	errs []error
}

func (l *errList) add(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

// report fails t with the first errors collected.
func (l *errList) report(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, err := range l.errs {
		if i == 5 {
			t.Errorf("... and %d more errors", len(l.errs)-5)
			break
		}
		t.Error(err)
	}
}

// inParallel runs fn for workers 0..n-1 in goroutines released together,
// then fails t with the first errors they returned.
func inParallel(t *testing.T, n int, fn func(w int) error) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		errs  errList
		start = make(chan struct{})
	)
	for w := range n {
		wg.Go(func() {
			<-start
			if err := fn(w); err != nil {
				errs.add(err)
			}
		})
	}
	close(start)
	wg.Wait()
	errs.report(t)
}

func testConcurrency(t *testing.T, o opener) {
	t.Run("Increment", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Counter", "n", "Number", "other", "Number")
		mustInsert(t, ctx, s, "Counter", obj("c", `{"n":0}`))
		const workers, each = 50, 200
		inParallel(t, workers, func(w int) error {
			for i := range each {
				ops := []storage.Op{opIncrement("n", "1")}
				if i%10 == 0 {
					ops = append(ops, opIncrement("other", "-1"))
				}
				if _, err := s.Update(ctx, "Counter", "c", update(ops...)); err != nil {
					return fmt.Errorf("worker %d update %d: %w", w, i, err)
				}
			}
			return nil
		})
		wantData(t, "counter", mustGet(t, ctx, s, "Counter", "c").Data, fmt.Sprintf(`{"n":%d,"other":%d}`, workers*each, -workers*each/10))
	})

	t.Run("Add", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Bag", "list", "Array", "set", "Array")
		mustInsert(t, ctx, s, "Bag", obj("b", `{}`))
		const workers, each = 20, 5
		inParallel(t, workers, func(w int) error {
			for i := range each {
				v := fmt.Sprintf(`[%d]`, w*each+i)
				if _, err := s.Update(ctx, "Bag", "b", update(opAdd("list", v), opAddUnique("set", `["x"]`), opAddUnique("set", v))); err != nil {
					return fmt.Errorf("worker %d update %d: %w", w, i, err)
				}
			}
			return nil
		})
		got := mustGet(t, ctx, s, "Bag", "b")
		var data struct{ List, Set []any }
		if err := json.Unmarshal(got.Data, &data); err != nil {
			t.Fatalf("data %s: %v", got.Data, err)
		}
		if len(data.List) != workers*each {
			t.Errorf("list has %d elements after %d concurrent Adds: %v", len(data.List), workers*each, data.List)
		}
		seen := map[float64]bool{}
		for _, v := range data.List {
			f, ok := v.(float64)
			if !ok || seen[f] || f < 0 || f >= workers*each {
				t.Errorf("unexpected list element %v in %v", v, data.List)
			}
			seen[f] = true
		}
		if len(data.Set) != workers*each+1 {
			t.Errorf("set has %d elements after concurrent AddUniques, want %d: %v", len(data.Set), workers*each+1, data.Set)
		}
	})

	t.Run("Insert", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "w", "Number", "i", "Number")
		const workers, each = 20, 10
		inParallel(t, workers, func(w int) error {
			if w%2 == 0 {
				// One batch.
				var objs []storage.Object
				for i := range each {
					objs = append(objs, obj(fmt.Sprintf("w%di%d", w, i), fmt.Sprintf(`{"w":%d,"i":%d}`, w, i)))
				}
				if err := s.Insert(ctx, "Item", objs...); err != nil {
					return fmt.Errorf("worker %d batch insert: %w", w, err)
				}
				return nil
			}
			for i := range each {
				if err := s.Insert(ctx, "Item", obj(fmt.Sprintf("w%di%d", w, i), fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))); err != nil {
					return fmt.Errorf("worker %d insert %d: %w", w, i, err)
				}
			}
			return nil
		})
		if n := mustCount(t, ctx, s, "Item", storage.Query{}); n != workers*each {
			t.Errorf("Count after concurrent inserts = %d, want %d", n, workers*each)
		}
		for w := range workers {
			for i := range each {
				id := fmt.Sprintf("w%di%d", w, i)
				got, err := s.Get(ctx, "Item", id, nil)
				if err != nil {
					t.Errorf("Get(%s): %v", id, err)
					continue
				}
				wantData(t, id, got.Data, fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))
			}
		}
	})

	t.Run("Transactions", func(t *testing.T) {
		// Concurrent transactions each insert an object and increment a
		// shared counter; all of them commit.
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Counter", "n", "Number")
		mustClass(t, ctx, s, "Item", "w", "Number")
		mustInsert(t, ctx, s, "Counter", obj("c", `{"n":0}`))
		const workers = 10
		inParallel(t, workers, func(w int) error {
			err := s.Tx(ctx, func(tx storage.Store) error {
				if err := tx.Insert(ctx, "Item", obj(fmt.Sprintf("w%d", w), fmt.Sprintf(`{"w":%d}`, w))); err != nil {
					return err
				}
				_, err := tx.Update(ctx, "Counter", "c", update(opIncrement("n", "1")))
				return err
			})
			if err != nil {
				return fmt.Errorf("worker %d: %w", w, err)
			}
			return nil
		})
		wantData(t, "counter", mustGet(t, ctx, s, "Counter", "c").Data, fmt.Sprintf(`{"n":%d}`, workers))
		if n := mustCount(t, ctx, s, "Item", storage.Query{}); n != workers {
			t.Errorf("Count = %d, want %d", n, workers)
		}
	})
}
