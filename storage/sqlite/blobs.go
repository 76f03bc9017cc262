package sqlite

// The Store is also a blob store (parse.BlobStore), the default home of
// file contents: in the database file, backed up with the data.
//
// A blob is a row of "_Files" (its metadata and generation) and its
// contents in "_FileChunks", blobChunkSize bytes per row, under the
// generation of the write that stored them. Writes stream: each chunk is
// inserted by a statement of its own as it arrives, so an upload from a slow
// client never holds the writer between chunks, and a last transaction
// makes the new generation the blob's and drops the old one's chunks. A
// reader that finds no chunk of its generation knows the blob was replaced
// or deleted under it and fails instead of mixing contents. Reads stream
// too, one chunk per statement on the reader pool.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

// blobDDL creates the blob tables (migrate runs it).
const blobDDL = `
CREATE TABLE IF NOT EXISTS "_Files" (
	"name" TEXT PRIMARY KEY,
	"content_type" TEXT NOT NULL,
	"size" INTEGER NOT NULL,
	"created_at" TEXT NOT NULL,
	"chunk_size" INTEGER NOT NULL,
	"generation" INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS "_FileChunks" (
	"name" TEXT NOT NULL,
	"generation" INTEGER NOT NULL,
	"seq" INTEGER NOT NULL,
	"data" BLOB NOT NULL,
	PRIMARY KEY ("name", "generation", "seq")
);`

// blobChunkSize is the size of the chunks new blobs are cut into. Each
// blob records its own, so changing it leaves stored blobs readable.
const blobChunkSize = 1 << 20

// PutBlob stores what r yields under name (see parse.BlobStore).
func (s *Store) PutBlob(ctx context.Context, name string, r io.Reader, meta storage.BlobMeta) (int64, error) {
	defer s.lock()()
	created := meta.Created
	if created.IsZero() {
		created = time.Now()
	}
	gen := rand.Int64()
	insert := `INSERT INTO "_FileChunks" ("name", "generation", "seq", "data") VALUES (?, ?, ?, ?)`
	var size int64
	var buf []byte
	for seq := 0; ; seq++ {
		var eof bool
		var err error
		buf, eof, err = sqlkit.ReadChunk(r, buf[:0], blobChunkSize)
		if err == nil && (len(buf) > 0 || seq == 0) {
			_, err = s.w.ExecContext(ctx, insert, name, gen, seq, buf)
			err = s.wrap("put blob", err)
			size += int64(len(buf))
		}
		if err != nil {
			// Nothing of this generation may stay behind.
			_, _ = s.w.ExecContext(context.WithoutCancel(ctx), `DELETE FROM "_FileChunks" WHERE "name" = ? AND "generation" = ?`, name, gen)
			return 0, err
		}
		if eof {
			break
		}
	}
	err := s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO "_Files" ("name", "content_type", "size", "created_at", "chunk_size", "generation")
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT ("name") DO UPDATE SET "content_type" = excluded."content_type", "size" = excluded."size",
				"created_at" = excluded."created_at", "chunk_size" = excluded."chunk_size", "generation" = excluded."generation"`,
			name, meta.ContentType, size, formatTime(created), blobChunkSize, gen)
		if err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `DELETE FROM "_FileChunks" WHERE "name" = ? AND "generation" <> ?`, name, gen)
		return err
	})
	if err != nil {
		_, _ = s.w.ExecContext(context.WithoutCancel(ctx), `DELETE FROM "_FileChunks" WHERE "name" = ? AND "generation" = ?`, name, gen)
		return 0, s.wrap("put blob", err)
	}
	return size, nil
}

// GetBlob opens the blob stored under name (see parse.BlobStore). The
// reader is an io.ReadSeekCloser; it runs its statements with ctx.
func (s *Store) GetBlob(ctx context.Context, name string) (io.ReadCloser, storage.BlobMeta, error) {
	defer s.lock()()
	b := &sqlkit.ChunkReader{}
	var meta storage.BlobMeta
	var created string
	var gen int64
	err := s.r.QueryRowContext(ctx, `SELECT "content_type", "size", "created_at", "chunk_size", "generation" FROM "_Files" WHERE "name" = ?`, name).
		Scan(&meta.ContentType, &meta.Size, &created, &b.Chunk, &gen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storage.BlobMeta{}, fmt.Errorf("sqlite: get blob %q: %w", name, storage.ErrBlobNotFound)
	}
	if err != nil {
		return nil, storage.BlobMeta{}, s.wrap("get blob", err)
	}
	if meta.Created, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return nil, storage.BlobMeta{}, fmt.Errorf("sqlite: blob %q: created_at: %w", name, err)
	}
	b.Size = meta.Size
	b.Fetch = func(seq int64) ([]byte, error) {
		defer s.lock()()
		var data []byte
		err := s.r.QueryRowContext(ctx, `SELECT "data" FROM "_FileChunks" WHERE "name" = ? AND "generation" = ? AND "seq" = ?`,
			name, gen, seq).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, storage.ErrBlobChanged
		}
		return data, s.wrap("read blob", err)
	}
	return b, meta, nil
}

// DeleteBlob removes the blob stored under name, chunks included.
func (s *Store) DeleteBlob(ctx context.Context, name string) error {
	defer s.lock()()
	var n int64
	err := s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM "_Files" WHERE "name" = ?`, name)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = q.ExecContext(ctx, `DELETE FROM "_FileChunks" WHERE "name" = ?`, name)
		return err
	})
	if err != nil {
		return s.wrap("delete blob", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: delete blob %q: %w", name, storage.ErrBlobNotFound)
	}
	return nil
}
