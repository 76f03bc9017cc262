package postgres

// The Store is also a blob store (parse.BlobStore), the default home of
// file contents: in the database, they are shared by every instance of
// the App and backed up with the data. Layout: migrations/0002_files.sql.
//
// Writes stream: a file that fits in one chunk is one statement; a larger
// one is written chunk by chunk in a transaction, which holds one pooled
// connection for the duration of the upload and leaves nothing behind
// when the reader fails. Reads stream too: the first chunk comes with the
// metadata, the others are fetched one statement each as the reader
// reaches them, so a slow client holds no connection between chunks.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

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
	first, eof, err := sqlkit.ReadChunk(r, nil, blobChunkSize)
	if err != nil {
		return 0, err
	}
	if eof {
		// The whole blob is one row: one statement, atomic by itself. The
		// chunks of a larger blob it replaces go with it.
		sql := `WITH gone AS (DELETE FROM ` + s.nsq + `."_FileChunks" WHERE "name" = $1) ` + s.upsertFileSQL()
		_, err := s.q.Exec(ctx, sql, name, meta.ContentType, int64(len(first)), created, blobChunkSize, gen, first)
		return int64(len(first)), s.wrap("put blob", err)
	}
	var size int64
	err = pgx.BeginFunc(ctx, s.q, func(tx pgx.Tx) error {
		// The upsert locks the name's row: a concurrent writer of the same
		// name waits for this transaction, and the chunks deleted next are
		// all there are.
		if _, err := tx.Exec(ctx, s.upsertFileSQL(), name, meta.ContentType, int64(len(first)), created, blobChunkSize, gen, first); err != nil {
			return s.wrap("put blob", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+s.nsq+`."_FileChunks" WHERE "name" = $1`, name); err != nil {
			return s.wrap("put blob", err)
		}
		size = int64(len(first))
		buf := first
		insert := `INSERT INTO ` + s.nsq + `."_FileChunks" ("name", "seq", "generation", "data") VALUES ($1, $2, $3, $4)`
		for seq := 1; ; seq++ {
			var err error
			buf, eof, err = sqlkit.ReadChunk(r, buf[:0], blobChunkSize)
			if err != nil {
				return err
			}
			if len(buf) > 0 {
				if _, err := tx.Exec(ctx, insert, name, seq, gen, buf); err != nil {
					return s.wrap("put blob", err)
				}
				size += int64(len(buf))
			}
			if eof {
				break
			}
		}
		_, err := tx.Exec(ctx, `UPDATE `+s.nsq+`."_Files" SET "size" = $2 WHERE "name" = $1`, name, size)
		return s.wrap("put blob", err)
	})
	if err != nil {
		return 0, err
	}
	return size, nil
}

func (s *Store) upsertFileSQL() string {
	return `INSERT INTO ` + s.nsq + `."_Files" ("name", "content_type", "size", "created_at", "chunk_size", "generation", "data")
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT ("name") DO UPDATE SET "content_type" = EXCLUDED."content_type", "size" = EXCLUDED."size",
			"created_at" = EXCLUDED."created_at", "chunk_size" = EXCLUDED."chunk_size",
			"generation" = EXCLUDED."generation", "data" = EXCLUDED."data"`
}

// GetBlob opens the blob stored under name (see parse.BlobStore). The
// reader is an io.ReadSeekCloser; it runs its statements with ctx.
func (s *Store) GetBlob(ctx context.Context, name string) (io.ReadCloser, storage.BlobMeta, error) {
	defer s.lock()()
	b := &sqlkit.ChunkReader{}
	var meta storage.BlobMeta
	var gen int64
	err := s.q.QueryRow(ctx, `SELECT "content_type", "size", "created_at", "chunk_size", "generation", "data" FROM `+
		s.nsq+`."_Files" WHERE "name" = $1`, name).
		Scan(&meta.ContentType, &meta.Size, &meta.Created, &b.Chunk, &gen, &b.First)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.BlobMeta{}, fmt.Errorf("postgres: get blob %q: %w", name, storage.ErrBlobNotFound)
	}
	if err != nil {
		return nil, storage.BlobMeta{}, s.wrap("get blob", err)
	}
	meta.Created = meta.Created.UTC()
	b.Size = meta.Size
	b.Fetch = func(seq int64) ([]byte, error) {
		defer s.lock()()
		var data []byte
		err := s.q.QueryRow(ctx, `SELECT "data" FROM `+s.nsq+`."_FileChunks" WHERE "name" = $1 AND "seq" = $2 AND "generation" = $3`,
			name, seq, gen).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, storage.ErrBlobChanged
		}
		return data, s.wrap("read blob", err)
	}
	return b, meta, nil
}

// DeleteBlob removes the blob stored under name, chunks included.
func (s *Store) DeleteBlob(ctx context.Context, name string) error {
	defer s.lock()()
	tag, err := s.q.Exec(ctx, `DELETE FROM `+s.nsq+`."_Files" WHERE "name" = $1`, name)
	if err != nil {
		return s.wrap("delete blob", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete blob %q: %w", name, storage.ErrBlobNotFound)
	}
	return nil
}
