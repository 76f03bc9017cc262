package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backoff between reconnections of WatchSchema and Listen.
const (
	watchMinBackoff = 100 * time.Millisecond
	watchMaxBackoff = 10 * time.Second
)

// WatchSchema calls changed with the class name of every schema change on
// the store's namespace, by this process or another, until ctx is done; it
// then returns nil. It holds one dedicated connection, made with the pool's
// connection settings but outside the pool, so it takes nothing from the
// pool's budget.
//
// If the first connection fails WatchSchema returns the error. A connection
// lost later is re-established with backoff, and changed("") is then called
// once, meaning "invalidate every class": notifications sent while
// disconnected are lost.
//
// The store's own cache (which tables exist) follows the same notifications.
func (s *Store) WatchSchema(ctx context.Context, changed func(class string)) error {
	err := s.watch(ctx, s.channel, func(class string) {
		s.tables.forgetClass(class)
		changed(class)
	})
	if err != nil {
		return fmt.Errorf("postgres: watch schema: %w", err)
	}
	return nil
}

// Notify sends event to every Listen on the store's namespace, in this
// process and others, through NOTIFY: delivered after the sender's
// transaction commits, to listeners connected at the time.
func (s *Store) Notify(ctx context.Context, event string) error {
	_, err := s.q.Exec(ctx, `SELECT pg_notify($1, $2)`, s.events, event)
	return s.wrap("notify", err)
}

// Listen calls received with every event sent by Notify on the store's
// namespace until ctx is done, then returns nil. Like WatchSchema it holds
// a dedicated connection, re-established with backoff when lost; events
// sent meanwhile are lost, so received("") is called after a reconnection:
// anything may have happened.
func (s *Store) Listen(ctx context.Context, received func(event string)) error {
	if err := s.watch(ctx, s.events, received); err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	return nil
}

// watch LISTENs on channel and calls fn with each payload, and with "" after
// a reconnection, until ctx is done. It fails only when the first
// connection does.
func (s *Store) watch(ctx context.Context, channel string, fn func(payload string)) error {
	cfg := s.pool.Config().ConnConfig
	backoff := watchMinBackoff
	for first := true; ; first = false {
		conn, err := listen(ctx, cfg, channel)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if first {
				return err
			}
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, watchMaxBackoff)
			continue
		}
		backoff = watchMinBackoff
		if !first {
			fn("")
		}
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				break
			}
			fn(n.Payload)
		}
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		_ = conn.Close(closeCtx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if !sleep(ctx, backoff) {
			return nil
		}
	}
}

func listen(ctx context.Context, cfg *pgx.ConnConfig, channel string) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+quoteIdent(channel)); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

// sleep waits d unless ctx is done first; it reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
