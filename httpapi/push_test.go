package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/internal/pgtest"
	pushrec "github.com/parsego/parse/push/recorder"
	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/postgres"
)

// withPush serves an App on store (its task queue included) that pushes
// through p, polling often so that tests see deliveries quickly.
func withPush(store storage.Store, p parse.PushProvider, tune func(*parse.PushConfig)) envOption {
	return func(c *parse.Config, _ *httpapi.Options) {
		c.Store = store
		c.Push.Provider = p
		c.Push.PollInterval = 50 * time.Millisecond
		c.Push.RetryBackoff = 20 * time.Millisecond
		if tune != nil {
			tune(&c.Push)
		}
	}
}

// secondStore opens another Store on the namespace ns: another instance.
func secondStore(t *testing.T, ns string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.DSN(t), postgres.Options{Schema: ns, MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// sendPush posts a push with the master key and returns its status id.
func (e *env) sendPush(body map[string]any) string {
	e.t.Helper()
	res := e.do(req{method: "POST", path: "/push", auth: "master", body: body})
	res.expect(e.t, http.StatusOK, `{"result":true}`)
	id := res.header.Get("X-Parse-Push-Status-Id")
	if !idPattern.MatchString(id) {
		e.t.Fatalf("X-Parse-Push-Status-Id %q", id)
	}
	return id
}

// pushStatus reads a _PushStatus with the master key.
func (e *env) pushStatus(id string) map[string]any {
	e.t.Helper()
	res := e.do(req{method: "GET", path: "/classes/_PushStatus/" + id, auth: "master"})
	if res.status != http.StatusOK {
		e.t.Fatalf("status %s: %d %s", id, res.status, res.body)
	}
	return res.obj(e.t)
}

// waitPush polls a push until its status is one of want, and returns it.
func (e *env) waitPush(id string, timeout time.Duration, want ...string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := e.pushStatus(id)
		if slices.Contains(want, st["status"].(string)) {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("push %s still %v after %v: %v", id, st["status"], timeout, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seedInstallations stores installations straight into the store (the
// class must exist), 1000 per statement.
func seedInstallations(t testing.TB, st storage.Store, docs []map[string]any) []string {
	t.Helper()
	now := time.Now().UTC()
	var ids []string
	for chunk := range slices.Chunk(docs, 1000) {
		objs := make([]storage.Object, len(chunk))
		for i, d := range chunk {
			data, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			id := fmt.Sprintf("i%09d", len(ids))
			ids = append(ids, id)
			objs[i] = storage.Object{ID: id, CreatedAt: now, UpdatedAt: now, Data: data}
		}
		if err := st.Insert(context.Background(), parse.ClassInstallation, objs...); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// delivered counts the deliveries each installation got.
func delivered(recs ...*pushrec.Recorder) map[string]int {
	n := map[string]int{}
	for _, r := range recs {
		for _, c := range r.Calls() {
			for _, d := range c.Devices {
				n[d.InstallationID]++
			}
		}
	}
	return n
}

func TestPushToTenThousandInstallations(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 installations")
	}
	t.Parallel()
	store := pgtest.NewStore(t)
	ios, android, web := &pushrec.Recorder{Types: []string{"ios"}, Keep: true}, &pushrec.Recorder{Types: []string{"android"}, Keep: true}, &pushrec.Recorder{Types: []string{"web"}, Keep: true}
	e := newEnv(t, withPush(store, parse.PushByType{"ios": ios, "android": android, "web": web}, nil))
	// One installation through the API creates the class.
	e.do(req{method: "POST", path: "/installations", body: map[string]any{"deviceType": "ios", "installationId": "other", "deviceToken": "x", "channels": []any{"elsewhere"}}}).expect(t, http.StatusCreated, "")

	const n = 10000
	types := []string{"ios", "android", "web"}
	docs := make([]map[string]any, 0, n+20)
	for i := range n {
		d := map[string]any{"deviceType": types[i%3], "deviceToken": "tok" + strconv.Itoa(i), "channels": []any{"all"}, "badge": float64(i % 7)}
		if i%10 == 0 {
			d["localeIdentifier"] = "fr-FR"
		}
		docs = append(docs, d)
	}
	for i := range 10 { // not targets: no token, or a type without a provider
		docs = append(docs, map[string]any{"deviceType": "ios", "channels": []any{"all"}, "badge": 1.0},
			map[string]any{"deviceType": "blackberry", "deviceToken": "bb" + strconv.Itoa(i), "channels": []any{"all"}})
	}
	ids := seedInstallations(t, store, docs)

	start := time.Now()
	id := e.sendPush(map[string]any{"channels": []any{"all"}, "data": map[string]any{"alert": "hello", "alert-fr": "bonjour", "badge": "Increment", "sound": "a.caf"}})
	st := e.waitPush(id, 2*time.Minute, "succeeded", "failed")
	elapsed := time.Since(start)
	t.Logf("delivered a push to %d installations in %v: %.0f installations/s", n, elapsed, n/elapsed.Seconds())

	if st["status"] != "succeeded" || st["numSent"] != float64(n) || st["numFailed"] != nil || st["count"] != nil {
		t.Fatalf("status %v", st)
	}
	if fmt.Sprint(st["sentPerType"]) != fmt.Sprint(map[string]any{"android": 3333.0, "ios": 3334.0, "web": 3333.0}) {
		t.Fatalf("sentPerType %v", st["sentPerType"])
	}
	counts := delivered(ios, android, web)
	for i := range n {
		if counts[ids[i]] != 1 {
			t.Fatalf("installation %d got %d deliveries", i, counts[ids[i]])
		}
	}
	if len(counts) != n {
		t.Fatalf("%d installations got the push, want %d", len(counts), n)
	}
	for ti, r := range []*pushrec.Recorder{ios, android, web} {
		for _, c := range r.Calls() {
			for _, d := range c.Devices {
				i, _ := strconv.Atoi(d.InstallationID[1:])
				wantAlert := "hello"
				if i%10 == 0 {
					wantAlert = "bonjour"
				}
				if d.DeviceType != types[ti] || d.DeviceToken != "tok"+strconv.Itoa(i) || i%3 != ti ||
					c.Notification.Data["badge"] != float64(i%7+1) || c.Notification.Data["alert"] != wantAlert ||
					c.Notification.Data["sound"] != "a.caf" || c.Notification.Data["alert-fr"] != nil {
					t.Fatalf("installation %d (%s) got %v", i, d.DeviceType, c.Notification.Data)
				}
			}
		}
	}
	// The badges were bumped once, those without a token's too not.
	res := e.do(req{method: "GET", path: "/installations", auth: "master", body: map[string]any{
		"where": map[string]any{"badge": map[string]any{"$gte": 1}, "deviceToken": map[string]any{"$exists": false}}, "keys": "badge"}})
	if r := res.obj(t)["results"].([]any); len(r) != 10 || r[0].(map[string]any)["badge"] != 1.0 {
		t.Fatalf("installations without a token: %s", res.body)
	}
}

func TestPushScheduling(t *testing.T) {
	t.Parallel()
	store := pgtest.NewStore(t)
	var mu sync.Mutex
	at := map[string]time.Time{} // deviceToken → delivery time
	rec := &pushrec.Recorder{Before: func(_ context.Context, _ parse.PushNotification, devs []parse.PushDevice) error {
		mu.Lock()
		defer mu.Unlock()
		for _, d := range devs {
			at[d.DeviceToken] = time.Now()
		}
		return nil
	}}
	e := newEnv(t, withPush(store, rec, nil))
	for _, inst := range []map[string]any{
		{"deviceType": "ios", "deviceToken": "utc", "channels": []any{"sched"}},
		{"deviceType": "ios", "deviceToken": "tokyo", "channels": []any{"local"}, "timeZone": "Asia/Tokyo"},
		{"deviceType": "android", "deviceToken": "newyork", "channels": []any{"local"}, "timeZone": "America/New_York"},
		{"deviceType": "android", "deviceToken": "nozone", "channels": []any{"local"}},
	} {
		e.do(req{method: "POST", path: "/installations", body: inst}).expect(t, http.StatusCreated, "")
	}

	// In three seconds, UTC.
	start := time.Now()
	when := start.Add(3 * time.Second).UTC()
	id := e.sendPush(map[string]any{"channels": []any{"sched"}, "data": map[string]any{"alert": "soon"}, "push_time": when.Format("2006-01-02T15:04:05.000Z")})
	if st := e.pushStatus(id); st["status"] != "scheduled" || st["pushTime"] != when.Format("2006-01-02T15:04:05.000Z") || st["numSent"] != 0.0 {
		t.Fatalf("scheduled status %v", st)
	}
	// In three seconds, Tokyo's local time: New York's comes 14 hours
	// later, and an installation without a timeZone never gets it.
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	local := start.Add(3 * time.Second).In(tokyo).Format("2006-01-02T15:04:05.000")
	lid := e.sendPush(map[string]any{"channels": []any{"local"}, "data": map[string]any{"alert": "local"}, "push_time": local})
	// A local-time push starts at once (UTC+14 reaches any local time
	// first) and queues a batch per time zone: scheduled, or already
	// running when the worker was quick, but nothing sent yet.
	if st := e.pushStatus(lid); st["status"] != "scheduled" && st["status"] != "running" || st["pushTime"] != local || st["numSent"] != 0.0 {
		t.Fatalf("local status %v", st)
	}

	st := e.waitPush(id, 10*time.Second, "succeeded")
	if st["numSent"] != 1.0 {
		t.Fatalf("status %v", st)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		_, done := at["tokyo"]
		mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	for _, tok := range []string{"utc", "tokyo"} {
		late := at[tok].Sub(start.Add(3 * time.Second))
		if at[tok].IsZero() || late < -10*time.Millisecond || late > 1500*time.Millisecond {
			t.Errorf("%s delivered %v after its time", tok, late)
		}
	}
	if _, ok := at["newyork"]; ok {
		t.Error("New York got its push 14 hours early")
	}
	if _, ok := at["nozone"]; ok {
		t.Error("an installation without a timeZone got a local-time push")
	}
	mu.Unlock()
	// Tokyo's batch is counted once the provider returned.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st := e.pushStatus(lid)
		if st["numSent"] == 1.0 || time.Now().After(deadline) {
			if st["status"] != "running" || st["numSent"] != 1.0 || st["count"] != 1.0 {
				t.Errorf("local push status %v, want running with New York's batch left", st)
			}
			break
		}
	}
}

func TestPushSurvivesACrashedInstance(t *testing.T) {
	t.Parallel()
	store, ns := pgtest.NewStoreNS(t)
	// The first instance sends two batches, then hangs in the third,
	// having handed it to the provider, until it is killed.
	first := &pushrec.Recorder{Keep: true}
	var calls int
	var mu sync.Mutex
	var inFlight []parse.PushDevice
	hung := make(chan struct{})
	first.Before = func(ctx context.Context, _ parse.PushNotification, devs []parse.PushDevice) error {
		mu.Lock()
		calls++
		third := calls == 3
		mu.Unlock()
		if third {
			inFlight = devs // as good as sent: the provider has them
			close(hung)
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	tune := func(c *parse.PushConfig) { c.BatchSize, c.Workers, c.Lease = 50, 1, time.Second }
	e1 := newEnv(t, withPush(store, first, tune))
	e1.do(req{method: "POST", path: "/installations", body: map[string]any{"deviceType": "web", "installationId": "creates-the-class"}}).expect(t, http.StatusCreated, "")
	docs := make([]map[string]any, 500)
	for i := range docs {
		docs[i] = map[string]any{"deviceType": "android", "deviceToken": "t" + strconv.Itoa(i), "channels": []any{"crash"}}
	}
	ids := seedInstallations(t, store, docs)
	id := e1.sendPush(map[string]any{"channels": []any{"crash"}, "data": map[string]any{"alert": "survive"}})
	select {
	case <-hung:
	case <-time.After(30 * time.Second):
		t.Fatal("the first instance never reached its third batch")
	}
	e1.app.Close()
	counts := delivered(first)
	sentBefore := len(counts) + len(inFlight)
	for _, d := range inFlight {
		counts[d.InstallationID]++
	}

	second := &pushrec.Recorder{Keep: true}
	e2 := newEnv(t, withPush(secondStore(t, ns), second, tune))
	st := e2.waitPush(id, 30*time.Second, "succeeded", "failed")
	if st["status"] != "succeeded" || st["numSent"] != 500.0 {
		t.Fatalf("status %v", st)
	}
	for id, n := range delivered(second) {
		counts[id] += n
	}
	twice := 0
	for _, id := range ids {
		switch counts[id] {
		case 1:
		case 2:
			twice++
		default:
			t.Fatalf("installation %s got %d deliveries", id, counts[id])
		}
	}
	// The hung batch was delivered by the second instance, to no more than
	// that batch twice; the two before it were not sent again.
	if sentBefore != 150 || twice != 50 {
		t.Fatalf("first instance sent %d, %d installations got the push twice; want 150 and the 50 of the hung batch", sentBefore, twice)
	}
}

func TestPushExpired(t *testing.T) {
	t.Parallel()
	rec := &pushrec.Recorder{Keep: true}
	e := newEnv(t, withPush(pgtest.NewStore(t), rec, nil))
	e.do(req{method: "POST", path: "/installations", body: map[string]any{"deviceType": "ios", "deviceToken": "t1", "channels": []any{"exp"}}}).expect(t, http.StatusCreated, "")
	now := time.Now()
	for name, body := range map[string]map[string]any{
		"expired before it was sent": {"expiration_time": float64(now.Add(-time.Second).Unix())},
		"expiring before its time": {
			"push_time":       now.Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano),
			"expiration_time": now.Add(500 * time.Millisecond).UTC().Format(time.RFC3339Nano),
		},
	} {
		body["channels"] = []any{"exp"}
		body["data"] = map[string]any{"alert": name}
		id := e.sendPush(body)
		st := e.waitPush(id, 10*time.Second, "succeeded", "failed")
		if st["status"] != "failed" || st["numSent"] != 0.0 || fmt.Sprint(st["errorMessage"]) != "map[message:the push expired before it was sent]" {
			t.Errorf("%s: status %v", name, st)
		}
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Fatalf("an expired push was sent: %+v", calls)
	}
}

// flaky is a provider whose first calls fail, and which reports some
// devices for retry, some with an invalid token.
type flaky struct {
	mu       sync.Mutex
	failures int // calls left to fail
	seen     map[string]int
}

func (f *flaky) PushTypes() []string { return []string{"ios"} }

func (f *flaky) Send(_ context.Context, _ parse.PushNotification, devs []parse.PushDevice) ([]parse.PushResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		return nil, fmt.Errorf("provider down")
	}
	var out []parse.PushResult
	for _, d := range devs {
		f.seen[d.DeviceToken]++
		r := parse.PushResult{Device: d, Sent: true}
		switch d.DeviceToken {
		case "busy":
			r = parse.PushResult{Device: d, Retry: f.seen["busy"] < 3, Sent: f.seen["busy"] >= 3, Error: "TooManyRequests"}
		case "alwaysbusy":
			r = parse.PushResult{Device: d, Retry: true, Error: "ServiceUnavailable"}
		case "gone":
			r = parse.PushResult{Device: d, InvalidToken: true, Error: "Unregistered"}
		}
		out = append(out, r)
	}
	return out, nil
}

// memoryStore hides the store's task queue: the App queues in memory.
type memoryStore struct{ storage.Store }

func TestPushRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		store func(*testing.T) storage.Store
	}{
		{"postgres queue", func(t *testing.T) storage.Store { return pgtest.NewStore(t) }},
		{"memory queue", func(t *testing.T) storage.Store { return memoryStore{pgtest.NewStore(t)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &flaky{failures: 2, seen: map[string]int{}}
			e := newEnv(t, withPush(tc.store(t), f, func(c *parse.PushConfig) {
				c.MaxAttempts, c.CleanupInvalidInstallations = 5, true
			}))
			for _, tok := range []string{"ok", "busy", "alwaysbusy", "gone"} {
				e.do(req{method: "POST", path: "/installations", body: map[string]any{"deviceType": "ios", "deviceToken": tok, "channels": []any{"r"}}}).expect(t, http.StatusCreated, "")
			}
			id := e.sendPush(map[string]any{"channels": []any{"r"}, "data": map[string]any{"alert": "again"}})
			st := e.waitPush(id, 20*time.Second, "succeeded", "failed")
			want := map[string]any{"status": "succeeded", "numSent": 2.0, "numFailed": 2.0,
				"sentPerType": map[string]any{"ios": 2.0}, "failedPerType": map[string]any{"ios": 2.0}, "count": nil}
			for k, v := range want {
				if fmt.Sprint(st[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v (status %v)", k, st[k], v, st)
				}
			}
			f.mu.Lock()
			if f.seen["ok"] != 1 || f.seen["busy"] != 3 || f.seen["alwaysbusy"] != 3 || f.seen["gone"] != 1 {
				t.Errorf("deliveries %v: ok once, busy until it went, alwaysbusy until the attempts ran out", f.seen)
			}
			f.mu.Unlock()
			res := e.do(req{method: "GET", path: "/installations", auth: "master", body: map[string]any{"where": map[string]any{"channels": "r", "deviceToken": map[string]any{"$exists": false}}}})
			if r := res.obj(t)["results"].([]any); len(r) != 1 {
				t.Fatalf("installations without a token after the push: %s", res.body)
			}
		})
	}
}

// BenchmarkPushDelivery measures a push to 2,000 installations, from POST
// /push to a succeeded _PushStatus (the badge bump included).
func BenchmarkPushDelivery(b *testing.B) {
	for _, badge := range []bool{false, true} {
		b.Run("badge="+strconv.FormatBool(badge), func(b *testing.B) {
			store := pgtest.NewStore(b)
			e := newEnv(b, withPush(store, &pushrec.Recorder{}, nil))
			e.do(req{method: "POST", path: "/installations", body: map[string]any{"deviceType": "ios", "installationId": "x"}})
			const n = 2000
			docs := make([]map[string]any, n)
			for i := range docs {
				docs[i] = map[string]any{"deviceType": "android", "deviceToken": "t" + strconv.Itoa(i), "channels": []any{"b"}}
			}
			seedInstallations(b, store, docs)
			data := map[string]any{"alert": "bench"}
			if badge {
				data["badge"] = "Increment"
			}
			b.ResetTimer()
			for b.Loop() {
				e.waitPush(e.sendPush(map[string]any{"channels": []any{"b"}, "data": data}), time.Minute, "succeeded")
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "installations/s")
		})
	}
}
