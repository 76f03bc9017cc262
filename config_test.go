package parse_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse"
)

// TestParamsSharedByInstances runs two Apps on one database, as two
// instances of a deployment: what one saves the other reads at once, and
// concurrent increments through both are all counted.
func TestParamsSharedByInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := instances(t)
	when := time.Date(2022, 1, 2, 3, 4, 5, 678e6, time.UTC)
	err := a.Params.Update(ctx, map[string]any{"n": 0, "when": when, "secret": "s"}, map[string]bool{"secret": true})
	if err != nil {
		t.Fatal(err)
	}
	// At once: b's schema cache may not know the class a just made.
	if first, err := b.Params.Get(ctx); err != nil || first.Params["secret"] != "s" {
		t.Fatalf("b right after a's first save: %+v, %v", first, err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		app := a
		if i%2 == 1 {
			app = b
		}
		wg.Go(func() {
			if err := app.Params.Update(ctx, map[string]any{"n": parse.Increment(1)}, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := b.Params.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Params["n"] != 20.0 || !got.Params["when"].(time.Time).Equal(when) || got.Params["secret"] != "s" || !got.MasterKeyOnly["secret"] {
		t.Fatalf("master read = %+v", got)
	}
	client, err := a.Params.Get(parse.WithAuth(ctx, parse.Auth{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := client.Params["secret"]; ok || len(client.Params) != 2 || len(client.MasterKeyOnly) != 2 {
		t.Fatalf("client read = %+v", client)
	}
	if err := a.Params.Update(parse.WithAuth(ctx, parse.Auth{}), map[string]any{"n": 1}, nil); err != parse.ErrMasterKeyRequired {
		t.Fatalf("client update: %v", err)
	}
	ro := parse.WithAuth(ctx, parse.Auth{Master: true, ReadOnly: true})
	wantError(t, "read-only update", a.Params.Update(ro, map[string]any{"n": 1}, nil), parse.OperationForbidden,
		"read-only masterKey isn't allowed to update the config.")
}
