package parse

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/parsego/parse/storage"
)

// PushConfig configures push notifications. Without a Provider, POST /push
// answers 115 "Missing push configuration", as the reference does.
type PushConfig struct {
	// Provider delivers the notifications (see PushByType to combine one
	// per platform).
	Provider PushProvider
	// AllowClientPush lets requests without the master key send pushes.
	AllowClientPush bool
	// CleanupInvalidInstallations removes the deviceToken of installations
	// whose token a provider reports invalid (the reference's
	// PARSE_SERVER_CLEANUP_INVALID_INSTALLATIONS).
	CleanupInvalidInstallations bool
	// BatchSize is how many installations one delivery task sends to
	// (default 100, the reference's). A task is what an instance that dies
	// mid-push may have sent twice.
	BatchSize int
	// Workers is how many delivery tasks an instance runs at once
	// (default 4).
	Workers int
	// PollInterval is how often an idle instance looks for due tasks
	// (default 1 s); tasks this instance enqueues start at once.
	PollInterval time.Duration
	// Lease is how long a claimed task is held before another instance
	// may take it over (default 1 min): it bounds how late the work of a
	// dead instance resumes. App.Close abandons the batches in flight as
	// a crash would: their lease decides when they are sent again.
	Lease time.Duration
	// MaxAttempts bounds the deliveries of one batch whose provider fails
	// (default 5); RetryBackoff is the wait before the first retry
	// (default 1 s), doubled at each further one.
	MaxAttempts  int
	RetryBackoff time.Duration
}

func (c PushConfig) withDefaults() PushConfig {
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = time.Second
	}
	return c
}

// maxPushDelay is how far ahead a push may be scheduled, as the REST guide
// states.
const maxPushDelay = 14 * 24 * time.Hour

// Push sends push notifications to installations and records each push as
// a _PushStatus object.
type Push struct{ app *App }

// Send queues a push and returns the objectId of its _PushStatus. body is
// the REST API's push request: "channels" or "where" (a query on
// _Installation), "data" (alert, badge, sound, content-available, category,
// uri, title, "alert-<locale>", custom keys), and optionally
// "expiration_time" or "expiration_interval", and "push_time" (an ISO date,
// or epoch seconds; an ISO date without a time zone is delivered at that
// local time in each installation's timeZone), and "audience_id" (the
// _Audience the push went to, whose lastUsed and timesUsed it updates).
// Delivery goes on in the background, on any App instance sharing the
// store.
func (s *Push) Send(ctx context.Context, body map[string]any) (string, error) {
	a := s.app
	auth := AuthFrom(ctx)
	if auth.ReadOnly {
		return "", NewError(OperationForbidden, "read-only masterKey isn't allowed to send push notifications.")
	}
	if !auth.Master && !a.cfg.Push.AllowClientPush {
		return "", NewError(OperationForbidden, "Permission denied")
	}
	p, err := a.parsePush(body, time.Now())
	if err != nil {
		return "", err
	}
	// The query is checked now; it runs when the push starts.
	if _, err := a.Query(ClassInstallation).Where(p.where).build(WithAuth(ctx, masterAuth)); err != nil {
		return "", err
	}
	id, err := a.queuePush(ctx, p)
	if err != nil {
		return "", err
	}
	if aud, _ := body["audience_id"].(string); aud != "" {
		a.audienceUsed(ctx, aud)
	}
	return id, nil
}

// pushRequest is a validated push.
type pushRequest struct {
	where    map[string]any
	data     map[string]any
	expiry   float64 // epoch ms; 0: none
	interval float64 // seconds; 0: none
	// at is when the push goes out (zero: now); local marks a push_time
	// without a time zone, whose wall clock applies in each installation's
	// timeZone.
	at    time.Time
	local bool
}

// parsePush validates a push request in the reference's order, with its
// messages, then the checks the reference lacks.
func (a *App) parsePush(body map[string]any, now time.Time) (*pushRequest, error) {
	p := &pushRequest{}
	where, hasWhere := body["where"]
	channels, hasChannels := body["channels"]
	switch {
	case hasWhere && hasChannels:
		return nil, NewError(PushMisconfigured, "Channels and query can not be set at the same time.")
	case hasWhere:
		w, ok := where.(map[string]any)
		if !ok {
			return nil, NewError(PushMisconfigured, "where must be a query on _Installation")
		}
		p.where = w
	case hasChannels:
		list, ok := channels.([]any)
		if !ok {
			return nil, NewError(PushMisconfigured, "channels must be an array of channel names")
		}
		p.where = map[string]any{"channels": map[string]any{"$in": list}}
	default:
		return nil, NewError(PushMisconfigured, `Sending a push requires either "channels" or a "where" query.`)
	}
	if a.cfg.Push.Provider == nil {
		return nil, NewError(PushMisconfigured, "Missing push configuration")
	}
	if v, ok := body["expiration_time"]; ok {
		t, _, err := pushTimeValue(v)
		if err != nil {
			return nil, err
		}
		p.expiry = float64(t.UnixMilli())
	}
	if v, ok := body["expiration_interval"]; ok {
		n, isNum := v.(float64)
		if !isNum || n <= 0 {
			return nil, NewError(PushMisconfigured, "expiration_interval must be a number greater than 0")
		}
		p.interval = n
	}
	if p.expiry != 0 && p.interval != 0 {
		return nil, NewError(PushMisconfigured, "Both expiration_time and expiration_interval cannot be set")
	}
	if v, ok := body["push_time"]; ok {
		t, local, err := pushTimeValue(v)
		if err != nil {
			return nil, err
		}
		p.at, p.local = t, local
	} else if p.interval != 0 {
		p.expiry = float64(now.Add(time.Duration(p.interval * float64(time.Second))).UnixMilli())
	}

	data, ok := body["data"].(map[string]any)
	if !ok {
		return nil, NewError(PushMisconfigured, `Sending a push requires "data", an object`)
	}
	p.data = data
	if _, _, err := badgeOp(data); err != nil {
		return nil, err
	}
	if !p.at.IsZero() {
		// A local time is due somewhere between UTC-12 and UTC+14.
		early, late := p.at, p.at
		if p.local {
			early, late = p.at.Add(-14*time.Hour), p.at.Add(12*time.Hour)
		}
		if late.Before(now.Add(-time.Minute)) {
			return nil, NewError(InvalidPushTime, "push_time can not be in the past")
		}
		if early.After(now.Add(maxPushDelay)) {
			return nil, NewError(InvalidPushTime, "push_time can be at most two weeks ahead")
		}
	}
	return p, nil
}

// pushTimeValue reads a push_time or expiration_time: epoch seconds, or an
// ISO 8601 date; local reports a date without a time zone.
func pushTimeValue(v any) (t time.Time, local bool, err error) {
	switch x := v.(type) {
	case float64:
		if !math.IsInf(x, 0) && !math.IsNaN(x) && math.Abs(x) < 8.64e12 {
			return time.UnixMilli(int64(x * 1000)).UTC(), false, nil
		}
	case string:
		for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UTC(), false, nil
			}
		}
		for _, layout := range [...]string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t, true, nil
			}
		}
	}
	return time.Time{}, false, NewError(PushMisconfigured, "%s is not valid time.", jsDisplay(v))
}

// jsDisplay is JavaScript's String(v), as the reference's messages show
// values.
func jsDisplay(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	case bool, float64:
		return string(AppendJSON(nil, x))
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = jsDisplay(e)
		}
		return strings.Join(parts, ",")
	}
	return "[object Object]"
}

// badgeOp reads data.badge: an increment (by amount) or a value to set;
// ok is false without a badge (or with 0, which the reference ignores).
func badgeOp(data map[string]any) (op *Op, ok bool, err error) {
	switch b := data["badge"].(type) {
	case nil:
		return nil, false, nil
	case string:
		if strings.EqualFold(b, "increment") {
			return Increment(1), true, nil
		}
	case float64:
		if b == 0 {
			return nil, false, nil
		}
		return nil, true, nil
	case map[string]any:
		kind, _ := b["__op"].(string)
		if amount, isNum := b["amount"].(float64); strings.EqualFold(kind, "increment") && isNum && amount != 0 {
			return Increment(amount), true, nil
		}
	case bool:
		if !b {
			return nil, false, nil
		}
	}
	return nil, false, NewError(PushMisconfigured, "Invalid value for badge, expected number or 'Increment' or {increment: number}")
}

// pushHash is the reference's: the MD5 of the alert (of its JSON when it
// is an object), the MD5 of "" without one.
func pushHash(data map[string]any) string {
	var sum [16]byte
	switch a := data["alert"].(type) {
	case string:
		sum = md5.Sum([]byte(a))
	case map[string]any, []any:
		sum = md5.Sum(AppendJSON(nil, a))
	default:
		sum = md5.Sum(nil)
	}
	return hex.EncodeToString(sum[:])
}

// formatPushTime is the reference's pushTime: an ISO date in UTC, without
// its Z for a local-time push.
func formatPushTime(t time.Time, local bool) string {
	s := t.UTC().Format("2006-01-02T15:04:05.000Z")
	if local {
		s = strings.TrimSuffix(s, "Z")
	}
	return s
}

// queuePush records the _PushStatus and queues the task that starts the
// delivery, in one transaction.
func (a *App) queuePush(ctx context.Context, p *pushRequest) (string, error) {
	now := time.Now().UTC()
	status := map[string]any{
		"pushTime": formatPushTime(now, false),
		"query":    string(AppendJSON(nil, p.where)),
		"payload":  string(AppendJSON(nil, p.data)),
		"source":   "rest",
		"status":   pushPending,
		"numSent":  0.0,
		"pushHash": pushHash(p.data),
		"ACL":      map[string]any{},
	}
	if p.expiry != 0 {
		status["expiry"] = p.expiry
	}
	if p.interval != 0 {
		status["expiration_interval"] = p.interval
	}
	runAt := now
	if !p.at.IsZero() {
		status["pushTime"] = formatPushTime(p.at, p.local)
		status["status"] = pushScheduled
		runAt = p.at
		if p.local {
			// The first time zone to reach the local time is UTC+14.
			runAt = p.at.Add(-14 * time.Hour)
		}
	}
	master := WithAuth(ctx, masterAuth)
	var id string
	err := a.Tx(master, func(ctx context.Context) error {
		objs, errs := a.createMany(ctx, ClassPushStatus, []map[string]any{status})
		if errs[0] != nil {
			return errs[0]
		}
		id = objs[0].ID
		task, err := pushTask(id, "start", runAt, pushTaskData{StatusID: id})
		if err != nil {
			return err
		}
		return a.storeError(a.tasks(ctx).EnqueueTasks(ctx, task))
	})
	if err != nil {
		return "", err
	}
	a.pushWorker.wake()
	return id, nil
}

// The statuses of a _PushStatus.
const (
	pushPending   = "pending"
	pushScheduled = "scheduled"
	pushRunning   = "running"
	pushSucceeded = "succeeded"
	pushFailed    = "failed"
)

// pushQueue is the task queue push delivery uses.
const pushQueue = "push"

// pushTaskData is a push task's payload: a start task names its status; a
// batch task also lists the installations to send to.
type pushTaskData struct {
	StatusID string   `json:"status"`
	IDs      []string `json:"ids,omitempty"`
}

func pushTask(statusID, name string, runAt time.Time, d pushTaskData) (storage.Task, error) {
	payload, err := json.Marshal(d)
	if err != nil {
		return storage.Task{}, err
	}
	return storage.Task{ID: statusID + ":" + name, Queue: pushQueue, RunAt: runAt, Payload: payload}, nil
}
