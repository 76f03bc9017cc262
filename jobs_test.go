package parse_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/storage/postgres"
)

// waitJob polls a job's _JobStatus until it leaves "running".
func waitJob(t *testing.T, app *parse.App, id string) *parse.Object {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := app.Objects.Get(context.Background(), parse.ClassJobStatus, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Fields["status"] != "running" || time.Now().After(deadline) {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestJobs(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	release := make(chan struct{})
	app.Jobs.Define("report", func(ctx context.Context, req *parse.JobRequest) (any, error) {
		if err := req.Message(ctx, "half way"); err != nil {
			return nil, err
		}
		<-release
		return map[string]any{"n": req.Params["n"]}, nil
	})
	app.Jobs.Define("broken", func(context.Context, *parse.JobRequest) (any, error) {
		return nil, errors.New("out of paper")
	})
	app.Jobs.Define("panics", func(context.Context, *parse.JobRequest) (any, error) { panic("no") })

	id, err := app.Jobs.Start(ctx, "report", map[string]any{"n": 3.0})
	if err != nil {
		t.Fatal(err)
	}
	// Running, with the progress message, and only for the master key.
	for {
		st, err := app.Objects.Get(ctx, parse.ClassJobStatus, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Fields["message"] == "half way" {
			if st.Fields["status"] != "running" || st.Fields["jobName"] != "report" || st.Fields["source"] != "api" {
				t.Errorf("running status: %v", st.Fields)
			}
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, err = app.Objects.Get(parse.WithAuth(ctx, parse.Auth{}), parse.ClassJobStatus, id)
	wantCode(t, err, parse.OperationForbidden)
	close(release)
	st := waitJob(t, app, id)
	if st.Fields["status"] != "succeeded" || st.Fields["message"] != `{"n":3}` || st.Fields["finishedAt"] == nil {
		t.Errorf("finished status: %v", st.Fields)
	}

	for name, msg := range map[string]string{"broken": "out of paper", "panics": "cloud code failed"} {
		id, err := app.Jobs.Start(ctx, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st := waitJob(t, app, id); st.Fields["status"] != "failed" || st.Fields["message"] != msg {
			t.Errorf("%s: %v", name, st.Fields)
		}
	}

	_, err = app.Jobs.Start(ctx, "nope", nil)
	wantCode(t, err, parse.ScriptFailed)
	_, err = app.Jobs.Start(parse.WithAuth(ctx, parse.Auth{}), "report", nil)
	if !errors.Is(err, parse.ErrMasterKeyRequired) {
		t.Errorf("client start: %v", err)
	}
	_, err = app.Jobs.Start(parse.WithAuth(ctx, parse.Auth{Master: true, ReadOnly: true}), "report", nil)
	wantCode(t, err, parse.OperationForbidden)
}

// TestScheduledJobRunsOnce: two Apps share one database and both run the
// scheduler; each due run of a schedule starts on one of them only.
func TestScheduledJobRunsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store1, store2 := pgtest.NewStorePair(t)
	var runs atomic.Int32
	var wg sync.WaitGroup
	newInstance := func(s *postgres.Store) *parse.App {
		app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", Store: s, JobScheduleInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		app.Jobs.Define("nightly", func(_ context.Context, req *parse.JobRequest) (any, error) {
			defer wg.Done()
			if req.Params["to"] != "all" {
				t.Errorf("params %v", req.Params)
			}
			runs.Add(1)
			return "ok", nil
		})
		return app
	}
	a1, a2 := newInstance(store1), newInstance(store2)
	wg.Add(2) // the once-only schedule and the first run of the repeating one
	for _, fields := range []map[string]any{
		{"jobName": "nightly", "params": `{"to":"all"}`},
		{"jobName": "nightly", "params": `{"to":"all"}`, "repeatMinutes": 60.0},
		{"jobName": "nightly", "params": `{"to":"all"}`, "startAfter": time.Now().Add(time.Hour).Format(time.RFC3339)},
		{"jobName": "undefined job"},
	} {
		if _, err := a1.Objects.Create(ctx, parse.ClassJobSchedule, fields); err != nil {
			t.Fatal(err)
		}
	}
	a1.Start(ctx)
	a2.Start(ctx)
	// Both schedulers also race by hand.
	var race sync.WaitGroup
	for _, a := range []*parse.App{a1, a2, a1, a2} {
		race.Go(func() {
			if _, err := a.Jobs.RunDue(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	race.Wait()
	wg.Wait()
	time.Sleep(100 * time.Millisecond) // a few more scheduler rounds
	if n := runs.Load(); n != 2 {
		t.Errorf("the due runs ran %d times, want 2", n)
	}
	statuses, err := a2.Query(parse.ClassJobStatus).EqualTo("source", "schedule").Find(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(statuses) != 2 {
		t.Errorf("%d job statuses, want 2", len(statuses))
	}
}
