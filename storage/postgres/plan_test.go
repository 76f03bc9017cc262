package postgres_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/postgres"
)

// lastQuery records the SQL and arguments of the statements a pool runs.
type lastQuery struct {
	mu   sync.Mutex
	sql  string
	args []any
}

func (l *lastQuery) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.HasPrefix(strings.TrimSpace(d.SQL), "SELECT") {
		l.sql, l.args = d.SQL, d.Args
	}
	return ctx
}

func (l *lastQuery) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *lastQuery) get() (string, []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sql, l.args
}

// TestPlansOnLargeClass loads 100k objects and checks with EXPLAIN that
// the statements the adapter sends for the common queries use an index
// rather than scanning the class's table: equality on a field with a
// schema index and on one without (the GIN index), comparisons and order
// on an indexed field, ordering by createdAt and updatedAt with a limit,
// and the ACL check of a client query.
// tracedStore returns a Store on a fresh namespace, its pool (for loading
// data and EXPLAIN) and a tracer holding the last statement it ran.
func tracedStore(t *testing.T) (*postgres.Store, *pgxpool.Pool, string, *lastQuery) {
	t.Helper()
	ns := pgtest.NewNamespace(t)
	cfg, err := pgxpool.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	tr := &lastQuery{}
	cfg.ConnConfig.Tracer = tr
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := postgres.New(t.Context(), pool, postgres.Options{Schema: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, pool, ns, tr
}

func TestPlansOnLargeClass(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100k rows")
	}
	t.Parallel()
	ctx := t.Context()
	s, pool, ns, tr := tracedStore(t)

	const class = "Big"
	_, err := s.CreateClass(ctx, storage.Class{Name: class, Fields: map[string]storage.Field{
		"n": {Type: "Number"}, "name": {Type: "String"}, "code": {Type: "String"}, "tags": {Type: "Array"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The schema API's call: an index on a field, and a nested one.
	_, err = s.UpdateClass(ctx, class, storage.ClassUpdate{AddIndexes: map[string]map[string]any{
		"by_n":    {"n": 1.0},
		"by_code": {"code": -1.0},
	}})
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	table := pgx.Identifier{ns, class}.Sanitize()
	// One statement: every thousandth object is public, the others
	// readable by one user each.
	_, err = pool.Exec(ctx, `INSERT INTO `+table+` ("objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "data")
		SELECT 'o' || i, timestamptz '2024-01-01' + i * interval '1 second', timestamptz '2025-01-01' - i * interval '1 second',
			CASE WHEN i % 1000 = 0 THEN NULL ELSE ARRAY['u' || i] END, NULL,
			jsonb_build_object('n', i, 'name', 'name' || (i % 5000), 'code', 'c' || i, 'tags', jsonb_build_array('t' || (i % 1000), 'all'))
		FROM generate_series(1, 100000) AS i`)
	if err != nil {
		t.Fatal(err)
	}
	// VACUUM also flushes the GIN indexes' pending lists, as autovacuum
	// does on a live table: the planner costs a long pending list high.
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE `+table); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded and analyzed 100k rows in %v", time.Since(start))

	user := []string{"*", "u77"}
	var fifty []any
	for i := range 50 {
		fifty = append(fifty, "name"+strconv.Itoa(i))
	}
	cases := []struct {
		name string
		q    storage.Query
		want int      // objects expected
		uses []string // indexes the plan must use
	}{
		{"EqIndexed", storage.Query{Where: storage.Cmp{Field: "n", Op: storage.Eq, Value: 4242.0}}, 1, nil},
		{"EqUnindexed", storage.Query{Where: storage.Cmp{Field: "name", Op: storage.Eq, Value: "name17"}}, 20, nil},
		{"InUnindexed", storage.Query{Where: storage.In{Field: "name", Values: []any{"name17", "name18"}}}, 40, nil},
		{"ArrayContains", storage.Query{Where: storage.Cmp{Field: "tags", Op: storage.Eq, Value: "t5"}}, 100, nil},
		{"AllArray", storage.Query{Where: storage.All{Field: "tags", Values: []any{"t5", "all"}}}, 100, nil},
		// A String field's own index answers equalities (numcols.go).
		{"EqIndexedDesc", storage.Query{Where: storage.Cmp{Field: "code", Op: storage.Eq, Value: "c99"}}, 1, []string{"i:Big:by_code"}},
		{"InIndexedString", storage.Query{Where: storage.In{Field: "code", Values: []any{"c1", "c2", "c3", "nope"}}}, 3, []string{"i:Big:by_code"}},
		{"ACLWithEqIndexed", storage.Query{ReadPerm: user, Where: storage.Cmp{Field: "code", Op: storage.Eq, Value: "c77"}}, 1, []string{"i:Big:by_code"}},
		{"RangeIndexed", storage.Query{Where: storage.And{
			storage.Cmp{Field: "n", Op: storage.Gte, Value: 500.0},
			storage.Cmp{Field: "n", Op: storage.Lt, Value: 510.0},
		}}, 10, []string{"i:Big:by_n"}},
		{"InIndexedTenValues", storage.Query{Where: storage.In{Field: "n", Values: []any{1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0}}}, 10, nil},
		{"InFiftyValues", storage.Query{Where: storage.In{Field: "name", Values: fifty}}, 1000, nil},
		{"OrderIndexedLimit", storage.Query{Order: []storage.Sort{{Field: "n", Desc: true}}, Limit: 10}, 10, []string{"i:Big:by_n"}},
		{"ObjectIDIn", storage.Query{Where: storage.In{Field: "objectId", Values: []any{"o1", "o2", "o3"}}}, 3, nil},
		{"OrderCreatedAtLimit", storage.Query{Order: []storage.Sort{{Field: "createdAt", Desc: true}}, Limit: 20}, 20, []string{"tc:Big"}},
		{"OrderUpdatedAtLimit", storage.Query{Order: []storage.Sort{{Field: "updatedAt"}}, Limit: 20}, 20, []string{"tu:Big"}},
		{"CreatedAtRange", storage.Query{Where: storage.Cmp{Field: "createdAt", Op: storage.Lt, Value: time.Date(2024, 1, 1, 0, 0, 30, 0, time.UTC)}}, 29, nil},
		{"ACL", storage.Query{ReadPerm: user}, 1 + 100, []string{"r:Big", "rn:Big"}},
		{"ACLWithEq", storage.Query{ReadPerm: user, Where: storage.Cmp{Field: "name", Op: storage.Eq, Value: "name77"}}, 1, nil},
		{"ACLOrderCreatedAt", storage.Query{ReadPerm: user, Order: []storage.Sort{{Field: "createdAt", Desc: true}}, Limit: 20}, 20, nil},
	}
	for _, c := range cases {
		got, err := s.Find(ctx, class, c.q)
		if err != nil {
			t.Fatalf("%s: Find: %v", c.name, err)
		}
		want := c.want
		if c.q.Limit > 0 && want > c.q.Limit {
			want = c.q.Limit
		}
		if len(got) != want {
			t.Errorf("%s: %d objects, want %d", c.name, len(got), want)
		}
		root, sql, plan := explainLast(t, pool, tr)
		if n := root.find("Seq Scan", class); n != nil {
			t.Errorf("%s: sequential scan of the table:\n%s\n%s", c.name, sql, plan)
		}
		for _, ix := range c.uses {
			if !root.usesIndex(ix) {
				t.Errorf("%s: plan does not use index %s:\n%s\n%s", c.name, ix, sql, plan)
			}
		}
	}

	// A count over a range of an indexed Number field, for the master key
	// and for a client, reads the index only (its number column includes
	// "_rperm"; VACUUM has marked the pages all-visible).
	for _, perm := range [][]string{nil, user} {
		q := storage.Query{ReadPerm: perm, Where: storage.And{
			storage.Cmp{Field: "n", Op: storage.Gte, Value: 1000.0},
			storage.Cmp{Field: "n", Op: storage.Lt, Value: 3000.0},
		}}
		want := int64(2000)
		if perm != nil {
			want = 2 // the public 1000 and 2000
		}
		n, err := s.Count(ctx, class, q)
		if err != nil {
			t.Fatalf("Count: %v", err)
		}
		if n != want {
			t.Errorf("Count(perm %v) = %d, want %d", perm, n, want)
		}
		root, sql, plan := explainLast(t, pool, tr)
		if root.find("Index Only Scan", class) == nil {
			t.Errorf("count (perm %v) is not an index-only scan:\n%s\n%s", perm, sql, plan)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Logf("slow: %v", d)
	}
}

// explainLast EXPLAINs the last statement tr saw, with its arguments: the
// plan's root, the statement and the plan's JSON.
func explainLast(t *testing.T, pool *pgxpool.Pool, tr *lastQuery) (planNode, string, []byte) {
	t.Helper()
	sql, args := tr.get()
	var plan []byte
	if err := pool.QueryRow(t.Context(), "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&plan); err != nil {
		t.Fatalf("EXPLAIN %s: %v", sql, err)
	}
	var doc []struct{ Plan planNode }
	if err := json.Unmarshal(plan, &doc); err != nil || len(doc) != 1 {
		t.Fatalf("plan %s: %v", plan, err)
	}
	return doc[0].Plan, sql, plan
}

type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Plans    []planNode `json:"Plans"`
}

func (n *planNode) usesIndex(name string) bool {
	if n.Index == name {
		return true
	}
	for i := range n.Plans {
		if n.Plans[i].usesIndex(name) {
			return true
		}
	}
	return false
}

// find returns the first node of the given type on the relation.
func (n *planNode) find(typ, rel string) *planNode {
	if n.NodeType == typ && n.Relation == rel {
		return n
	}
	for i := range n.Plans {
		if f := n.Plans[i].find(typ, rel); f != nil {
			return f
		}
	}
	return nil
}

// TestClassIndexMigration checks that migration 4 adds the createdAt,
// updatedAt and ACL indexes to the tables of classes created before it.
func TestClassIndexMigration(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, ns := pgtest.NewStoreNS(t)
	mustClass(t, s, "Old", map[string]storage.Field{"a": {Type: "String"}})
	db := adminPool(t)
	names := []string{"tc:Old", "tu:Old", "r:Old", "rn:Old"}
	for _, n := range names {
		if _, err := db.Exec(ctx, "DROP INDEX "+pgx.Identifier{ns, n}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(ctx, "DELETE FROM "+pgx.Identifier{ns, "_parsego_migrations"}.Sanitize()+" WHERE version = 4"); err != nil {
		t.Fatal(err)
	}
	openOn(t, ns) // migrates
	var n int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = ANY($2)", ns, names).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(names) {
		t.Errorf("%d of the indexes %q after the migration, want all", n, names)
	}
}

// TestInsertionOrderMigration checks that migration 7 numbers the rows of
// tables created before it in their stored order, so that ties keep
// sorting as they did, and that rows inserted after it follow them.
func TestInsertionOrderMigration(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, ns := pgtest.NewStoreNS(t)
	mustClass(t, s, "Old", map[string]storage.Field{"a": {Type: "String"}})
	db := adminPool(t)
	if _, err := db.Exec(ctx, "ALTER TABLE "+pgx.Identifier{ns, "Old"}.Sanitize()+` DROP COLUMN "_seq"`); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	var want []string
	for _, id := range []string{"c", "a", "b"} {
		if _, err := db.Exec(ctx, "INSERT INTO "+pgx.Identifier{ns, "Old"}.Sanitize()+
			` ("objectId", "createdAt", "updatedAt", "data") VALUES ($1, $2, $2, '{}')`, id, at); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	if _, err := db.Exec(ctx, "DELETE FROM "+pgx.Identifier{ns, "_parsego_migrations"}.Sanitize()+" WHERE version = 7"); err != nil {
		t.Fatal(err)
	}
	s = openOn(t, ns) // migrates
	if err := s.Insert(ctx, "Old", storage.Object{ID: "0", CreatedAt: at, UpdatedAt: at, Data: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	want = append(want, "0")
	got, err := s.Find(ctx, "Old", storage.Query{Order: []storage.Sort{{Field: "createdAt"}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range got {
		ids = append(ids, o.ID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("order by createdAt after the migration: %q, want %q", ids, want)
	}
}

// TestKeyedOnlyClass checks that a KeyedOnly class has no GIN index, and
// that its unique and indexed String fields answer equalities from their
// own indexes.
func TestKeyedOnlyClass(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, pool, ns, tr := tracedStore(t)
	const class = "Rec"
	_, err := s.CreateClass(ctx, storage.Class{Name: class, KeyedOnly: true,
		Fields:  map[string]storage.Field{"key": {Type: "String"}, "owner": {Type: "String"}},
		Unique:  []storage.Unique{{Field: "key"}},
		Indexes: map[string]map[string]any{"by_owner": {"owner": 1.0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	table := pgx.Identifier{ns, class}.Sanitize()
	_, err = pool.Exec(ctx, `INSERT INTO `+table+` ("objectId", "createdAt", "updatedAt", "data")
		SELECT 'o' || i, now(), now(), jsonb_build_object('key', 'k' || i, 'owner', 'u' || (i % 500))
		FROM generate_series(1, 20000) AS i`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE `+table); err != nil {
		t.Fatal(err)
	}
	var gin int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 AND indexdef LIKE '%USING gin%'`, ns, class).Scan(&gin); err != nil {
		t.Fatal(err)
	}
	if gin != 0 {
		t.Errorf("%d GIN indexes on a KeyedOnly class, want none", gin)
	}
	cases := []struct {
		name  string
		where storage.Cond
		want  int
		index string
	}{
		{"Unique", storage.Cmp{Field: "key", Op: storage.Eq, Value: "k77"}, 1, "u:Rec:key"},
		{"UniqueIn", storage.In{Field: "key", Values: []any{"k1", "k2", 3.0}}, 2, "u:Rec:key"},
		{"Indexed", storage.Cmp{Field: "owner", Op: storage.Eq, Value: "u7"}, 40, "i:Rec:by_owner"},
	}
	for _, c := range cases {
		got, err := s.Find(ctx, class, storage.Query{Where: c.where})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(got) != c.want {
			t.Errorf("%s: %d objects, want %d", c.name, len(got), c.want)
		}
		root, sql, plan := explainLast(t, pool, tr)
		if !root.usesIndex(c.index) {
			t.Errorf("%s: plan does not use index %s:\n%s\n%s", c.name, c.index, sql, plan)
		}
	}
}
