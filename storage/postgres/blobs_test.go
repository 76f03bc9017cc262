package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/blobtest"
)

func TestBlobs(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, func(t *testing.T) parse.BlobStore { return pgtest.NewStore(t) })
}

// A blob is its metadata row plus one chunk row per MiB past the first;
// replacing it by a smaller one leaves no chunk behind, and so does
// deleting it.
func TestBlobChunkRows(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, ns := pgtest.NewStoreNS(t)
	conn, err := pgx.Connect(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	chunks := func() int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{ns, "_FileChunks"}.Sanitize()+` WHERE "name" = 'c'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct{ size, chunks int }{
		{3<<20 + 1, 3}, {1 << 20, 0}, {1<<20 + 1, 1}, {10, 0}, {5 << 20, 4},
	} {
		if _, err := s.PutBlob(ctx, "c", bytes.NewReader(make([]byte, c.size)), storage.BlobMeta{}); err != nil {
			t.Fatal(err)
		}
		if got := chunks(); got != c.chunks {
			t.Errorf("after a %d-byte blob: %d chunk rows, want %d", c.size, got, c.chunks)
		}
	}
	if err := s.DeleteBlob(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if got := chunks(); got != 0 {
		t.Errorf("after DeleteBlob: %d chunk rows, want 0", got)
	}
}

// A reader whose multi-chunk blob is replaced under it fails rather than
// mix the old contents with the new.
func TestBlobReplacedWhileRead(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := pgtest.NewStore(t)
	old := bytes.Repeat([]byte("o"), 3<<20)
	if _, err := s.PutBlob(ctx, "r", bytes.NewReader(old), storage.BlobMeta{}); err != nil {
		t.Fatal(err)
	}
	rc, _, err := s.GetBlob(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	first := make([]byte, 1<<20) // the first chunk came with the metadata
	if _, err := io.ReadFull(rc, first); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutBlob(ctx, "r", bytes.NewReader(bytes.Repeat([]byte("n"), 3<<20)), storage.BlobMeta{}); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(rc)
	if err == nil || strings.Contains(string(rest), "n") {
		t.Fatalf("read %d more bytes, err %v; want a failure and no new contents", len(rest), err)
	}
	if errors.Is(err, storage.ErrBlobNotFound) {
		t.Errorf("err %v is ErrBlobNotFound; want a read failure", err)
	}
}
