package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backoff between reconnections of WatchSchema.
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
	cfg := s.pool.Config().ConnConfig
	backoff := watchMinBackoff
	for first := true; ; first = false {
		conn, err := s.listen(ctx, cfg)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if first {
				return fmt.Errorf("postgres: watch schema: %w", err)
			}
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, watchMaxBackoff)
			continue
		}
		backoff = watchMinBackoff
		if !first {
			s.tables.forgetClass("")
			changed("")
		}
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				break
			}
			s.tables.forgetClass(n.Payload)
			changed(n.Payload)
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

func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+quoteIdent(s.channel)); err != nil {
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
