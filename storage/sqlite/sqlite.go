// Package sqlite is the embedded storage adapter of parsego: a storage.Store
// (and blob store) in one SQLite database file, through modernc.org/sqlite,
// a pure-Go SQLite. It needs nothing installed and answers every request as
// storage/postgres does: both pass storage/storagetest.
//
// # Layout
//
//   - "_SCHEMA"("className" text primary key, "schema" text): the classes,
//     as the JSON document storage/postgres keeps;
//   - one table per class: "objectId" text primary key, "createdAt" and
//     "updatedAt" text (UTC, fixed-width with nanoseconds, so that text order
//     is time order), "_rperm" and "_wperm" text (the entries, each followed
//     by "|": see encodePerms; NULL means public) and "data", the document of
//     every other field in SQLite's binary JSON (JSONB, read without a parse
//     per row); schema and unique indexes are expression indexes on
//     json_extract("data", path);
//   - one join table "_Join:<field>:<OwningClass>"("owningId", "relatedId")
//     per Relation field;
//   - "_Files" and "_FileChunks": the contents of files (blobs.go).
//
// Conditions are SQL on SQLite's JSON functions where those can say it
// (json_extract, json_type, json_each), and Go functions registered with the
// driver where they can't: JSON equality of structured values, regular
// expressions, geo distances and polygons, and the update operators, which
// run inside the UPDATE statement (funcs.go).
//
// # Concurrency
//
// The database is in WAL mode: readers never wait for the writer. Every
// write goes through one connection (a pool of one), so writes are
// serialized in the process and SQLite's "database is locked" never reaches
// a caller; reads use a pool of their own. A transaction (Tx) holds the
// writer connection until it ends, and sees its own writes. busy_timeout
// covers another process opening the same file.
//
// Memory (":memory:") opens a private database in a temporary file,
// removed by Close: SQLite's in-memory databases can't have a reader beside
// an open write transaction, which the App needs (it reads the schema
// through the store while a batch transaction is open).
//
// Prepared statements of reads are cached (at most 512 texts), and the
// field types of each class, which tell which equalities need not look
// into arrays (where.go).
//
// A Store is for one process: it implements neither storage.SchemaWatcher
// nor storage.Notifier, which only instances sharing a database need.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

var (
	_ storage.Store        = (*Store)(nil)
	_ storage.Joiner       = (*Store)(nil)
	_ storage.RoleResolver = (*Store)(nil)
)

// Memory is the path Open takes for a private database that lasts until
// Close.
const Memory = ":memory:"

// Options configures a Store.
type Options struct {
	// Readers is the size of the pool of reading connections. Default: the
	// number of CPUs, at least 4.
	Readers int
}

// querier is what a Store runs statements on: a pool, or a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is a storage.Store on SQLite. Outside a transaction it reads on the
// reader pool and writes on the writer; the Store Tx gives fn does both on
// its transaction.
type Store struct {
	r, w   querier
	reader *sql.DB
	writer *sql.DB
	temp   string // the directory of a ":memory:" database, removed by Close
	types  *typeCache
	stmts  *stmtCache
	tx     *txState
}

// txState is a transaction's: its calls are serialized, since a
// database/sql transaction runs one statement at a time while
// storage.Store promises concurrent use; savepoints name nested writes.
type txState struct {
	mu            sync.Mutex
	tx            *sql.Tx
	seq           int
	schemaChanged bool
}

// Open opens (creating it when missing) the database file at path, or a
// private one for Memory (or ""), and creates parsego's tables.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	s := &Store{types: &typeCache{m: map[string]map[string]string{}}, stmts: &stmtCache{m: map[string]*sql.Stmt{}}}
	if path == Memory || path == "" {
		dir, err := os.MkdirTemp("", "parsego-sqlite-")
		if err != nil {
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
		s.temp = dir
		path = filepath.Join(dir, "parsego.db")
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = max(4, runtime.NumCPU())
	}
	// synchronous(NORMAL) is durable in WAL mode except against a power
	// loss; a private temporary database needs no durability at all.
	synchronous := "NORMAL"
	if s.temp != "" {
		synchronous = "OFF"
	}
	params := url.Values{}
	params.Add("_pragma", "busy_timeout(10000)")
	params.Add("_pragma", "foreign_keys(1)")
	params.Add("_pragma", "synchronous("+synchronous+")")
	params.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?"
	w := openDB(dsn + params.Encode() + "&_pragma=journal_mode(WAL)")
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s.writer, s.w, s.r = w, w, w
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	params.Add("_pragma", "query_only(1)")
	r := openDB(dsn + params.Encode())
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	r.SetConnMaxIdleTime(0)
	s.reader, s.r = r, r
	return s, nil
}

// openDB returns a pool on the driver with parsego's functions.
func openDB(dsn string) *sql.DB {
	return sql.OpenDB(connector{dsn: dsn})
}

// Close closes the pools and removes a Memory database.
func (s *Store) Close() {
	if s.tx != nil {
		return
	}
	if s.reader != nil {
		_ = s.reader.Close()
	}
	if s.writer != nil {
		_ = s.writer.Close()
	}
	if s.temp != "" {
		_ = os.RemoveAll(s.temp)
	}
}

// migrate creates the schema table.
func (s *Store) migrate(ctx context.Context) error {
	_, err := s.writer.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS "_SCHEMA" ("className" TEXT PRIMARY KEY, "schema" TEXT NOT NULL);`+blobDDL)
	if err != nil {
		return fmt.Errorf("sqlite: create tables: %w", err)
	}
	return nil
}

// Tx runs fn in a transaction on the writer connection (see
// storage.Store). fn's Store must not be used after fn returns.
func (s *Store) Tx(ctx context.Context, fn func(tx storage.Store) error) (err error) {
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("begin", err)
	}
	ts := &Store{r: tx, w: tx, reader: s.reader, writer: s.writer, types: s.types, tx: &txState{tx: tx}}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if ts.tx.schemaChanged {
			s.types.forget("")
		}
	}()
	if err := fn(ts); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.wrap("commit", err)
	}
	return nil
}

// lock serializes the calls on a transaction's Store.
func (s *Store) lock() func() {
	if s.tx == nil {
		return func() {}
	}
	s.tx.mu.Lock()
	return s.tx.mu.Unlock
}

// write runs fn atomically on the writer: in a transaction of its own, or
// inside the Store's transaction under a savepoint, so that a failed fn
// leaves nothing behind either way.
func (s *Store) write(ctx context.Context, fn func(q querier) error) error {
	if s.tx != nil {
		s.tx.seq++
		sp := fmt.Sprintf("sp%d", s.tx.seq)
		if _, err := s.tx.tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			return s.wrap("savepoint", err)
		}
		if err := fn(s.tx.tx); err != nil {
			_, _ = s.tx.tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO "+sp+"; RELEASE "+sp)
			return err
		}
		_, err := s.tx.tx.ExecContext(ctx, "RELEASE "+sp)
		return s.wrap("release savepoint", err)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("begin", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return s.wrap("commit", tx.Commit())
}

// Identifiers.

// quoteIdent quotes an identifier; the names it gets are validated, or
// built from validated parts and ":".
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func checkClass(class string) error {
	if !sqlkit.ValidIdent(class) {
		return fmt.Errorf("sqlite: invalid class name %q: %w", class, storage.ErrInvalidQuery)
	}
	return nil
}

func checkRelation(r storage.Relation) error {
	if err := checkClass(r.OwningClass); err != nil {
		return err
	}
	if !sqlkit.ValidIdent(r.Field) {
		return fmt.Errorf("sqlite: invalid relation field %q: %w", r.Field, storage.ErrInvalidQuery)
	}
	return nil
}

// Errors.

// Markers the Go functions put in their errors' messages (funcs.go), which
// reach the caller as SQLite's error text.
const (
	markTypeMismatch = "parsego: type mismatch: "
	markInvalid      = "parsego: invalid: "
)

// wrap maps a driver error to the storage errors the contract lists, and
// adds context to the others.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &storage.DuplicateError{Field: duplicateField(msg)}
		}
	}
	switch {
	case strings.Contains(msg, markTypeMismatch):
		return fmt.Errorf("sqlite: %s: %s: %w", op, msg, storage.ErrTypeMismatch)
	case strings.Contains(msg, markInvalid):
		return fmt.Errorf("sqlite: %s: %s: %w", op, msg, storage.ErrInvalidQuery)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// duplicateField recovers the field of a unique violation from SQLite's
// message: "UNIQUE constraint failed: index 'u:<class>:<field>'" for a
// unique index (uniqueIndexName), "... failed: <class>.objectId" for the
// primary key.
func duplicateField(msg string) string {
	if i := strings.Index(msg, "index 'u:"); i >= 0 {
		rest := msg[i+len("index 'u:"):]
		if j := strings.IndexByte(rest, '\''); j >= 0 {
			if _, field, ok := strings.Cut(rest[:j], ":"); ok {
				return field
			}
		}
	}
	return "objectId"
}

// isNoTable reports a statement naming a table that does not exist.
func isNoTable(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}
