package storage

import (
	"context"
	"encoding/json"
	"time"
)

// TaskQueue is implemented by stores that keep a durable queue of tasks
// shared by every App instance on the database: the App's push delivery
// (and any other background work) enqueues tasks, and each instance's
// workers claim the ones that are due. A claim holds a task for a lease
// rather than for a transaction, so an instance that dies mid-task loses
// nothing: the task becomes due again when the lease ends and another
// instance takes it. Called on a Store inside Tx, the methods join the
// transaction, so finishing a task commits with the writes it made. Stores
// without it get a queue in the App's memory (one process only).
type TaskQueue interface {
	// EnqueueTasks adds tasks. A task whose ID is queued already is kept
	// as it is.
	EnqueueTasks(ctx context.Context, tasks ...Task) error
	// ClaimTasks takes up to limit tasks of queue that are due (RunAt
	// passed), earliest first, skipping the ones another caller is
	// claiming at the same moment, and holds them for lease: their RunAt
	// moves lease ahead and their Attempts grow by one. The tasks returned
	// carry their new Attempts and their RunAt as it was.
	ClaimTasks(ctx context.Context, queue string, limit int, lease time.Duration) ([]Task, error)
	// FinishTask removes a task. A task that is gone is no error.
	FinishTask(ctx context.Context, id string) error
	// RetryTask makes a held task due at runAt, with payload (nil: the
	// payload is kept).
	RetryTask(ctx context.Context, id string, runAt time.Time, payload json.RawMessage) error
}

// Task is one unit of background work.
type Task struct {
	ID    string
	Queue string
	// RunAt is when the task is due.
	RunAt time.Time
	// Attempts counts the claims so far.
	Attempts int
	// Payload is the task's data, a JSON value.
	Payload json.RawMessage
}
