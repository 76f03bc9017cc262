package postgres_test

import (
	"testing"

	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/storagetest"
)

// TestStorage runs the conformance suite shared with the embedded adapter.
func TestStorage(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return pgtest.NewStore(t)
	})
}
