package fsblob

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDirSyncerCoalesces(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	d := newDirSyncer(t.TempDir())
	d.sync = func(dir string) error {
		calls.Add(1)
		time.Sleep(5 * time.Millisecond)
		return syncDir(dir)
	}
	// One caller at a time: each gets a sync of its own.
	for range 3 {
		if err := d.wait(); err != nil {
			t.Fatal(err)
		}
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("3 callers one after another: %d syncs, want 3", n)
	}
	// 50 callers at once share a few: the first, and one for those that
	// arrived while it ran (a slow scheduler may split them further).
	calls.Store(0)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := d.wait(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n < 1 || n > 25 {
		t.Errorf("50 concurrent callers: %d syncs, want between 1 and 25", n)
	}
}

func TestDirSyncerWaitsForALaterSync(t *testing.T) {
	t.Parallel()
	d := newDirSyncer(t.TempDir())
	running := make(chan struct{})
	release := make(chan struct{})
	var calls atomic.Int64
	d.sync = func(string) error {
		if calls.Add(1) == 1 {
			close(running)
			<-release
		}
		return nil
	}
	first := make(chan error)
	go func() { first <- d.wait() }()
	<-running
	// A caller arriving while a sync runs may have changed the directory
	// after it began: it must not be served by it.
	second := make(chan error)
	go func() { second <- d.wait() }()
	time.Sleep(10 * time.Millisecond)
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d syncs, want 2: the second caller needs one begun after it arrived", n)
	}
}

func TestDirSyncerReportsErrors(t *testing.T) {
	t.Parallel()
	d := newDirSyncer(t.TempDir())
	boom := errors.New("disk on fire")
	d.sync = func(string) error { return boom }
	if err := d.wait(); !errors.Is(err, boom) {
		t.Errorf("wait = %v, want %v", err, boom)
	}
	d.sync = func(string) error { return nil }
	if err := d.wait(); err != nil {
		t.Errorf("wait after a good sync = %v", err)
	}
}
