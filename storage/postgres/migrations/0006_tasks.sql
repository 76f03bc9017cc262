-- The durable task queue (storage.TaskQueue): claimed with FOR UPDATE SKIP
-- LOCKED, held by moving run_at ahead for the lease.
CREATE TABLE {{ns}}."_parsego_tasks" (
	id       text PRIMARY KEY,
	queue    text NOT NULL,
	run_at   timestamptz NOT NULL,
	attempts integer NOT NULL DEFAULT 0,
	payload  jsonb NOT NULL
);
CREATE INDEX "_parsego_tasks_due" ON {{ns}}."_parsego_tasks" (queue, run_at);
