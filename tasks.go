package parse

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/parsego/parse/storage"
)

// tasks returns the task queue: the store's (joining the transaction ctx
// carries), or, for stores without storage.TaskQueue, the App's own.
func (a *App) tasks(ctx context.Context) storage.TaskQueue {
	q, ok := a.store.(storage.TaskQueue)
	if !ok {
		return a.memTasks
	}
	if tq, ok := a.storeFor(ctx).(storage.TaskQueue); ok {
		return tq
	}
	return q
}

// memTasks is the task queue of stores without one: it lives in the App's
// memory, so it serves one process, and tasks do not survive a restart.
type memTasks struct {
	mu    sync.Mutex
	tasks map[string]*storage.Task
}

func newMemTasks() *memTasks { return &memTasks{tasks: map[string]*storage.Task{}} }

func (m *memTasks) EnqueueTasks(_ context.Context, tasks ...storage.Task) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range tasks {
		if _, ok := m.tasks[t.ID]; !ok {
			t.Payload = slices.Clone(t.Payload)
			m.tasks[t.ID] = &t
		}
	}
	return nil
}

func (m *memTasks) ClaimTasks(_ context.Context, queue string, limit int, lease time.Duration) ([]storage.Task, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	var due []*storage.Task
	for _, t := range m.tasks {
		if t.Queue == queue && !t.RunAt.After(now) {
			due = append(due, t)
		}
	}
	slices.SortFunc(due, func(a, b *storage.Task) int { return a.RunAt.Compare(b.RunAt) })
	var out []storage.Task
	for _, t := range due[:min(limit, len(due))] {
		claimed := *t
		t.RunAt = now.Add(lease)
		t.Attempts++
		claimed.Attempts = t.Attempts
		out = append(out, claimed)
	}
	return out, nil
}

func (m *memTasks) FinishTask(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tasks, id)
	return nil
}

func (m *memTasks) RetryTask(_ context.Context, id string, runAt time.Time, payload json.RawMessage) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tasks[id]; ok {
		t.RunAt = runAt
		if payload != nil {
			t.Payload = slices.Clone(payload)
		}
	}
	return nil
}
