package parse

import (
	"context"

	"github.com/parsego/parse/storage"
)

// Start starts the background work a long-running server needs beyond
// what New starts (the schema watch, and push delivery when a push
// provider is configured): the scheduler of the jobs stored in
// _JobSchedule (see Jobs.RunDue), and, when the store carries events
// between instances (storage.Notifier), the listener that tells this App
// at once about hooks changed through other instances (without it, an App
// rereads the hooks every few seconds). It returns at once; the work runs
// until ctx is done or Close. Programs that only serve requests, and
// tests, may skip Start: requests, triggers and POST /jobs work without it.
func (a *App) Start(ctx context.Context) {
	bg, cancel := context.WithCancel(a.bg)
	context.AfterFunc(ctx, cancel)
	a.listen(bg)
	interval := a.cfg.JobScheduleInterval
	a.wg.Go(func() { a.Jobs.schedule(bg, interval) })
}

// listen hears the other instances' events until ctx is done, unless this
// App already does.
func (a *App) listen(ctx context.Context) {
	n, ok := a.store.(storage.Notifier)
	if !ok || !a.listening.CompareAndSwap(false, true) {
		return
	}
	a.wg.Go(func() {
		defer a.listening.Store(false)
		// Whatever was cached before listening may be stale.
		a.Hooks.invalidate()
		err := n.Listen(ctx, a.cacheEvent)
		if err != nil && ctx.Err() == nil {
			a.log.Error("events from other instances stopped", "err", err)
		}
	})
}
