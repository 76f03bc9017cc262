// Package teststore gives the project's tests the stores to run on: the
// embedded store by default, so that go test ./... passes on a machine with
// nothing installed, and PostgreSQL too when it is configured (as CI does).
//
// A package's tests call New for their stores, and its TestMain runs them
// once per store:
//
//	func TestMain(m *testing.M) { os.Exit(teststore.Main(m)) }
package teststore

import (
	"fmt"
	"os"
	"testing"

	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/sqlite"
)

// EnvKind names the store New returns: "sqlite" (the default) or
// "postgres". Main sets it for its PostgreSQL run; set by hand, it runs the
// tests on that store only.
const EnvKind = "PARSEGO_TEST_STORE"

// Store is what both adapters are: a storage.Store that joins and resolves
// roles (and holds blobs).
type Store interface {
	storage.Store
	storage.Joiner
	storage.RoleResolver
}

// New returns a fresh, empty store, released when t ends: an embedded one
// on a private in-memory database, or with PARSEGO_TEST_STORE=postgres one
// on a throwaway PostgreSQL namespace (pgtest.NewStore).
func New(t testing.TB) Store {
	t.Helper()
	if Kind() == "postgres" {
		return pgtest.NewStore(t)
	}
	s, err := sqlite.Open(t.Context(), sqlite.Memory, sqlite.Options{})
	if err != nil {
		t.Fatalf("teststore: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Kind is the kind of store New returns.
func Kind() string {
	if k := os.Getenv(EnvKind); k != "" {
		return k
	}
	return "sqlite"
}

// Main runs the tests on the embedded store, then once more on PostgreSQL
// when it is configured (PARSEGO_TEST_DATABASE_URL set, or
// PARSEGO_REQUIRE_POSTGRES=1), and returns the exit code for os.Exit. With
// PARSEGO_TEST_STORE set, it runs them once, on that store.
func Main(m *testing.M) int {
	if os.Getenv(EnvKind) != "" {
		return m.Run()
	}
	code := m.Run()
	if os.Getenv("PARSEGO_TEST_DATABASE_URL") == "" && os.Getenv("PARSEGO_REQUIRE_POSTGRES") != "1" {
		return code
	}
	fmt.Println("teststore: the same tests on PostgreSQL (" + EnvKind + "=postgres)")
	if err := os.Setenv(EnvKind, "postgres"); err != nil {
		fmt.Fprintln(os.Stderr, "teststore:", err)
		return 1
	}
	if c := m.Run(); c != 0 {
		code = c
	}
	return code
}
