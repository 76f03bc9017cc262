package parse_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/pgtest"
)

// TestAnalyticsCountsAcrossInstances records one day's first events
// concurrently through two Apps on one database: every event is counted
// once, on the one counter row both instances increment.
func TestAnalyticsCountsAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := instances(t)
	apps := []*parse.App{a, b}
	at := time.Date(2020, 2, 29, 23, 30, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			dims := []parse.Dimension{{Key: "i", Value: fmt.Sprint(i)}}
			if err := apps[i%2].Analytics.Track(ctx, "Opened", at, dims...); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := apps[0].Analytics.Track(ctx, "Opened", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	counts, err := apps[1].Analytics.Counts(ctx, at, at.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]parse.EventCount{
		{Name: "Opened", Day: time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC), Count: 24},
		{Name: "Opened", Day: time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC), Count: 1},
	})
	if got := fmt.Sprint(counts); got != want {
		t.Fatalf("counts = %s, want %s", got, want)
	}
	n, err := apps[0].Query(parse.ClassEventLog).EqualTo("name", "Opened").Count(ctx)
	if err != nil || n != 25 {
		t.Fatalf("stored events = %d, %v; want 25", n, err)
	}
	wantError(t, "empty name", apps[0].Analytics.Track(ctx, "", at), parse.InvalidEventName, "Invalid event name.")
}

func BenchmarkAnalyticsTrack(b *testing.B) {
	ctx := context.Background()
	app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", Store: pgtest.NewStore(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	dims := []parse.Dimension{{Key: "source", Value: "bench"}, {Key: "dayType", Value: "weekday"}}
	b.ResetTimer()
	for b.Loop() {
		if err := app.Analytics.Track(ctx, "Search", time.Time{}, dims...); err != nil {
			b.Fatal(err)
		}
	}
}
