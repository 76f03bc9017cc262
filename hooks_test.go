package parse_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/storage/postgres"
)

// TestHooksReachOtherInstances: a hook registered through one App is
// called by another on the same database at once: the change travels by
// NOTIFY, well before the copy of the hooks would expire.
func TestHooksReachOtherInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		json.NewEncoder(w).Encode(map[string]any{"success": body["params"]})
	}))
	t.Cleanup(srv.Close)
	store1, store2 := pgtest.NewStorePair(t)
	var apps []*parse.App
	for _, s := range []*postgres.Store{store1, store2} {
		app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", Store: s})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		app.Start(ctx)
		apps = append(apps, app)
	}
	a1, a2 := apps[0], apps[1]
	time.Sleep(100 * time.Millisecond) // a2 listens
	if _, err := a2.Functions.Run(ctx, "remote", nil); parse.ErrorCode(err) != parse.ScriptFailed {
		t.Fatalf("before the hook: %v", err)
	}
	hook := parse.Hook{FunctionName: "remote", URL: srv.URL}
	if _, err := a1.Hooks.Create(parse.WithAuth(ctx, parse.Auth{}), hook); err != parse.ErrMasterKeyRequired {
		t.Fatalf("client Create: %v", err)
	}
	_, err := a1.Hooks.Create(parse.WithAuth(ctx, parse.Auth{Master: true, ReadOnly: true}), hook)
	wantCode(t, err, parse.OperationForbidden)
	if _, err := a1.Hooks.Create(ctx, hook); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		res, err := a2.Functions.Run(ctx, "remote", map[string]any{"p": 1.0})
		if err == nil {
			if m, _ := res.(map[string]any); m["p"] != 1.0 {
				t.Errorf("result %v", res)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other instance did not call the hook: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, err := a2.Hooks.Functions(ctx); err != nil || len(got) != 1 || got[0].URL != srv.URL {
		t.Errorf("Functions() = %v, %v", got, err)
	}
	if err := a2.Hooks.Delete(ctx, hook); err != nil {
		t.Fatal(err)
	}
	_, err = a1.Hooks.Get(ctx, hook)
	wantCode(t, err, parse.WebhookError)
}
