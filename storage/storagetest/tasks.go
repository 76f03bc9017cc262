package storagetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse/storage"
)

// testTasks holds a storage.TaskQueue to its contract: due tasks only,
// each claimed once by concurrent claimers, leases that end, retries with
// a new payload, and finishes that join transactions. Stores without the
// interface skip it: the App queues in memory instead.
func testTasks(t *testing.T, o opener) {
	t.Run("Queue", func(t *testing.T) { testTaskQueue(t, o) })
}

func testTaskQueue(t *testing.T, o opener) {
	ctx, s := o.fresh(t)
	q, ok := s.(storage.TaskQueue)
	if !ok {
		t.Skip("the store has no task queue")
	}
	now := time.Now()
	var tasks []storage.Task
	for i := range 20 {
		tasks = append(tasks, storage.Task{ID: string(rune('a' + i)), Queue: "q", RunAt: now.Add(-time.Second), Payload: raw(`{"n":1}`)})
	}
	tasks = append(tasks, storage.Task{ID: "later", Queue: "q", RunAt: now.Add(time.Hour), Payload: raw(`1`)},
		storage.Task{ID: "other", Queue: "other", RunAt: now, Payload: raw(`1`)})
	if err := q.EnqueueTasks(ctx, tasks...); err != nil {
		t.Fatal(err)
	}
	// Queued again: kept as it was.
	if err := q.EnqueueTasks(ctx, storage.Task{ID: "a", Queue: "q", RunAt: now.Add(time.Hour), Payload: raw(`2`)}); err != nil {
		t.Fatal(err)
	}

	// Concurrent claimers share the due tasks, each taken once.
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				claimed, err := q.ClaimTasks(ctx, "q", 3, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(claimed) == 0 {
					return
				}
				mu.Lock()
				for _, c := range claimed {
					if c.Attempts != 1 || c.Queue != "q" {
						t.Errorf("claimed %+v", c)
					}
					wantData(t, "claimed "+c.ID, c.Payload, `{"n":1}`)
					got = append(got, c.ID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	if len(got) != 20 || len(slices.Compact(slices.Clone(got))) != 20 {
		t.Fatalf("claimed %q, want a..t once each", got)
	}

	// A retried task is due at its new time, with its new payload; a
	// lease that ends makes it due again, one attempt more.
	if err := q.RetryTask(ctx, "b", time.Now().Add(-time.Millisecond), raw(`{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	claimed, err := q.ClaimTasks(ctx, "q", 10, 50*time.Millisecond)
	if err != nil || len(claimed) != 1 || claimed[0].ID != "b" || claimed[0].Attempts != 2 {
		t.Fatalf("after a retry: %+v, %v", claimed, err)
	}
	wantData(t, "retried payload", claimed[0].Payload, `{"n":2}`)
	time.Sleep(100 * time.Millisecond)
	claimed, err = q.ClaimTasks(ctx, "q", 10, time.Hour)
	if err != nil || len(claimed) != 1 || claimed[0].ID != "b" || claimed[0].Attempts != 3 {
		t.Fatalf("after the lease: %+v, %v", claimed, err)
	}

	// A finish in a transaction that rolls back keeps the task; a retry
	// without a payload keeps the payload.
	_ = s.Tx(ctx, func(tx storage.Store) error {
		if tq, ok := tx.(storage.TaskQueue); ok {
			if err := tq.FinishTask(ctx, "b"); err != nil {
				t.Fatal(err)
			}
		}
		return storage.ErrNotFound
	})
	if err := q.RetryTask(ctx, "b", time.Now().Add(-time.Millisecond), nil); err != nil {
		t.Fatal(err)
	}
	if err := q.FinishTask(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := q.FinishTask(ctx, "gone"); err != nil {
		t.Fatalf("finishing a task that is gone: %v", err)
	}
	claimed, err = q.ClaimTasks(ctx, "q", 10, time.Hour)
	if err != nil || len(claimed) != 1 || claimed[0].ID != "b" {
		t.Fatalf("after the rollback: %+v, %v", claimed, err)
	}
	wantData(t, "kept payload", claimed[0].Payload, `{"n":2}`)
}
