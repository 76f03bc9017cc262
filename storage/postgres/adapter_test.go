package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
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

var (
	t0 = time.Date(2024, 3, 1, 10, 0, 0, 123_000_000, time.UTC)
	t1 = time.Date(2024, 5, 6, 7, 8, 9, 987_000_000, time.UTC)
)

func obj(id, data string) storage.Object {
	return storage.Object{ID: id, CreatedAt: t0, UpdatedAt: t0, Data: json.RawMessage(data)}
}

// adminPool is a pool for inspecting the database behind a store's back.
func adminPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// openOn opens a second Store (with its own pool) on a namespace.
func openOn(t *testing.T, ns string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), pgtest.DSN(t), postgres.Options{Schema: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func mustClass(t *testing.T, s storage.Store, name string, fields map[string]storage.Field) {
	t.Helper()
	if _, err := s.CreateClass(t.Context(), storage.Class{Name: name, Fields: fields}); err != nil {
		t.Fatalf("CreateClass(%s): %v", name, err)
	}
}

func jsonEq(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation %s: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: got %s, want %s", what, got, want)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	t.Parallel()
	ns := pgtest.NewNamespace(t)
	ctx := t.Context()

	// Processes starting together: the advisory lock makes one apply each
	// version while the others wait and skip it.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := postgres.Open(ctx, pgtest.DSN(t), postgres.Options{Schema: ns})
			if err == nil {
				_, err = s.AddFields(ctx, "Thing", map[string]storage.Field{fmt.Sprintf("f%d", i): {Type: "String"}})
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
	}

	s := openOn(t, ns) // and once more, later
	classes, err := s.LoadSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(classes) != 1 || len(classes[0].Fields) != 4 {
		t.Errorf("LoadSchema after concurrent AddFields = %+v, want Thing with f0..f3", classes)
	}

	db := adminPool(t)
	var n, maxV int
	if err := db.QueryRow(ctx, `SELECT count(*), max(version) FROM `+pgx.Identifier{ns}.Sanitize()+`."_parsego_migrations"`).Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if n != len(files) || maxV != len(files) {
		t.Errorf("_parsego_migrations has %d rows up to version %d, want %d rows, version %[3]d", n, maxV, len(files))
	}
	var fns []string
	rows, _ := db.Query(ctx, `SELECT proname::text FROM pg_proc WHERE pronamespace = to_regnamespace($1) ORDER BY 1`, ns)
	fns, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"parsego_add", "parsego_add_unique", "parsego_array", "parsego_array_has_all", "parsego_array_has_any",
		"parsego_delete_joins", "parsego_distance", "parsego_increment", "parsego_lat", "parsego_lng", "parsego_polygon",
		"parsego_remove", "parsego_set"}
	if !slices.Equal(fns, want) {
		t.Errorf("functions in %s = %q, want %q", ns, fns, want)
	}
}

func TestInvalidNamespace(t *testing.T) {
	t.Parallel()
	for _, ns := range []string{`bad"name`, "a b", "1x", strings.Repeat("n", 64)} {
		_, err := postgres.Open(t.Context(), pgtest.DSN(t), postgres.Options{Schema: ns})
		if !errors.Is(err, storage.ErrInvalidQuery) {
			t.Errorf("Open(schema %q) = %v, want ErrInvalidQuery", ns, err)
		}
	}
}

func TestPoolOwnership(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ns := pgtest.NewNamespace(t)
	pool := adminPool(t)
	s, err := postgres.New(ctx, pool, postgres.Options{Schema: ns})
	if err != nil {
		t.Fatal(err)
	}
	mustClass(t, s, "Shared", nil)
	s.Close()
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("host pool after Store.Close: %v", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{ns, "Shared"}.Sanitize()).Scan(&n); err != nil {
		t.Fatalf("host pool after Store.Close: %v", err)
	}

	// A store from Open owns its pool: Close closes it.
	owned := openOn(t, ns)
	owned.Close()
	if _, err := owned.LoadSchema(ctx); err == nil {
		t.Error("LoadSchema after Close of an Open store succeeded; want the pool closed")
	}
}

// watch starts WatchSchema on s and returns the channel of the classes it
// reports and a function stopping it that returns WatchSchema's error.
func watch(t *testing.T, s *postgres.Store) (<-chan string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan string, 1000)
	done := make(chan error, 1)
	go func() { done <- s.WatchSchema(ctx, func(c string) { got <- c }) }()
	stop := sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return errors.New("WatchSchema did not return after cancel")
		}
	})
	t.Cleanup(func() { _ = stop() })
	return got, stop
}

// waitListening makes schema changes through writer until the watcher
// reports one: WatchSchema has no "ready" signal, and LISTEN takes effect
// some time after the call.
func waitListening(t *testing.T, writer storage.Store, got <-chan string) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for i := 0; ; i++ {
		if _, err := writer.AddFields(t.Context(), "Probe", map[string]storage.Field{fmt.Sprintf("f%d", i): {Type: "String"}}); err != nil {
			t.Fatal(err)
		}
		select {
		case c := <-got:
			if c == "Probe" {
				for len(got) > 0 {
					<-got
				}
				return
			}
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("WatchSchema reported nothing within 15s")
		}
	}
}

func expectClass(t *testing.T, got <-chan string, want string) {
	t.Helper()
	select {
	case c := <-got:
		if c != want {
			t.Errorf("WatchSchema reported %q, want %q", c, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("WatchSchema did not report %q within 10s", want)
	}
}

func TestWatchSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	watcher, ns := pgtest.NewStoreNS(t)
	writer := openOn(t, ns)        // another instance on the same namespace
	stranger := pgtest.NewStore(t) // another namespace: not reported
	got, stop := watch(t, watcher)
	waitListening(t, writer, got)

	if _, err := stranger.CreateClass(ctx, storage.Class{Name: "Game"}); err != nil {
		t.Fatal(err)
	}
	mustClass(t, writer, "Game", map[string]storage.Field{"score": {Type: "Number"}})
	expectClass(t, got, "Game")
	if _, err := writer.AddFields(ctx, "Game", map[string]storage.Field{"name": {Type: "String"}}); err != nil {
		t.Fatal(err)
	}
	expectClass(t, got, "Game")
	if _, err := writer.UpdateClass(ctx, "Game", storage.ClassUpdate{DeleteFields: []string{"name"}}); err != nil {
		t.Fatal(err)
	}
	expectClass(t, got, "Game")
	if _, err := watcher.AddFields(ctx, "Own", map[string]storage.Field{"x": {Type: "String"}}); err != nil {
		t.Fatal(err)
	}
	expectClass(t, got, "Own") // the watcher's own changes too
	if err := writer.DeleteClass(ctx, "Game", false); err != nil {
		t.Fatal(err)
	}
	expectClass(t, got, "Game")

	// AddFields with nothing new changes nothing and notifies nothing; a
	// rolled back schema change is not reported either.
	if _, err := writer.AddFields(ctx, "Own", map[string]storage.Field{"x": {Type: "Number"}}); err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	err := writer.Tx(ctx, func(tx storage.Store) error {
		if _, err := tx.CreateClass(ctx, storage.Class{Name: "Ghost"}); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Tx = %v, want fn's error", err)
	}
	mustClass(t, writer, "Last", nil)
	expectClass(t, got, "Last")

	if err := stop(); err != nil {
		t.Errorf("WatchSchema after cancel = %v, want nil", err)
	}
}

func TestWatchSchemaReconnects(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, ns := pgtest.NewStoreNS(t)
	got, _ := watch(t, s)
	waitListening(t, s, got)

	// Kill the listening backend, as a server restart or a network cut would.
	db := adminPool(t)
	listen := `LISTEN "parsego_schema_` + ns + `"`
	var killed int
	if err := db.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = $1`, listen).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listening backends, want 1", killed)
	}
	expectClass(t, got, "") // "invalidate everything" after reconnecting
	mustClass(t, s, "After", nil)
	expectClass(t, got, "After")
}

func TestIdentifiersRejected(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := pgtest.NewStore(t)
	mustClass(t, s, "Safe", map[string]storage.Field{"name": {Type: "String"}})
	if err := s.Insert(ctx, "Safe", obj("s1", `{"name":"kept"}`)); err != nil {
		t.Fatal(err)
	}

	badClasses := []string{`Safe"; DROP TABLE "_SCHEMA"; --`, `Safe" --`, "a b", "", "1abc", "x-y", "ü", "a.b", strings.Repeat("a", 64)}
	for _, c := range badClasses {
		t.Run("class "+c, func(t *testing.T) {
			calls := map[string]error{}
			_, calls["CreateClass"] = s.CreateClass(ctx, storage.Class{Name: c})
			_, calls["AddFields"] = s.AddFields(ctx, c, map[string]storage.Field{"a": {Type: "String"}})
			_, calls["UpdateClass"] = s.UpdateClass(ctx, c, storage.ClassUpdate{})
			calls["DeleteClass"] = s.DeleteClass(ctx, c, true)
			calls["Insert"] = s.Insert(ctx, c, obj("x", `{}`))
			_, calls["Get"] = s.Get(ctx, c, "x", nil)
			_, calls["Find"] = s.Find(ctx, c, storage.Query{})
			_, calls["Count"] = s.Count(ctx, c, storage.Query{})
			_, calls["Update"] = s.Update(ctx, c, "x", storage.Update{UpdatedAt: t1})
			calls["Delete"] = s.Delete(ctx, c, "x", nil, nil)
			_, calls["DeleteMany"] = s.DeleteMany(ctx, c, nil)
			calls["AddRelation"] = s.AddRelation(ctx, storage.Relation{OwningClass: c, Field: "r", OwningID: "x"}, "y")
			calls["RemoveRelation"] = s.RemoveRelation(ctx, storage.Relation{OwningClass: c, Field: "r", OwningID: "x"}, "y")
			_, calls["Find RelatedTo"] = s.Find(ctx, "Safe", storage.Query{Where: storage.RelatedTo{Relation: storage.Relation{OwningClass: c, Field: "r", OwningID: "x"}}})
			for call, err := range calls {
				if !errors.Is(err, storage.ErrInvalidQuery) {
					t.Errorf("%s(%q) = %v, want ErrInvalidQuery", call, c, err)
				}
			}
		})
	}

	badFields := []string{`a'b`, `a"b`, `a.`, `.a`, `a..b`, `a;b`, `a b`, `a->b`, `a?b`, `a$1`, `name') OR ('1'='1`, ""}
	for _, f := range badFields {
		t.Run("field "+f, func(t *testing.T) {
			queries := map[string]storage.Query{
				"Cmp":    {Where: storage.Cmp{Field: f, Op: storage.Eq, Value: "x"}},
				"Lt":     {Where: storage.Cmp{Field: f, Op: storage.Lt, Value: 1.0}},
				"In":     {Where: storage.In{Field: f, Values: []any{"x"}}},
				"Exists": {Where: storage.Exists{Field: f, Exists: true}},
				"All":    {Where: storage.All{Field: f, Values: []any{"x"}}},
				"Regex":  {Where: storage.Regex{Field: f, Pattern: "x"}},
				"Nested": {Where: storage.Or{storage.And{storage.Nor{storage.Exists{Field: f}}}}},
				"Order":  {Order: []storage.Sort{{Field: f}}},
				"RelTo":  {Where: storage.RelatedTo{Relation: storage.Relation{OwningClass: "Safe", Field: f, OwningID: "s1"}}},
			}
			for name, q := range queries {
				if _, err := s.Find(ctx, "Safe", q); !errors.Is(err, storage.ErrInvalidQuery) {
					t.Errorf("Find %s on %q = %v, want ErrInvalidQuery", name, f, err)
				}
			}
			for _, k := range []storage.OpKind{storage.OpSet, storage.OpDelete, storage.OpIncrement, storage.OpAdd} {
				_, err := s.Update(ctx, "Safe", "s1", storage.Update{UpdatedAt: t1, Ops: []storage.Op{{Field: f, Kind: k, Value: json.RawMessage(`[1]`)}}})
				if !errors.Is(err, storage.ErrInvalidQuery) {
					t.Errorf("Update %s on %q = %v, want ErrInvalidQuery", k, f, err)
				}
			}
			calls := map[string]error{}
			_, calls["CreateClass"] = s.CreateClass(ctx, storage.Class{Name: "Other", Fields: map[string]storage.Field{f: {Type: "String"}}})
			_, calls["CreateClass unique"] = s.CreateClass(ctx, storage.Class{Name: "Other", Unique: []storage.Unique{{Field: f}}})
			_, calls["AddFields"] = s.AddFields(ctx, "Safe", map[string]storage.Field{f: {Type: "String"}})
			_, calls["UpdateClass delete"] = s.UpdateClass(ctx, "Safe", storage.ClassUpdate{DeleteFields: []string{f}})
			_, calls["UpdateClass index key"] = s.UpdateClass(ctx, "Safe", storage.ClassUpdate{AddIndexes: map[string]map[string]any{"ix": {f: 1}}})
			_, calls["UpdateClass index name"] = s.UpdateClass(ctx, "Safe", storage.ClassUpdate{AddIndexes: map[string]map[string]any{f: {"name": 1}}})
			calls["AddRelation"] = s.AddRelation(ctx, storage.Relation{OwningClass: "Safe", Field: f, OwningID: "s1"}, "y")
			for call, err := range calls {
				if !errors.Is(err, storage.ErrInvalidQuery) {
					t.Errorf("%s with field %q = %v, want ErrInvalidQuery", call, f, err)
				}
			}
		})
	}

	t.Run("nothing was harmed", func(t *testing.T) {
		classes, err := s.LoadSchema(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(classes) != 1 || classes[0].Name != "Safe" || len(classes[0].Fields) != 1 {
			t.Errorf("LoadSchema = %+v, want Safe with its one field", classes)
		}
		o, err := s.Get(ctx, "Safe", "s1", nil)
		if err != nil {
			t.Fatal(err)
		}
		jsonEq(t, "s1", o.Data, `{"name":"kept"}`)
	})
}

func TestValuesStoredVerbatim(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := pgtest.NewStore(t)
	mustClass(t, s, "Note", nil)
	nasty := `O'Brien "q" ?? $1 \ ;-- ') OR 1=1; DROP TABLE "Note"; -- ` + "\u00e9\u4e16\U0001F600"
	nastyJSON, _ := json.Marshal(nasty)
	id := `id'"; --`
	perm := `role:a'b"c`
	doc := fmt.Sprintf(`{"s":%s,"nested":{"k":%s},"arr":[%s]}`, nastyJSON, nastyJSON, nastyJSON)
	in := obj(id, doc)
	in.ReadPerm, in.WritePerm = []string{perm}, []string{perm}
	if err := s.Insert(ctx, "Note", in); err != nil {
		t.Fatal(err)
	}
	o, err := s.Get(ctx, "Note", id, []string{perm})
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, "Get", o.Data, doc)
	if !slices.Equal(o.ReadPerm, []string{perm}) {
		t.Errorf("ReadPerm = %q", o.ReadPerm)
	}
	conds := map[string]storage.Cond{
		"Eq":         storage.Cmp{Field: "s", Op: storage.Eq, Value: nasty},
		"Eq nested":  storage.Cmp{Field: "nested.k", Op: storage.Eq, Value: nasty},
		"Eq element": storage.Cmp{Field: "arr", Op: storage.Eq, Value: nasty},
		"In":         storage.In{Field: "s", Values: []any{nasty, "other"}},
		"All":        storage.All{Field: "arr", Values: []any{nasty}},
		"Gte":        storage.Cmp{Field: "s", Op: storage.Gte, Value: nasty},
		"Regex":      storage.Regex{Field: "s", Pattern: `^O'Brien "q" \?\? \$1 \\ ;--`},
		"objectId":   storage.Cmp{Field: "objectId", Op: storage.Eq, Value: id},
	}
	for name, c := range conds {
		objs, err := s.Find(ctx, "Note", storage.Query{Where: c, ReadPerm: []string{perm}})
		if err != nil || len(objs) != 1 {
			t.Errorf("Find %s = %d objects, %v; want 1", name, len(objs), err)
		}
	}
	set, _ := json.Marshal(nasty + "!")
	o, err = s.Update(ctx, "Note", id, storage.Update{UpdatedAt: t1, WritePerm: []string{perm},
		Ops: []storage.Op{{Field: "nested.k", Kind: storage.OpSet, Value: set}, {Field: "arr", Kind: storage.OpAddUnique, Value: json.RawMessage("[" + string(set) + "]")}}})
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, "Update", o.Data, fmt.Sprintf(`{"s":%s,"nested":{"k":%s},"arr":[%s,%s]}`, nastyJSON, set, nastyJSON, set))
	r := storage.Relation{OwningClass: "Note", Field: "links", OwningID: id}
	if err := s.AddRelation(ctx, r, id, nasty); err != nil {
		t.Fatal(err)
	}
	objs, err := s.Find(ctx, "Note", storage.Query{Where: storage.RelatedTo{Relation: r}})
	if err != nil || len(objs) != 1 || objs[0].ID != id {
		t.Errorf("Find RelatedTo = %v, %v; want the note", objs, err)
	}
}

func TestConcurrentIncrements(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := pgtest.NewStore(t, pgtest.MaxConns(20))
	mustClass(t, s, "Counter", nil)
	if err := s.Insert(ctx, "Counter", obj("c", `{"stats":{"n":0}}`)); err != nil {
		t.Fatal(err)
	}
	const workers, each = 50, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			for range each {
				_, err := s.Update(ctx, "Counter", "c", storage.Update{UpdatedAt: t1, Ops: []storage.Op{
					{Field: "stats.n", Kind: storage.OpIncrement, Value: json.RawMessage("1")},
					{Field: "half", Kind: storage.OpIncrement, Value: json.RawMessage("0.5")},
				}})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	o, err := s.Get(ctx, "Counter", "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, "counter", o.Data, `{"stats":{"n":10000},"half":5000}`)
}

// TestTxSurvivesMissingTables checks that reads of what does not exist, which
// answer "nothing" rather than an error, leave the transaction usable: a
// 42P01 error would abort it.
func TestTxSurvivesMissingTables(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := pgtest.NewStore(t)
	mustClass(t, s, "Doc", nil)
	missingRel := storage.RelatedTo{Relation: storage.Relation{OwningClass: "Doc", Field: "nothing", OwningID: "d1"}}
	err := s.Tx(ctx, func(tx storage.Store) error {
		if objs, err := tx.Find(ctx, "Nope", storage.Query{}); err != nil || len(objs) != 0 {
			return fmt.Errorf("Find on a missing class = %v, %v", objs, err)
		}
		if n, err := tx.Count(ctx, "Nope", storage.Query{}); err != nil || n != 0 {
			return fmt.Errorf("Count on a missing class = %d, %v", n, err)
		}
		if _, err := tx.Get(ctx, "Nope", "x", nil); !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("Get on a missing class = %v", err)
		}
		if _, err := tx.Update(ctx, "Nope", "x", storage.Update{UpdatedAt: t1}); !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("Update on a missing class = %v", err)
		}
		if err := tx.Delete(ctx, "Nope", "x", nil, nil); !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("Delete on a missing class = %v", err)
		}
		if n, err := tx.DeleteMany(ctx, "Nope", nil); err != nil || n != 0 {
			return fmt.Errorf("DeleteMany on a missing class = %d, %v", n, err)
		}
		if err := tx.Insert(ctx, "Nope", obj("x", `{}`)); !errors.Is(err, storage.ErrClassNotFound) {
			return fmt.Errorf("Insert into a missing class = %v", err)
		}
		if err := tx.RemoveRelation(ctx, missingRel.Relation, "y"); err != nil {
			return fmt.Errorf("RemoveRelation without a join table = %v", err)
		}
		if objs, err := tx.Find(ctx, "Doc", storage.Query{Where: storage.Or{missingRel, storage.Exists{Field: "a"}}}); err != nil || len(objs) != 0 {
			return fmt.Errorf("Find RelatedTo without a join table = %v, %v", objs, err)
		}
		if _, err := tx.CreateClass(ctx, storage.Class{Name: "Doc"}); !errors.Is(err, storage.ErrClassExists) {
			return fmt.Errorf("CreateClass of an existing class = %v", err)
		}
		// Still usable:
		if err := tx.Insert(ctx, "Doc", obj("d1", `{"a":1}`)); err != nil {
			return err
		}
		_, err := tx.AddFields(ctx, "Later", map[string]storage.Field{"x": {Type: "String"}})
		if err != nil {
			return err
		}
		return tx.Insert(ctx, "Later", obj("l1", `{"x":"y"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"Doc", "Later"} {
		if n, err := s.Count(ctx, c, storage.Query{}); err != nil || n != 1 {
			t.Errorf("Count(%s) after commit = %d, %v; want 1", c, n, err)
		}
	}
}

func TestDeleteRemovesJoinRows(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := pgtest.NewStore(t)
	mustClass(t, s, "Team", map[string]storage.Field{"members": {Type: "Relation", TargetClass: "Player"}, "fans": {Type: "Relation", TargetClass: "Player"}})
	if err := s.Insert(ctx, "Team", obj("t1", `{}`), obj("t2", `{}`), obj("t3", `{}`)); err != nil {
		t.Fatal(err)
	}
	for _, team := range []string{"t1", "t2", "t3"} {
		for _, f := range []string{"members", "fans"} {
			if err := s.AddRelation(ctx, storage.Relation{OwningClass: "Team", Field: f, OwningID: team}, "p1", "p2", "p1"); err != nil {
				t.Fatal(err)
			}
		}
	}
	db := adminPool(t)
	ns := s.Namespace()
	joinRows := func() map[string]int {
		out := map[string]int{}
		for _, f := range []string{"members", "fans"} {
			rows, err := db.Query(ctx, `SELECT "owningId", count(*) FROM `+pgx.Identifier{ns, "_Join:" + f + ":Team"}.Sanitize()+` GROUP BY 1`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				var n int
				if err := rows.Scan(&id, &n); err != nil {
					t.Fatal(err)
				}
				out[f+"/"+id] = n
			}
		}
		return out
	}
	if got := joinRows(); len(got) != 6 || got["members/t1"] != 2 {
		t.Fatalf("join rows = %v, want 2 per team and field", got)
	}
	if err := s.Delete(ctx, "Team", "t1", nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := joinRows(); len(got) != 4 || got["members/t1"] != 0 || got["fans/t1"] != 0 {
		t.Errorf("join rows after Delete(t1) = %v, want t2 and t3 only", got)
	}
	if n, err := s.DeleteMany(ctx, "Team", storage.Cmp{Field: "objectId", Op: storage.Eq, Value: "t2"}); err != nil || n != 1 {
		t.Fatalf("DeleteMany = %d, %v", n, err)
	}
	if got := joinRows(); len(got) != 2 || got["fans/t3"] != 2 {
		t.Errorf("join rows after DeleteMany(t2) = %v, want t3 only", got)
	}
	if err := s.DeleteClass(ctx, "Team", true); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relnamespace = to_regnamespace($1) AND relname::text LIKE '%Team%'`, ns).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d tables or indexes of Team left after DeleteClass", left)
	}
}

func TestLayout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := pgtest.NewStore(t)
	db := adminPool(t)
	ns := s.Namespace()
	_, err := s.CreateClass(ctx, storage.Class{
		Name: "_User",
		Fields: map[string]storage.Field{
			"username": {Type: "String", Required: true},
			"score":    {Type: "Number", DefaultValue: json.RawMessage("0")},
			"owner":    {Type: "Pointer", TargetClass: "_User"},
			"friends":  {Type: "Relation", TargetClass: "_User"},
		},
		CLP:     json.RawMessage(`{"find":{"*":true}}`),
		Indexes: map[string]map[string]any{"by_score": {"score": -1.0}},
		Unique:  []storage.Unique{{Field: "username", CaseInsensitive: true}, {Field: "email"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var doc []byte
	if err := db.QueryRow(ctx, `SELECT "schema" FROM `+pgx.Identifier{ns, "_SCHEMA"}.Sanitize()+` WHERE "className" = '_User'`).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	jsonEq(t, "_SCHEMA row", doc, `{
		"fields": {
			"username": {"type":"String","required":true},
			"score": {"type":"Number","defaultValue":0},
			"owner": {"type":"Pointer","targetClass":"_User"},
			"friends": {"type":"Relation","targetClass":"_User"}
		},
		"classLevelPermissions": {"find":{"*":true}},
		"indexes": {"by_score":{"score":-1}},
		"unique": [{"field":"username","caseInsensitive":true},{"field":"email"}]
	}`)

	rows, _ := db.Query(ctx, `SELECT column_name::text || ' ' || data_type::text || ' ' || is_nullable::text FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = '_User' ORDER BY ordinal_position`, ns)
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []string{"objectId text NO", "createdAt timestamp with time zone NO", "updatedAt timestamp with time zone NO",
		"_rperm ARRAY YES", "_wperm ARRAY YES", "data jsonb NO", "_seq bigint NO", "#score double precision YES"}
	if !slices.Equal(cols, wantCols) {
		t.Errorf("columns = %q, want %q", cols, wantCols)
	}
	rows, _ = db.Query(ctx, `SELECT indexname::text || ' ' || regexp_replace(indexdef, '^.* USING ', '') FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`, ns)
	idx, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	wantIdx := []string{
		"_FileChunks_pkey btree (name, seq)",
		"_Files_pkey btree (name)",
		"_SCHEMA_pkey btree (\"className\")",
		"_parsego_migrations_pkey btree (version)",
		"_parsego_tasks_due btree (queue, run_at)",
		"_parsego_tasks_pkey btree (id)",
		"g:_User gin (data jsonb_path_ops) WITH (gin_pending_list_limit='64')",
		"i:_User:by_score btree (\"#score\" DESC) INCLUDE (_rperm)",
		"jp:friends:_User btree (\"owningId\", \"relatedId\")",
		"jr:friends:_User btree (\"relatedId\")",
		"p:_User btree (\"objectId\")",
		"r:_User gin (_rperm) WITH (gin_pending_list_limit='64')",
		"rn:_User btree (\"objectId\") WHERE (_rperm IS NULL)",
		"tc:_User btree (\"createdAt\")",
		"tu:_User btree (\"updatedAt\")",
		"u:_User:email btree (((data ->> 'email'::text)))",
		"u:_User:username btree (lower((data ->> 'username'::text)))",
	}
	if !slices.Equal(idx, wantIdx) {
		t.Errorf("indexes =\n%s\nwant\n%s", strings.Join(idx, "\n"), strings.Join(wantIdx, "\n"))
	}
}

func TestLongNames(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := pgtest.NewStore(t)
	class := strings.Repeat("C", 60)
	field := "f" + strings.Repeat("x", 40)
	_, err := s.CreateClass(ctx, storage.Class{Name: class, Unique: []storage.Unique{{Field: field}},
		Indexes: map[string]map[string]any{strings.Repeat("i", 60): {field: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	data := `{"` + field + `":"v"}`
	if err := s.Insert(ctx, class, obj("a", data)); err != nil {
		t.Fatal(err)
	}
	err = s.Insert(ctx, class, obj("b", data))
	var dup *storage.DuplicateError
	if !errors.As(err, &dup) || dup.Field != field {
		t.Errorf("duplicate on a long unique index = %v, want DuplicateError on %s", err, field)
	}
	err = s.Insert(ctx, class, obj("a", `{}`))
	if !errors.As(err, &dup) || dup.Field != "objectId" {
		t.Errorf("duplicate objectId = %v, want DuplicateError on objectId", err)
	}
	if len(postgres.PhysName("u", class, field)) > 63 {
		t.Errorf("physName longer than 63 bytes")
	}
	// A join table name must fit in 63 bytes.
	err = s.AddRelation(ctx, storage.Relation{OwningClass: class, Field: "rel", OwningID: "a"}, "b")
	if !errors.Is(err, storage.ErrInvalidQuery) {
		t.Errorf("AddRelation with a too long join table name = %v, want ErrInvalidQuery", err)
	}
}

func TestUpdateClassDropsFieldData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := pgtest.NewStore(t)
	_, err := s.CreateClass(ctx, storage.Class{Name: "Doc",
		Fields:  map[string]storage.Field{"a": {Type: "String"}, "b": {Type: "Number"}, "r": {Type: "Relation", TargetClass: "Doc"}},
		Indexes: map[string]map[string]any{"ab": {"a": 1, "b": 1}, "b_only": {"b": 1}},
		Unique:  []storage.Unique{{Field: "a"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, "Doc", obj("d1", `{"a":"x","b":1,"c":true}`), obj("d2", `{"c":false}`)); err != nil {
		t.Fatal(err)
	}
	c, err := s.UpdateClass(ctx, "Doc", storage.ClassUpdate{DeleteFields: []string{"a", "r"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Fields["a"]; ok || len(c.Fields) != 1 || len(c.Unique) != 0 || len(c.Indexes) != 1 || c.Indexes["b_only"] == nil {
		t.Errorf("class after deleting a and r = %+v", c)
	}
	o, err := s.Get(ctx, "Doc", "d1", nil)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, "d1", o.Data, `{"b":1,"c":true}`)
	var n int
	if err := adminPool(t).QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relnamespace = to_regnamespace($1) AND relname::text IN ('u:Doc:a', 'i:Doc:ab', '_Join:r:Doc', 'i:Doc:b_only')`, s.Namespace()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d of the dropped field's index, unique index and join table plus the kept index exist, want only the kept one", n)
	}
}

func TestRegexMatchesGo(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := adminPool(t)
	subjects := []string{"", "a", "abc", "ABC", "a.b", "axb", "a\nb", "a\n", "\nb", "first line\nsecond line", "Hello World",
		"hello\nworld", "colour", "color", "xxx", "xxxx", "é", "É", "K", "k", "\u212a", "123", "]", "-", "^", "$", `\`, "a b",
		"ab", "a-b", "tab\there", "naïve café", "日本語", "😀 smile", "under_score", "word.word", "[x]", "(x)", "a+b", "a*b", "?"}
	cases := []struct{ pattern, options string }{
		{"^a", ""}, {"a$", ""}, {"^b", ""}, {"^b", "m"}, {"a$", "m"}, {"^second", "m"}, {"line$", ""}, {"line$", "m"},
		{"a.b", ""}, {"a.b", "s"}, {"a.b", "ms"}, {"a[^x]b", ""}, {`a\Sb`, ""}, {`a\sb`, ""}, {`\bworld`, ""}, {`o\B`, ""},
		{"hello", "i"}, {"(?i)hello", ""}, {"HELLO", ""}, {"(?i:H)ello", ""}, {"k", "i"}, {"é", "i"}, {"[a-c]+", "i"},
		{`\d+`, ""}, {`\D`, ""}, {`\w+\s\w+`, ""}, {`\W`, ""}, {`^\Qa.b\E$`, ""}, {`^\Q[x]\E`, ""}, {"colou?r", ""},
		{"^x{2,3}$", ""}, {"^x{3}$", ""}, {"^x{2,}$", ""}, {"[[:alpha:]]+", ""}, {`^\pL+$`, ""}, {`\p{Han}`, ""},
		{"(a|b)+c", ""}, {`\Aa`, ""}, {`b\z`, ""}, {`[\]\-]`, ""}, {`\$`, ""}, {`\\`, ""}, {`\.`, ""}, {`\^`, ""},
		{`(?s:.)`, ""}, {`(?m)^b`, ""}, {`[^\n]+$`, ""}, {"^$", ""}, {"^$", "m"}, {"", ""}, {`\?`, ""}, {`a\*b|a\+b`, ""},
		{"😀", ""}, {"[😀-😂]", ""}, {"naïve", ""}, {"^.{5}$", ""}, {"^.{5}$", "s"}, {`(?U)a+`, ""}, {"a+?b", ""},
		{`[^a]`, ""}, {`^[^a]*$`, "m"}, {"t.b", ""}, {`\t`, ""}, {`[\x{212a}]`, "i"}, {`(x)\)`, ""}, {"x|", ""},
	}
	for _, c := range cases {
		pg, err := postgres.TranslateRegex(c.pattern, c.options)
		if err != nil {
			t.Errorf("TranslateRegex(%q, %q): %v", c.pattern, c.options, err)
			continue
		}
		goRE := regexp2Go(t, c.pattern, c.options)
		rows, err := db.Query(ctx, `SELECT s, s ~ $1 FROM unnest($2::text[]) AS s`, pg, subjects)
		if err != nil {
			t.Errorf("pattern %q options %q → %q: %v", c.pattern, c.options, pg, err)
			continue
		}
		for rows.Next() {
			var s string
			var got bool
			if err := rows.Scan(&s, &got); err != nil {
				t.Fatal(err)
			}
			if want := goRE.MatchString(s); got != want {
				t.Errorf("pattern %q options %q (ARE %q) on %q: PostgreSQL %v, Go %v", c.pattern, c.options, pg, s, got, want)
			}
		}
		if err := rows.Err(); err != nil {
			t.Errorf("pattern %q options %q → %q: %v", c.pattern, c.options, pg, err)
		}
	}
}

func TestRegexExtendedAndInvalid(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := pgtest.NewStore(t)
	mustClass(t, s, "Doc", nil)
	if err := s.Insert(ctx, "Doc", obj("d1", `{"s":"ab#c"}`), obj("d2", `{"s":"a b"}`), obj("d3", `{"s":"ab"}`)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		pattern, options string
		want             []string
	}{
		{"a b # a comment", "x", []string{"d1", "d3"}},
		{"a\\ b", "x", []string{"d2"}},
		{"a[ ]b", "x", []string{"d2"}},
		{"b\\#c", "x", []string{"d1"}},
		{"^ A B $ ", "xi", []string{"d3"}},
	}
	for _, c := range cases {
		objs, err := s.Find(ctx, "Doc", storage.Query{Where: storage.Regex{Field: "s", Pattern: c.pattern, Options: c.options}})
		if err != nil {
			t.Errorf("regex %q %q: %v", c.pattern, c.options, err)
			continue
		}
		var ids []string
		for _, o := range objs {
			ids = append(ids, o.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, c.want) {
			t.Errorf("regex %q %q matched %q, want %q", c.pattern, c.options, ids, c.want)
		}
	}
	for _, bad := range []struct{ pattern, options string }{{"(", ""}, {"a{2,1}", ""}, {"(?=x)", ""}, {`\1`, ""}, {"a", "q"}, {"x{300}", ""}} {
		_, err := s.Find(ctx, "Doc", storage.Query{Where: storage.Regex{Field: "s", Pattern: bad.pattern, Options: bad.options}})
		if !errors.Is(err, storage.ErrInvalidQuery) {
			t.Errorf("regex %q %q = %v, want ErrInvalidQuery", bad.pattern, bad.options, err)
		}
	}
}

// regexp2Go compiles what Parse means by pattern and options with Go's
// regexp, the reference the translation must agree with.
func regexp2Go(t *testing.T, pattern, options string) *regexp.Regexp {
	t.Helper()
	flags := ""
	for _, o := range options {
		if strings.ContainsRune("ims", o) {
			flags += string(o)
		}
	}
	if flags != "" {
		pattern = "(?" + flags + ")" + pattern
	}
	return regexp.MustCompile(pattern)
}

// TestGeoPointFieldIndex: a GeoPoint field gets an index on its latitude,
// whichever call adds the field, and loses it with the field.
func TestGeoPointFieldIndex(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := pgtest.NewStore(t)
	db := adminPool(t)
	geoIndexes := func() []string {
		t.Helper()
		rows, _ := db.Query(ctx, `SELECT indexname::text || ' ' || regexp_replace(indexdef, '^.* USING ', '') FROM pg_indexes
			WHERE schemaname = $1 AND indexname LIKE 'geo:%' ORDER BY 1`, s.Namespace())
		idx, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return idx
	}
	if _, err := s.CreateClass(ctx, storage.Class{Name: "Place", Fields: map[string]storage.Field{"loc": {Type: "GeoPoint"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddFields(ctx, "Spot", map[string]storage.Field{"at": {Type: "GeoPoint"}}); err != nil {
		t.Fatal(err)
	}
	ns := s.Namespace() // lower-case letters, digits and _: pg_indexes shows it unquoted
	want := []string{
		`geo:Place:loc btree (` + ns + `.parsego_lat((data -> 'loc'::text)))`,
		`geo:Spot:at btree (` + ns + `.parsego_lat((data -> 'at'::text)))`,
	}
	if got := geoIndexes(); !slices.Equal(got, want) {
		t.Fatalf("geo indexes =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := s.UpdateClass(ctx, "Spot", storage.ClassUpdate{DeleteFields: []string{"at"}}); err != nil {
		t.Fatal(err)
	}
	if got := geoIndexes(); !slices.Equal(got, want[:1]) {
		t.Fatalf("after deleting Spot.at, geo indexes = %q, want %q", got, want[:1])
	}
}

// TestNumberColumnDroppedElsewhere: an instance that cached a class's number
// columns keeps answering after another instance drops the index (and with
// it the column), without waiting for the notification: the statement
// that meets the missing column runs again without it. In a transaction,
// where that error would abort it, the stale cache is not used.
func TestNumberColumnDroppedElsewhere(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, ns := pgtest.NewStoreNS(t)
	b := openOn(t, ns)
	mustClass(t, a, "Game", map[string]storage.Field{"score": {Type: "Number"}})
	if _, err := a.UpdateClass(ctx, "Game", storage.ClassUpdate{AddIndexes: map[string]map[string]any{"score_1": {"score": 1.0}}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Insert(ctx, "Game", storage.Object{ID: "g1", CreatedAt: time.Now(), UpdatedAt: time.Now(), Data: []byte(`{"score":3}`)}); err != nil {
		t.Fatal(err)
	}
	q := storage.Query{Where: storage.Cmp{Field: "score", Op: storage.Gt, Value: 1.0}, Order: []storage.Sort{{Field: "score"}}}
	find := func(what string, s storage.Store) {
		t.Helper()
		got, err := s.Find(ctx, "Game", q)
		if err != nil || len(got) != 1 || got[0].ID != "g1" {
			t.Fatalf("%s: Find = %v, %v; want g1", what, got, err)
		}
	}
	find("with the column", a) // a caches the column
	if _, err := b.UpdateClass(ctx, "Game", storage.ClassUpdate{DropIndexes: []string{"score_1"}}); err != nil {
		t.Fatal(err)
	}
	find("after b dropped it", a)
	if _, err := b.UpdateClass(ctx, "Game", storage.ClassUpdate{AddIndexes: map[string]map[string]any{"score_1": {"score": 1.0}}}); err != nil {
		t.Fatal(err)
	}
	find("after b added it back", a) // a does not know yet; the query answers alike
	c := openOn(t, ns)
	find("c caches the column", c)
	if _, err := b.UpdateClass(ctx, "Game", storage.ClassUpdate{DropIndexes: []string{"score_1"}}); err != nil {
		t.Fatal(err)
	}
	err := c.Tx(ctx, func(tx storage.Store) error {
		find("in a transaction", tx)
		return nil
	})
	if err != nil {
		t.Fatalf("Tx: %v", err)
	}
}
