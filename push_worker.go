package parse

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parsego/parse/storage"
)

// pushWorker delivers the pushes of the task queue: every App instance
// with a push provider runs one, and they share the work through the
// queue. A push is two kinds of task: its start (due at its push_time)
// resolves the installations it targets, bumps their badges and queues
// one batch task per BatchSize installations (per time zone for a
// local-time push, due at that local time), all in one transaction; a
// batch sends, then counts what it sent in the _PushStatus and finishes in
// one transaction. An instance that dies mid-batch leaves the batch
// claimed; when its lease ends another instance sends it again, so a crash
// costs at most that batch sent twice.
type pushWorker struct {
	app    *App
	wakeCh chan struct{}
}

// startPushWorker starts the App's push delivery, which runs until ctx is
// done; Close waits for it.
func (a *App) startPushWorker(ctx context.Context) {
	a.pushWorker = &pushWorker{app: a, wakeCh: make(chan struct{}, 1)}
	if a.cfg.Push.Provider == nil {
		return
	}
	a.wg.Go(func() { a.pushWorker.run(ctx) })
}

// wake makes the worker look for due tasks now.
func (w *pushWorker) wake() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

func (w *pushWorker) run(ctx context.Context) {
	cfg := w.app.cfg.Push
	tick := time.NewTicker(cfg.PollInterval)
	defer tick.Stop()
	var running sync.WaitGroup
	defer running.Wait()
	busy := 0
	done := make(chan struct{}, cfg.Workers)
	for {
		if free := cfg.Workers - busy; free > 0 {
			tasks, err := w.app.tasks(ctx).ClaimTasks(ctx, pushQueue, free, cfg.Lease)
			if err != nil && ctx.Err() == nil {
				w.app.log.Error("push: claiming tasks", "err", err)
			}
			for _, t := range tasks {
				busy++
				running.Go(func() {
					w.process(ctx, t)
					done <- struct{}{}
				})
			}
			if len(tasks) == free {
				continue // more may be due
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-done:
			busy--
		case <-tick.C:
		case <-w.wakeCh:
		}
	}
}

// process runs one task. When it fails it is tried again after a backoff,
// unless the App is closing: then it stays claimed, and its lease decides
// when it runs again.
func (w *pushWorker) process(ctx context.Context, t storage.Task) {
	a := w.app
	var d pushTaskData
	err := json.Unmarshal(t.Payload, &d)
	if err == nil {
		ctx = WithAuth(ctx, masterAuth)
		if d.IDs == nil {
			err = w.start(ctx, t, d)
		} else {
			err = w.batch(ctx, t, d)
		}
	}
	if err == nil || ctx.Err() != nil {
		return
	}
	cause := err
	a.log.Error("push: task failed", "task", t.ID, "attempt", t.Attempts, "err", cause)
	if t.Attempts < a.cfg.Push.MaxAttempts {
		err = a.tasks(ctx).RetryTask(ctx, t.ID, time.Now().Add(w.backoff(t.Attempts)), nil)
	} else {
		// Out of attempts: the push fails, with the reason.
		err = a.Tx(ctx, func(ctx context.Context) error {
			failed := map[string]any{"status": pushFailed, "errorMessage": map[string]any{"message": cause.Error()}}
			if err := w.setStatus(ctx, d.StatusID, failed); err != nil {
				return err
			}
			return a.tasks(ctx).FinishTask(ctx, t.ID)
		})
	}
	if err != nil && ctx.Err() == nil {
		a.log.Error("push: rescheduling task", "task", t.ID, "err", err)
	}
}

// backoff is the wait before the next attempt after attempt ones.
func (w *pushWorker) backoff(attempt int) time.Duration {
	return w.app.cfg.Push.RetryBackoff << min(attempt-1, 16)
}

// pushState is what a task reads of its push's _PushStatus.
type pushState struct {
	status string
	where  map[string]any
	data   map[string]any
	// at is the push time; local marks a local-time push.
	at     time.Time
	local  bool
	expiry time.Time // zero: none
	// interval is the expiration_interval of a scheduled push, which
	// counts from the push time.
	interval time.Duration
}

// readPush reads a push's state; nil when its _PushStatus is gone.
func (w *pushWorker) readPush(ctx context.Context, id string) (*pushState, error) {
	o, err := w.app.Query(ClassPushStatus).Get(ctx, id)
	if ErrorCode(err) == ObjectNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p := &pushState{}
	p.status, _ = o.Fields["status"].(string)
	query, _ := o.Fields["query"].(string)
	payload, _ := o.Fields["payload"].(string)
	if err := json.Unmarshal([]byte(query), &p.where); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(payload), &p.data); err != nil {
		return nil, err
	}
	pushTime, _ := o.Fields["pushTime"].(string)
	p.at, p.local, err = pushTimeValue(pushTime)
	if err != nil {
		return nil, err
	}
	if ms, ok := o.Fields["expiry"].(float64); ok {
		p.expiry = time.UnixMilli(int64(ms))
	}
	if s, ok := o.Fields["expiration_interval"].(float64); ok {
		p.interval = time.Duration(s * float64(time.Second))
	}
	return p, nil
}

// setStatus updates a _PushStatus.
func (w *pushWorker) setStatus(ctx context.Context, id string, fields map[string]any) error {
	_, err := w.app.updateObject(ctx, ClassPushStatus, id, fields, writeOpts{})
	return err
}

// start begins a push: it lists the installations targeted, applies the
// badge, queues the batches and marks the push running, in one
// transaction.
func (w *pushWorker) start(ctx context.Context, t storage.Task, d pushTaskData) error {
	a := w.app
	p, err := w.readPush(ctx, d.StatusID)
	if err != nil {
		return err
	}
	finish := func(ctx context.Context) error { return a.tasks(ctx).FinishTask(ctx, t.ID) }
	if p == nil || (p.status != pushPending && p.status != pushScheduled) {
		return finish(ctx)
	}
	now := time.Now()
	update := map[string]any{"status": pushRunning}
	if p.expiry.IsZero() && p.interval > 0 {
		p.expiry = p.at.Add(p.interval)
		update["expiry"] = float64(p.expiry.UnixMilli())
	}
	if !p.expiry.IsZero() && now.After(p.expiry) {
		return a.Tx(ctx, func(ctx context.Context) error {
			update["status"] = pushFailed
			update["errorMessage"] = map[string]any{"message": "the push expired before it was sent"}
			if err := w.setStatus(ctx, d.StatusID, update); err != nil {
				return err
			}
			return finish(ctx)
		})
	}
	targets, err := w.targets(ctx, p)
	if err != nil {
		return err
	}
	// A local-time push goes out when each time zone reaches push_time.
	groups := map[time.Time][]string{}
	var ids []string
	for _, tg := range targets {
		at := now
		if p.local {
			loc, err := time.LoadLocation(tg.timeZone)
			if tg.timeZone == "" || err != nil {
				continue // no time zone: not a target, as the guide says
			}
			wall := p.at
			at = time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), loc).UTC()
		}
		groups[at] = append(groups[at], tg.id)
		ids = append(ids, tg.id)
	}
	size := a.cfg.Push.BatchSize
	var tasks []storage.Task
	for _, at := range slices.SortedFunc(maps.Keys(groups), time.Time.Compare) {
		for chunk := range slices.Chunk(groups[at], size) {
			task, err := pushTask(d.StatusID, "b"+strconv.Itoa(len(tasks)), later(at, now), pushTaskData{StatusID: d.StatusID, IDs: chunk})
			if err != nil {
				return err
			}
			tasks = append(tasks, task)
		}
	}
	op, bump, _ := badgeOp(p.data)
	err = a.Tx(ctx, func(ctx context.Context) error {
		if bump {
			// As the reference: every installation targeted gets the
			// badge, before anything is sent.
			var value any = op
			if op == nil {
				value = p.data["badge"]
			}
			sop, err := fieldOp("badge", value)
			if err != nil {
				return err
			}
			u := storage.Update{Ops: []storage.Op{sop}, UpdatedAt: now.UTC().Truncate(time.Millisecond)}
			store := a.storeFor(ctx)
			for _, id := range ids {
				if _, err := store.Update(ctx, ClassInstallation, id, u); err != nil && !errors.Is(err, storage.ErrNotFound) {
					return a.storeError(err)
				}
			}
		}
		if len(tasks) == 0 {
			update["status"] = pushSucceeded
		} else {
			update["count"] = float64(len(tasks))
		}
		if err := w.setStatus(ctx, d.StatusID, update); err != nil {
			return err
		}
		if err := a.tasks(ctx).EnqueueTasks(ctx, tasks...); err != nil {
			return err
		}
		return finish(ctx)
	})
	if err == nil && len(tasks) > 0 {
		w.wake()
	}
	return err
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// target is an installation a push goes to.
type target struct{ id, timeZone string }

// targets lists the installations a push's query matches that have a
// deviceToken, in objectId order, a page at a time.
func (w *pushWorker) targets(ctx context.Context, p *pushState) ([]target, error) {
	const page = 1000
	var out []target
	last := ""
	for {
		q := w.app.Query(ClassInstallation).Where(p.where).Order("objectId").Limit(page).Keys("timeZone")
		if _, ok := p.where["deviceToken"]; !ok {
			q.Exists("deviceToken")
		}
		if last != "" {
			q.GreaterThan("objectId", last)
		}
		objs, err := q.Find(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			tz, _ := o.Fields["timeZone"].(string)
			out = append(out, target{id: o.ID, timeZone: tz})
		}
		if len(objs) < page {
			return out, nil
		}
		last = objs[len(objs)-1].ID
	}
}

// batch sends a push to one batch of installations and counts the
// outcome.
func (w *pushWorker) batch(ctx context.Context, t storage.Task, d pushTaskData) error {
	a := w.app
	p, err := w.readPush(ctx, d.StatusID)
	if err != nil {
		return err
	}
	if p == nil || p.status == pushFailed || p.status == pushSucceeded {
		return a.tasks(ctx).FinishTask(ctx, t.ID)
	}
	ids := make([]any, len(d.IDs))
	for i, id := range d.IDs {
		ids[i] = id
	}
	objs, err := a.Query(ClassInstallation).ContainedIn("objectId", ids...).Exists("deviceToken").Limit(len(ids)).Find(ctx)
	if err != nil {
		return err
	}
	types := a.cfg.Push.Provider.PushTypes()
	var results []PushResult
	groups := map[string][]PushDevice{}
	var order []string
	locales := pushLocales(p.data)
	incrementing := isIncrement(p.data)
	for _, o := range objs {
		dev := pushDevice(o)
		if !slices.Contains(types, dev.DeviceType) {
			continue
		}
		if !p.expiry.IsZero() && time.Now().After(p.expiry) {
			results = append(results, PushResult{Device: dev, Error: "expired"})
			continue
		}
		key := localeOf(o, locales) + "\x00"
		if incrementing {
			badge, _ := o.Fields["badge"].(float64)
			key += strconv.FormatFloat(badge, 'f', -1, 64)
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], dev)
	}
	var retry []string
	for _, key := range order {
		locale, badge, _ := strings.Cut(key, "\x00")
		n := PushNotification{PushStatusID: d.StatusID, Data: localizedData(p.data, locale), Expiration: p.expiry}
		if incrementing {
			b, _ := strconv.ParseFloat(badge, 64)
			n.Data["badge"] = b
		}
		res, err := a.cfg.Push.Provider.Send(ctx, n, groups[key])
		if err != nil {
			if ctx.Err() != nil || t.Attempts < a.cfg.Push.MaxAttempts {
				return err
			}
			for _, dev := range groups[key] {
				results = append(results, PushResult{Device: dev, Error: err.Error()})
			}
			continue
		}
		for _, r := range res {
			if r.Retry && !r.Sent && t.Attempts < a.cfg.Push.MaxAttempts {
				retry = append(retry, r.Device.InstallationID)
				continue
			}
			results = append(results, r)
		}
	}
	return a.Tx(ctx, func(ctx context.Context) error {
		if err := w.track(ctx, d.StatusID, results, len(retry) == 0); err != nil {
			return err
		}
		if a.cfg.Push.CleanupInvalidInstallations {
			for _, r := range results {
				if r.InvalidToken {
					_, err := a.updateObject(ctx, ClassInstallation, r.Device.InstallationID, map[string]any{"deviceToken": nil}, writeOpts{})
					if err != nil && ErrorCode(err) != ObjectNotFound {
						return err
					}
				}
			}
		}
		if len(retry) > 0 {
			payload, err := json.Marshal(pushTaskData{StatusID: d.StatusID, IDs: retry})
			if err != nil {
				return err
			}
			return a.tasks(ctx).RetryTask(ctx, t.ID, time.Now().Add(w.backoff(t.Attempts)), payload)
		}
		return a.tasks(ctx).FinishTask(ctx, t.ID)
	})
}

// track counts a batch's outcome in the _PushStatus, as the reference's
// trackSent: numSent, numFailed, sentPerType and failedPerType grow, and
// when the batch is done count drops; the last batch marks the push
// succeeded.
func (w *pushWorker) track(ctx context.Context, id string, results []PushResult, done bool) error {
	update := map[string]any{"status": pushRunning}
	var sent, failed float64
	perType := map[string]float64{}
	for _, r := range results {
		key := "failedPerType." + r.Device.DeviceType
		if r.Sent {
			key = "sentPerType." + r.Device.DeviceType
			sent++
		} else {
			failed++
		}
		perType[key]++
	}
	for k, n := range perType {
		update[k] = Increment(n)
	}
	if sent > 0 {
		update["numSent"] = Increment(sent)
	}
	if failed > 0 {
		update["numFailed"] = Increment(failed)
	}
	if done {
		update["count"] = Increment(-1)
	}
	o, err := w.app.updateObject(ctx, ClassPushStatus, id, update, writeOpts{})
	if err != nil {
		return err
	}
	if n, ok := o.Fields["count"].(float64); done && ok && n <= 0 {
		return w.setStatus(ctx, id, map[string]any{"status": pushSucceeded, "count": nil})
	}
	return nil
}

func pushDevice(o *Object) PushDevice {
	d := PushDevice{InstallationID: o.ID}
	d.DeviceToken, _ = o.Fields["deviceToken"].(string)
	d.DeviceType, _ = o.Fields["deviceType"].(string)
	d.PushType, _ = o.Fields["pushType"].(string)
	d.AppIdentifier, _ = o.Fields["appIdentifier"].(string)
	return d
}

// isIncrement reports whether a push increments badges, each device then
// getting its own.
func isIncrement(data map[string]any) bool {
	op, ok, _ := badgeOp(data)
	return ok && op != nil
}

// localizableKeys are the data keys with per-locale variants
// ("alert-fr").
func localizableKeys() [2]string { return [2]string{"alert", "title"} }

// pushLocales lists the locales a push has variants for, sorted.
func pushLocales(data map[string]any) []string {
	var out []string
	for k := range data {
		for _, lk := range localizableKeys() {
			if l, ok := strings.CutPrefix(k, lk+"-"); ok && !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}

// localeOf is the first locale that begins the installation's
// localeIdentifier, "" when none does.
func localeOf(o *Object, locales []string) string {
	id, _ := o.Fields["localeIdentifier"].(string)
	for _, l := range locales {
		if id != "" && strings.HasPrefix(id, l) {
			return l
		}
	}
	return ""
}

// localizedData is data for one locale: its variants replace alert and
// title, and no variant is left.
func localizedData(data map[string]any, locale string) map[string]any {
	out := make(map[string]any, len(data))
	for k, v := range data {
		if !isLocaleKey(k) {
			out[k] = v
		}
	}
	if locale != "" {
		for _, lk := range localizableKeys() {
			if v, ok := data[lk+"-"+locale]; ok && v != nil && v != "" {
				out[lk] = v
			}
		}
	}
	return out
}

func isLocaleKey(k string) bool {
	for _, lk := range localizableKeys() {
		if strings.HasPrefix(k, lk+"-") {
			return true
		}
	}
	return false
}
