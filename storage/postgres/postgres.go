// Package postgres is the PostgreSQL storage adapter of parsego: a
// storage.Store keeping every class in a table of JSONB documents.
//
// # Layout
//
// All of parsego's tables live in one namespace (PostgreSQL schema,
// Options.Schema, "public" by default), and every statement names it, so
// search_path never matters and several apps can share a database:
//
//   - "_SCHEMA"("className" text primary key, "schema" jsonb): the classes;
//   - "_parsego_migrations": the versions of the embedded migrations applied;
//   - one table per class: "objectId" text primary key, "createdAt" and
//     "updatedAt" timestamptz, "_rperm" and "_wperm" text[] (the ACL; NULL
//     means public) and "data" jsonb with every other field, indexed by a GIN
//     index (jsonb_path_ops) serving equality, In and All conditions, with
//     btrees on "createdAt" and "updatedAt", and a GIN index on "_rperm"
//     plus a partial index of the public rows for the ACL check (a
//     BitmapOr of the two); schema indexes are btrees on ("data"->'f'),
//     except that an index on one Number field is on a generated float8
//     column "#f" and includes "_rperm", for index-only counts (numcols.go);
//   - one join table "_Join:<field>:<OwningClass>"("owningId", "relatedId")
//     per Relation field;
//   - "_Files" and "_FileChunks": the contents of files, for the Store's
//     blob methods (blobs.go).
//
// Schema changes take a per-class advisory lock, change _SCHEMA and the
// tables in one transaction and notify the channel WatchSchema listens on.
//
// Statements are parameterized (squirrel with $n placeholders; values and
// JSON path segments are bind parameters, identifiers are validated and
// quoted), run in one round trip where the contract allows it, and go through
// pgx's statement cache. Update operators are applied by SQL functions
// installed by the migrations, nested in one UPDATE statement, so concurrent
// updates never lose one another.
//
// # Watching the schema
//
// WatchSchema holds one dedicated connection (outside the pool) that LISTENs
// to the namespace's channel. When that connection is lost it reconnects
// with backoff and then calls changed("") once: notifications may have been
// missed meanwhile, so "" means "invalidate every class".
//
// # Limits
//
// Class names are at most 63 bytes, and a Relation field's join table name
// ("_Join:" + field + ":" + class) too, PostgreSQL's identifier limit.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	sq "github.com/Masterminds/squirrel"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

var (
	_ storage.Store         = (*Store)(nil)
	_ storage.SchemaWatcher = (*Store)(nil)
)

// psql builds root statements with $n placeholders. Fragments and nested
// builders keep squirrel's default "?" so that the root numbers every
// placeholder once (squirrel restarts at $1 inside nested Dollar builders).
var (
	psql = sq.StatementBuilder.PlaceholderFormat(sq.Dollar)
	qsql = sq.StatementBuilder
)

// objectColumns are the columns an Object is scanned from, in scan order.
const objectColumns = `"objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "data"`

// sqlstateTypeMismatch is the SQLSTATE the helper functions raise when an
// operator meets a value of the wrong type.
const sqlstateTypeMismatch = "PGT01"

// Options configures a Store.
type Options struct {
	// Schema is the PostgreSQL namespace holding parsego's tables and
	// functions, created when missing. Default "public".
	Schema string
	// MaxConns is the size of the pool Open creates when the DSN sets no
	// pool_max_conns. Default 16: a server answers many requests at once,
	// and PostgreSQL commits concurrent writers' transactions together, so
	// pgxpool's default of max(4, CPUs) starves both.
	MaxConns int32
}

// querier is what a Store runs statements on: the pool, or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Begin(ctx context.Context) (pgx.Tx, error)
}

var (
	_ querier = (*pgxpool.Pool)(nil)
	_ querier = (pgx.Tx)(nil)
)

// Store is a storage.Store on PostgreSQL. A Store from Open or New runs each
// call on the pool; the Store Tx gives fn runs every call in its transaction.
type Store struct {
	q       querier
	pool    *pgxpool.Pool
	ownPool bool

	ns      string // the namespace, unquoted
	nsq     string // the namespace, quoted
	channel string // the LISTEN/NOTIFY channel of the namespace's schema changes
	events  string // the channel of Notify and Listen

	tables *tableCache // shared by a Store and its transaction stores
	stmts  *stmtCache  // likewise
	tx     *txState    // nil outside a transaction
}

// Open connects to dsn with a pool of its own, applies the migrations and
// returns a Store whose Close closes the pool.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = 16
		if opts.MaxConns > 0 {
			cfg.MaxConns = opts.MaxConns
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s, err := New(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownPool = true
	return s, nil
}

// New returns a Store on a pool the host program owns, after applying the
// migrations. Close leaves the pool open.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	ns := opts.Schema
	if ns == "" {
		ns = "public"
	}
	if !sqlkit.ValidIdent(ns) || len(ns) > maxIdentLen {
		return nil, fmt.Errorf("postgres: invalid schema name %q: %w", ns, storage.ErrInvalidQuery)
	}
	s := &Store{
		q:       pool,
		pool:    pool,
		ns:      ns,
		nsq:     quoteIdent(ns),
		channel: channelName("schema", ns),
		events:  channelName("events", ns),
		tables:  newTableCache(),
		stmts:   &stmtCache{},
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the pool when Open created it. On a transaction's Store it
// does nothing.
func (s *Store) Close() {
	if s.tx == nil && s.ownPool {
		s.pool.Close()
	}
}

// Tx runs fn in a transaction (see storage.Store). fn's Store must not be
// used after fn returns.
func (s *Store) Tx(ctx context.Context, fn func(tx storage.Store) error) (err error) {
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	ts := *s
	ts.q = tx
	ts.ownPool = false
	ts.tx = &txState{seen: map[string]bool{}, schemaChanged: map[string]bool{}}
	rollback := func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }
	defer func() {
		if p := recover(); p != nil {
			rollback()
			panic(p)
		}
	}()
	if err := fn(&ts); err != nil {
		rollback()
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	ts.tx.commitTo(s.tables)
	return nil
}

// lock serializes the calls on a transaction's Store: a pgx.Tx runs one
// statement at a time, while storage.Store promises concurrent use.
func (s *Store) lock() func() {
	if s.tx == nil {
		return func() {}
	}
	s.tx.mu.Lock()
	return s.tx.mu.Unlock
}

// txState is what a transaction's Store adds to its parent's.
type txState struct {
	mu sync.Mutex
	// seen records the tables the transaction found to exist (true) or
	// created, and dropped (false); they reach the shared cache on commit
	// only, since a rollback undoes them.
	seen map[string]bool
	// schemaChanged records the classes whose schema the transaction
	// changed: their number columns are evicted again on commit, since
	// other statements may have cached them meanwhile.
	schemaChanged map[string]bool
}

func (t *txState) commitTo(c *tableCache) {
	for class := range t.schemaChanged {
		c.forgetLayout(class)
	}
	for name, ok := range t.seen {
		if ok {
			c.add(name)
		} else {
			c.remove(name)
		}
	}
}

// tableCache remembers which tables are known to exist, so that statements
// naming a join table (RelatedTo), and every statement in a transaction,
// can avoid a "relation does not exist" error: in a transaction that error
// would abort the transaction even where the contract calls for an empty
// answer. Only existence is cached: a table another process creates is seen
// at the next check, one it drops shows as 42P01 and is evicted.
type tableCache struct {
	mu    sync.RWMutex
	known map[string]struct{}
	layoutCache
}

func newTableCache() *tableCache { return &tableCache{known: map[string]struct{}{}} }

func (c *tableCache) has(name string) bool {
	c.mu.RLock()
	_, ok := c.known[name]
	c.mu.RUnlock()
	return ok
}

func (c *tableCache) add(name string) {
	c.mu.Lock()
	c.known[name] = struct{}{}
	c.mu.Unlock()
}

func (c *tableCache) remove(name string) {
	c.mu.Lock()
	delete(c.known, name)
	c.mu.Unlock()
}

// forgetClass evicts a class's table, join tables and number columns (""
// evicts all).
func (c *tableCache) forgetClass(class string) {
	c.forgetLayout(class)
	c.mu.Lock()
	defer c.mu.Unlock()
	if class == "" {
		clear(c.known)
		return
	}
	delete(c.known, class)
	for name := range c.known {
		if strings.HasPrefix(name, "_Join:") && strings.HasSuffix(name, ":"+class) {
			delete(c.known, name)
		}
	}
}

// known reports whether the table is known to exist (or, in a transaction,
// known to have been dropped by it).
func (s *Store) known(name string) (exists, ok bool) {
	if s.tx != nil {
		if e, ok := s.tx.seen[name]; ok {
			return e, true
		}
	}
	if s.tables.has(name) {
		return true, true
	}
	return false, false
}

func (s *Store) markTable(name string, exists bool) {
	if s.tx != nil {
		s.tx.seen[name] = exists
		return
	}
	if exists {
		s.tables.add(name)
	} else {
		s.tables.remove(name)
	}
}

// evict forgets the tables a failed statement named.
func (s *Store) evict(names []string) {
	for _, n := range names {
		if s.tx != nil {
			delete(s.tx.seen, n)
		}
		s.tables.remove(n)
	}
}

// missingTables returns which of the named tables do not exist, asking the
// database (one round trip) about those not known to exist.
func (s *Store) missingTables(ctx context.Context, names []string) (map[string]bool, error) {
	var unknown []string
	var missing map[string]bool
	for _, n := range names {
		exists, ok := s.known(n)
		switch {
		case !ok:
			unknown = append(unknown, n)
		case !exists:
			if missing == nil {
				missing = map[string]bool{}
			}
			missing[n] = true
		}
	}
	if len(unknown) == 0 {
		return missing, nil
	}
	const sql = `SELECT n, to_regclass(format('%I.%I', $1::text, n)) IS NOT NULL FROM unnest($2::text[]) AS n`
	rows, err := s.q.Query(ctx, sql, s.ns, unknown)
	if err != nil {
		return nil, s.wrap("check tables", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		var exists bool
		if err := rows.Scan(&n, &exists); err != nil {
			return nil, s.wrap("check tables", err)
		}
		if exists {
			s.markTable(n, true)
		} else {
			if missing == nil {
				missing = map[string]bool{}
			}
			missing[n] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("check tables", err)
	}
	return missing, nil
}

// Identifiers.

const maxIdentLen = 63 // NAMEDATALEN - 1

func quoteIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

func checkClass(class string) error {
	if !sqlkit.ValidIdent(class) || len(class) > maxIdentLen {
		return fmt.Errorf("postgres: invalid class name %q: %w", class, storage.ErrInvalidQuery)
	}
	return nil
}

// table returns the quoted, qualified name of a class's table.
func (s *Store) table(class string) string { return s.nsq + "." + quoteIdent(class) }

func checkRelation(r storage.Relation) error {
	if err := checkClass(r.OwningClass); err != nil {
		return err
	}
	if !sqlkit.ValidIdent(r.Field) || len(sqlkit.JoinName(r.Field, r.OwningClass)) > maxIdentLen {
		return fmt.Errorf("postgres: invalid relation field %q: %w", r.Field, storage.ErrInvalidQuery)
	}
	return nil
}

// Errors.

// dupNameRE finds the field in a unique violation's detail, as a fallback
// when the index name was shortened: Key ((data ->> 'email'::text))=(...).
var dupNameRE = regexp.MustCompile(`data ->> '([A-Za-z0-9_]+)'`)

// wrap maps a driver error to the storage errors the contract lists, and
// adds context to the others.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return &storage.DuplicateError{Field: duplicateField(pgErr)}
		case sqlstateTypeMismatch:
			return fmt.Errorf("postgres: %s: %s: %w", op, pgErr.Message, storage.ErrTypeMismatch)
		case "22P02", "2201B", "22023", "22003", "2202E", "22004", "42804":
			return fmt.Errorf("postgres: %s: %s: %w", op, pgErr.Message, storage.ErrInvalidQuery)
		}
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// duplicateField recovers the field of a unique violation from the index
// name ("u:<class>:<field>", see uniqueIndexName) or the error detail.
func duplicateField(e *pgconn.PgError) string {
	name := e.ConstraintName
	if strings.HasPrefix(name, "p:") {
		return "objectId"
	}
	if strings.HasPrefix(name, "u:") {
		if parts := strings.SplitN(name, ":", 3); len(parts) == 3 && len(name) < maxIdentLen {
			return parts[2]
		}
	}
	if m := dupNameRE.FindStringSubmatch(e.Detail); m != nil {
		return m[1]
	}
	if strings.Contains(e.Detail, `"objectId"`) {
		return "objectId"
	}
	return name
}

func isUndefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}

// isUndefinedColumn reports a 42703 error: a number column (numcols.go)
// that the cache believed in has been dropped.
func isUndefinedColumn(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42703"
}

// physName names an index or constraint: prefix:part1:...:partN, shortened
// to PostgreSQL's 63 bytes by hashing all but the last part when needed (so
// the last part, a field name, usually survives).
func physName(prefix string, parts ...string) string {
	name := prefix + ":" + strings.Join(parts, ":")
	if len(name) <= maxIdentLen {
		return name
	}
	h := fnv64(name)
	last := parts[len(parts)-1]
	name = fmt.Sprintf("%s:%016x:%s", prefix, h, last)
	if len(name) > maxIdentLen {
		name = name[:maxIdentLen]
	}
	return name
}

// channelName is a NOTIFY channel of a namespace (kind "schema" or
// "events"): each namespace has its own, so stores on different namespaces
// do not see each other's changes.
func channelName(kind, ns string) string {
	name := "parsego_" + kind + "_" + ns
	if len(name) > maxIdentLen {
		name = fmt.Sprintf("parsego_%s_%016x", kind, fnv64(ns))
	}
	return name
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
