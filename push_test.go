package parse_test

import (
	"context"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/push/recorder"
)

func TestPushValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "M", Store: pgtest.NewStore(t),
		Push: parse.PushConfig{Provider: &recorder.Recorder{}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	noPush := newApp(t)
	now := time.Now().UTC()
	iso := func(d time.Duration) string { return now.Add(d).Format("2006-01-02T15:04:05.000Z") }
	local := func(d time.Duration) string { return now.Add(d).Format("2006-01-02T15:04:05") }
	data := map[string]any{"alert": "x"}
	for _, tt := range []struct {
		name string
		app  *parse.App
		auth parse.Auth
		body map[string]any
		code int
	}{
		{"channels", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": data}, 0},
		{"a client", app, parse.Auth{}, map[string]any{"channels": []any{"a"}, "data": data}, parse.OperationForbidden},
		{"the read-only master key", app, parse.Auth{Master: true, ReadOnly: true}, map[string]any{"channels": []any{"a"}, "data": data}, parse.OperationForbidden},
		{"no provider", noPush, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": data}, parse.PushMisconfigured},
		{"where not an object", app, parse.Auth{Master: true}, map[string]any{"where": "x", "data": data}, parse.PushMisconfigured},
		{"channels not an array", app, parse.Auth{Master: true}, map[string]any{"channels": "a", "data": data}, parse.PushMisconfigured},
		{"a bad query", app, parse.Auth{Master: true}, map[string]any{"where": map[string]any{"a": map[string]any{"$bad": 1}}, "data": data}, parse.OperationForbidden},
		{"no data", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}}, parse.PushMisconfigured},
		{"data not an object", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": "x"}, parse.PushMisconfigured},
		{"a bad badge", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": map[string]any{"badge": "more"}}, parse.PushMisconfigured},
		{"badge Increment by 3", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": map[string]any{"badge": map[string]any{"__op": "Increment", "amount": 3.0}}}, 0},
		{"a badge number", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": map[string]any{"badge": 5.0}}, 0},
		{"push_time in an hour", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": data, "push_time": iso(time.Hour)}, 0},
		{"push_time in epoch seconds", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": data, "push_time": float64(now.Add(time.Hour).Unix())}, 0},
		{"push_time an hour ago", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": data, "push_time": iso(-time.Hour)}, parse.InvalidPushTime},
		{"push_time in three weeks", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": data, "push_time": iso(21 * 24 * time.Hour)}, parse.InvalidPushTime},
		{"local push_time an hour ago (still ahead somewhere)", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": data, "push_time": local(-time.Hour)}, 0},
		{"local push_time a day ago", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": data, "push_time": local(-24 * time.Hour)}, parse.InvalidPushTime},
		{"push_time with an offset", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": data, "push_time": now.Add(time.Hour).In(time.FixedZone("", 2*3600)).Format(time.RFC3339)}, 0},
		{"push_time not a time", app, parse.Auth{Master: true}, map[string]any{"channels": []any{"a"}, "data": data, "push_time": map[string]any{}}, parse.PushMisconfigured},
	} {
		_, err := tt.app.Push.Send(parse.WithAuth(ctx, tt.auth), tt.body)
		if got := parse.ErrorCode(err); got != tt.code {
			t.Errorf("%s: %v, want code %d", tt.name, err, tt.code)
		}
	}
	// With AllowClientPush, clients push too.
	open, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "M", Store: pgtest.NewStore(t),
		Push: parse.PushConfig{Provider: &recorder.Recorder{}, AllowClientPush: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { open.Close() })
	if _, err := open.Push.Send(parse.WithAuth(ctx, parse.Auth{}), map[string]any{"channels": []any{"a"}, "data": data}); err != nil {
		t.Fatal(err)
	}
}
