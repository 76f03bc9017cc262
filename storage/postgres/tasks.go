package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parsego/parse/storage"
)

var _ storage.TaskQueue = (*Store)(nil)

func (s *Store) tasks() string { return s.nsq + `."_parsego_tasks"` }

// EnqueueTasks inserts the tasks in one batch; an ID queued already keeps
// its task.
func (s *Store) EnqueueTasks(ctx context.Context, tasks ...storage.Task) error {
	if len(tasks) == 0 {
		return nil
	}
	defer s.lock()()
	sql := `INSERT INTO ` + s.tasks() + ` (id, queue, run_at, attempts, payload) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`
	b := &pgx.Batch{}
	for _, t := range tasks {
		payload := t.Payload
		if payload == nil {
			payload = json.RawMessage("null")
		}
		b.Queue(sql, t.ID, t.Queue, t.RunAt, t.Attempts, string(payload))
	}
	if err := s.q.SendBatch(ctx, b).Close(); err != nil {
		return s.wrap("enqueue tasks", err)
	}
	return nil
}

// ClaimTasks moves the due tasks' run_at a lease ahead in one statement.
// SKIP LOCKED lets concurrent claimers take different tasks instead of
// queueing behind one another; the database's clock decides what is due,
// so instances with drifting clocks agree.
func (s *Store) ClaimTasks(ctx context.Context, queue string, limit int, lease time.Duration) ([]storage.Task, error) {
	defer s.lock()()
	sql := `WITH due AS (SELECT id, run_at FROM ` + s.tasks() + ` WHERE queue = $1 AND run_at <= clock_timestamp() ` +
		`ORDER BY run_at LIMIT $2 FOR UPDATE SKIP LOCKED) ` +
		`UPDATE ` + s.tasks() + ` t SET run_at = clock_timestamp() + $3 * interval '1 microsecond', attempts = t.attempts + 1 ` +
		`FROM due WHERE t.id = due.id RETURNING t.id, t.queue, due.run_at, t.attempts, t.payload::text`
	rows, err := s.q.Query(ctx, sql, queue, limit, lease.Microseconds())
	if err != nil {
		return nil, s.wrap("claim tasks", err)
	}
	tasks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.Task, error) {
		var t storage.Task
		var payload string
		err := r.Scan(&t.ID, &t.Queue, &t.RunAt, &t.Attempts, &payload)
		t.Payload = json.RawMessage(payload)
		return t, err
	})
	if err != nil {
		return nil, s.wrap("claim tasks", err)
	}
	return tasks, nil
}

// FinishTask deletes a task.
func (s *Store) FinishTask(ctx context.Context, id string) error {
	defer s.lock()()
	if _, err := s.q.Exec(ctx, `DELETE FROM `+s.tasks()+` WHERE id = $1`, id); err != nil {
		return s.wrap("finish task", err)
	}
	return nil
}

// RetryTask sets a task's run_at, and its payload when one is given.
func (s *Store) RetryTask(ctx context.Context, id string, runAt time.Time, payload json.RawMessage) error {
	defer s.lock()()
	var p *string
	if payload != nil {
		ps := string(payload)
		p = &ps
	}
	_, err := s.q.Exec(ctx, `UPDATE `+s.tasks()+` SET run_at = $2, payload = COALESCE($3::jsonb, payload) WHERE id = $1`, id, runAt, p)
	if err != nil {
		return s.wrap("retry task", err)
	}
	return nil
}
