package sqlite_test

import (
	"testing"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/sqlite"
	"github.com/parsego/parse/storage/storagetest"
)

// open returns a fresh in-memory store, closed with t.
func open(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), sqlite.Memory, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestStorage runs the conformance suite shared with the PostgreSQL
// adapter.
func TestStorage(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t) })
}
