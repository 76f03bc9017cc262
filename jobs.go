package parse

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parsego/parse/storage"
)

// JobRequest is what a background job receives.
type JobRequest struct {
	// Params are the job's parameters.
	Params map[string]any
	// JobName is the job's name and JobID its _JobStatus object's id.
	JobName string
	JobID   string

	app *App
}

// Message records progress: it becomes the message of the job's
// _JobStatus while the job runs.
func (r *JobRequest) Message(ctx context.Context, message string) error {
	return r.app.jobStatusUpdate(ctx, r.JobID, map[string]any{"message": message})
}

// Job is a background job defined in Go. It runs with the master key; its
// result (a string, or any value, written as JSON) becomes the message of
// its _JobStatus, which ends "succeeded", or "failed" with the error's
// message when it returns an error.
type Job func(ctx context.Context, req *JobRequest) (any, error)

// Jobs holds an App's background jobs and starts them: on request
// (POST /jobs/{name}) or on the schedules stored in _JobSchedule.
type Jobs struct {
	app *App
	mu  sync.RWMutex
	fns map[string]Job
}

// Define registers fn under name, replacing any job of that name.
func (j *Jobs) Define(name string, fn Job) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fns == nil {
		j.fns = map[string]Job{}
	}
	j.fns[name] = fn
}

// Names returns the defined job names.
func (j *Jobs) Names() []string {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return sortedKeys(j.fns)
}

func (j *Jobs) get(name string) Job {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.fns[name]
}

// Start starts the job name with params in the background and returns the
// id of its _JobStatus, which says when it has finished. It needs the
// master key (not the read-only one); an unknown job is 141. The job runs
// on this instance, detached from ctx; Close cancels jobs still running.
func (j *Jobs) Start(ctx context.Context, name string, params map[string]any) (string, error) {
	auth := AuthFrom(ctx)
	if !auth.Master {
		return "", ErrMasterKeyRequired
	}
	if auth.ReadOnly {
		return "", NewError(OperationForbidden, "read-only masterKey isn't allowed to run a job.")
	}
	return j.start(ctx, name, params, "api")
}

func (j *Jobs) start(ctx context.Context, name string, params map[string]any, source string) (string, error) {
	fn := j.get(name)
	if fn == nil {
		return "", NewError(ScriptFailed, "Invalid job.")
	}
	a := j.app
	// The job's record is written as the reference writes it: no params,
	// and an empty ACL, so that only the master key reads it; at once,
	// outside any transaction of the caller's, as the job updates it.
	status, err := a.Objects.Create(WithAuth(context.WithValue(ctx, txKey{}, nil), masterAuth), ClassJobStatus, map[string]any{
		"jobName": name, "source": source, "status": "running", "ACL": map[string]any{},
	})
	if err != nil {
		return "", err
	}
	if params == nil {
		params = map[string]any{}
	}
	req := &JobRequest{Params: params, JobName: name, JobID: status.ID, app: a}
	a.wg.Go(func() { j.run(a.bg, fn, req) })
	return status.ID, nil
}

// run runs a job and records how it ended. A panic fails the job rather
// than the process ("cloud code failed").
func (j *Jobs) run(ctx context.Context, fn Job, req *JobRequest) {
	a := j.app
	var res any
	err := recovered(func() (err error) {
		res, err = fn(ctx, req)
		return err
	})
	update := map[string]any{"status": "succeeded", "finishedAt": time.Now().UTC().Truncate(time.Millisecond)}
	if err != nil {
		update["status"] = "failed"
		var pe *Error
		if errors.As(err, &pe) {
			update["message"] = pe.Message
		} else {
			update["message"] = err.Error()
		}
		a.log.Error("job failed", "job", req.JobName, "id", req.JobID, "err", err)
	} else if msg := jobMessage(res); msg != "" {
		update["message"] = msg
	}
	if err := a.jobStatusUpdate(context.WithoutCancel(ctx), req.JobID, update); err != nil {
		a.log.Error("job status not recorded", "job", req.JobName, "id", req.JobID, "err", err)
	}
}

// jobMessage is the message a job's result leaves: a string as it is, any
// other value as JSON.
func jobMessage(res any) string {
	switch r := res.(type) {
	case nil:
		return ""
	case string:
		return r
	}
	v, err := normalizeResult(res)
	if err != nil {
		return ""
	}
	return string(AppendJSON(nil, v))
}

func (a *App) jobStatusUpdate(ctx context.Context, id string, fields map[string]any) error {
	_, err := a.Objects.Update(WithAuth(ctx, masterAuth), ClassJobStatus, id, fields)
	return err
}

// RunDue starts the scheduled jobs (_JobSchedule) that are due, and
// returns how many it started. Each due run is claimed in the database
// (a conditional update of the schedule's lastRun), so that when several
// instances share it, each run starts on one of them only. Start calls it
// every Config.JobScheduleInterval.
//
// A schedule runs once startAfter (an ISO date; none: at once) has passed:
// every repeatMinutes when set; else every day at timeOfDay ("HH:MM:SS",
// UTC), on the daysOfWeek given (0 is Sunday; none: every day); else once.
// Its params are a JSON object in a string, as the dashboard writes them.
func (j *Jobs) RunDue(ctx context.Context) (int, error) {
	a := j.app
	now := time.Now().UTC()
	ctx = WithAuth(ctx, masterAuth)
	schedules, err := a.storedObjects(ctx, ClassJobSchedule, storage.Query{Limit: 10000})
	if err != nil {
		return 0, err
	}
	started := 0
	for _, s := range schedules {
		name, _ := s.Fields["jobName"].(string)
		if j.get(name) == nil || !scheduleDue(s, now) {
			continue
		}
		claimed, err := a.claimSchedule(ctx, s, now)
		if err != nil {
			return started, err
		}
		if !claimed {
			continue
		}
		var params map[string]any
		if p, _ := s.Fields["params"].(string); p != "" {
			if err := json.Unmarshal([]byte(p), &params); err != nil {
				a.log.Error("scheduled job has invalid params", "job", name, "schedule", s.ID, "err", err)
				continue
			}
			if params, err = decodeParams(params); err != nil {
				a.log.Error("scheduled job has invalid params", "job", name, "schedule", s.ID, "err", err)
				continue
			}
		}
		if _, err := j.start(ctx, name, params, "schedule"); err != nil {
			return started, err
		}
		started++
	}
	return started, nil
}

func decodeParams(p map[string]any) (map[string]any, error) {
	v, err := DecodeValue(p, false)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// claimSchedule moves a schedule's lastRun from the value read to now; it
// reports false when another instance moved it first.
func (a *App) claimSchedule(ctx context.Context, s *Object, now time.Time) (bool, error) {
	var last any
	if f, ok := s.Fields["lastRun"].(float64); ok {
		last = f
	}
	_, err := a.storeFor(ctx).Update(ctx, ClassJobSchedule, s.ID, storage.Update{
		UpdatedAt: now.Truncate(time.Millisecond),
		Where:     storage.Cmp{Field: "lastRun", Op: storage.Eq, Value: last},
		Ops: []storage.Op{{Field: "lastRun", Kind: storage.OpSet,
			Value: appendFloat(nil, float64(now.UnixMilli()))}},
	})
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, a.storeError(err)
}

// scheduleDue reports whether a schedule has a run due at now.
func scheduleDue(s *Object, now time.Time) bool {
	if v, _ := s.Fields["startAfter"].(string); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil || now.Before(t) {
			return false
		}
	}
	var last time.Time
	if f, ok := s.Fields["lastRun"].(float64); ok {
		last = time.UnixMilli(int64(f)).UTC()
	}
	if m, _ := s.Fields["repeatMinutes"].(float64); m > 0 && !math.IsInf(m, 0) {
		return last.IsZero() || !now.Before(last.Add(time.Duration(m*float64(time.Minute))))
	}
	tod, _ := s.Fields["timeOfDay"].(string)
	if tod == "" {
		return last.IsZero()
	}
	clock, err := time.Parse("15:04:05", strings.TrimSuffix(strings.SplitN(tod, ".", 2)[0], "Z"))
	if err != nil {
		return false
	}
	if days, ok := s.Fields["daysOfWeek"].([]any); ok && len(days) > 0 &&
		!slices.Contains(days, any(float64(now.Weekday()))) {
		return false
	}
	at := time.Date(now.Year(), now.Month(), now.Day(), clock.Hour(), clock.Minute(), clock.Second(), 0, time.UTC)
	return !now.Before(at) && last.Before(at)
}

// schedule runs RunDue every interval until ctx is done.
func (j *Jobs) schedule(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := j.RunDue(ctx); err != nil && ctx.Err() == nil {
			j.app.log.Error("job schedules not run", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Schedules returns the job schedules (_JobSchedule), oldest first.
func (j *Jobs) Schedules(ctx context.Context) ([]*Object, error) {
	if !AuthFrom(ctx).Master {
		return nil, ErrMasterKeyRequired
	}
	return j.app.Query(ClassJobSchedule).Limit(10000).Order("createdAt").Find(ctx)
}

// SaveSchedule creates (id "") or updates a job schedule of fields
// (jobName, description, params, startAfter, daysOfWeek, timeOfDay,
// repeatMinutes; see RunDue), as the dashboard does through
// /cloud_code/jobs: the master key only, and only for a job this App
// defines (141 otherwise). A missing startAfter is set in fields to now,
// as the reference sets it.
func (j *Jobs) SaveSchedule(ctx context.Context, id string, fields map[string]any) (*Object, error) {
	if !AuthFrom(ctx).Master {
		return nil, ErrMasterKeyRequired
	}
	if name, ok := fields["jobName"].(string); ok && j.get(name) == nil {
		return nil, NewError(ScriptFailed, "Cannot Schedule a job that is not deployed")
	}
	if _, ok := fields["startAfter"]; !ok {
		fields["startAfter"] = time.Now().UTC().Format(dateFormat)
	}
	if id == "" {
		return j.app.Objects.Create(ctx, ClassJobSchedule, fields)
	}
	return j.app.Objects.Update(ctx, ClassJobSchedule, id, fields)
}

// DeleteSchedule deletes a job schedule; 101 when there is none.
func (j *Jobs) DeleteSchedule(ctx context.Context, id string) error {
	if !AuthFrom(ctx).Master {
		return ErrMasterKeyRequired
	}
	return j.app.Objects.Delete(ctx, ClassJobSchedule, id)
}
