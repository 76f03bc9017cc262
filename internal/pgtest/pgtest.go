// Package pgtest gives tests a PostgreSQL database: a DSN, and stores on
// throwaway namespaces dropped when the test ends.
//
// The database is PARSEGO_TEST_DATABASE_URL, by default
// postgres://postgres@127.0.0.1:5432/postgres. When it cannot be reached the
// tests that need it are skipped, unless PARSEGO_REQUIRE_POSTGRES=1 (as in
// CI), which makes them fail instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parsego/parse/storage/postgres"
)

// DefaultDSN is the database used when PARSEGO_TEST_DATABASE_URL is unset.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/postgres"

// reachable caches, per DSN, the outcome of the first connection attempt so
// that an absent server costs one timeout per test binary, not per test.
var reachable sync.Map // dsn -> *probe

type probe struct {
	once sync.Once
	err  error
}

// DSN returns the test database's connection string, skipping (or, with
// PARSEGO_REQUIRE_POSTGRES=1, failing) t when the server is unreachable.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("PARSEGO_TEST_DATABASE_URL")
	if dsn == "" {
		dsn = DefaultDSN
	}
	v, _ := reachable.LoadOrStore(dsn, &probe{})
	p := v.(*probe)
	p.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			err = conn.Ping(ctx)
			_ = conn.Close(ctx)
		}
		p.err = err
	})
	if p.err != nil {
		if os.Getenv("PARSEGO_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("pgtest: PostgreSQL at %s is unreachable (PARSEGO_REQUIRE_POSTGRES=1): %v", dsn, p.err)
		}
		t.Skipf("pgtest: PostgreSQL at %s is unreachable, skipping (set PARSEGO_TEST_DATABASE_URL, or PARSEGO_REQUIRE_POSTGRES=1 to fail): %v", dsn, p.err)
	}
	return dsn
}

// Option changes what NewStore builds.
type Option func(*config)

type config struct {
	maxConns int32
}

// MaxConns sets the size of the store's pool (default 8).
func MaxConns(n int32) Option { return func(c *config) { c.maxConns = n } }

// NewStore returns a Store on a fresh namespace parsego_t_<random hex>, with
// a small pool of its own. When t ends the store is closed and the namespace
// dropped.
func NewStore(t testing.TB, opts ...Option) *postgres.Store {
	t.Helper()
	s, _ := NewStoreNS(t, opts...)
	return s
}

// NewStoreNS is NewStore, also returning the namespace, so that a test can
// open a second Store on it.
func NewStoreNS(t testing.TB, opts ...Option) (*postgres.Store, string) {
	t.Helper()
	dsn := DSN(t)
	c := config{maxConns: 8}
	for _, o := range opts {
		o(&c)
	}
	ns := NewNamespace(t)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	cfg.MaxConns = c.maxConns
	// Tests don't need their commits on disk before they go on: without the
	// wait for the WAL flush, writers contending for one row (the
	// concurrency tests) run several times faster. Atomicity and isolation
	// are unchanged.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	t.Cleanup(pool.Close) // before the namespace is dropped: cleanups run last-in first-out
	s, err := postgres.New(ctx, pool, postgres.Options{Schema: ns})
	if err != nil {
		t.Fatalf("pgtest: store on %s: %v", ns, err)
	}
	t.Cleanup(s.Close)
	return s, ns
}

// NewStorePair returns two Stores on one fresh namespace, each with its
// own pool, as two instances sharing a database have. The second is opened
// with postgres.Open, as an application would.
func NewStorePair(t testing.TB) (*postgres.Store, *postgres.Store) {
	t.Helper()
	s1, ns := NewStoreNS(t)
	s2, err := postgres.Open(context.Background(), DSN(t), postgres.Options{Schema: ns})
	if err != nil {
		t.Fatalf("pgtest: second store on %s: %v", ns, err)
	}
	t.Cleanup(s2.Close)
	return s1, s2
}

// NewNamespace returns a fresh namespace name, parsego_t_<random hex>, and
// drops it (CASCADE) when t ends. It does not create it.
func NewNamespace(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
	ns := "parsego_t_" + randomHex(8)
	t.Cleanup(func() {
		// t.Context() is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("pgtest: drop %s: %v", ns, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{ns}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop %s: %v", ns, err)
		}
	})
	return ns
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
