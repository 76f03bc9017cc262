package storagetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parsego/parse/storage"
)

// Run runs the whole suite against the stores open returns. See the package
// documentation for what open must provide.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Helper()
	if open == nil {
		t.Fatal("storagetest.Run: open is nil")
	}
	o := opener(open)
	groups := []struct {
		name string
		run  func(*testing.T, opener)
	}{
		{"Schema", testSchema},
		{"Unique", testUnique},
		{"InsertGet", testInsertGet},
		{"Find", testFind},
		{"Conditions", testConditions},
		{"Geo", testGeo},
		{"OrderLimitSkip", testOrderLimitSkip},
		{"Count", testCount},
		{"Update", testUpdate},
		{"ACL", testACL},
		{"Relations", testRelations},
		{"Roles", testRoles},
		{"Tasks", testTasks},
		{"Subqueries", testSubqueries},
		{"Delete", testDelete},
		{"Transactions", testTransactions},
		{"Concurrency", testConcurrency},
		{"Errors", testErrors},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, o)
		})
	}
}

// opener opens a fresh store for a test.
type opener func(t *testing.T) storage.Store

// fresh marks t parallel and returns t's context and a new, empty store.
func (o opener) fresh(t *testing.T) (context.Context, storage.Store) {
	t.Helper()
	t.Parallel()
	s := o(t)
	if s == nil {
		t.Fatal("open returned a nil store")
	}
	return t.Context(), s
}

// base is the reference instant of the suite's timestamps: millisecond
// precision, as Parse keeps them.
var base = time.Date(2024, 3, 1, 10, 0, 0, 123_000_000, time.UTC)

// at returns base plus h hours.
func at(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }

// later is the updatedAt the suite's updates set.
var later = time.Date(2024, 5, 6, 7, 8, 9, 987_000_000, time.UTC)

// obj returns an object with the given ID and data, created and updated at
// base, without an ACL.
func obj(id, data string) storage.Object {
	return storage.Object{ID: id, CreatedAt: base, UpdatedAt: base, Data: json.RawMessage(data)}
}

// withPerms returns o with the given ACL.
func withPerms(o storage.Object, read, write []string) storage.Object {
	o.ReadPerm, o.WritePerm = read, write
	return o
}

// perms is a readable constructor of permission lists.
func perms(p ...string) []string {
	if p == nil {
		return []string{}
	}
	return p
}

// raw turns a JSON literal into a json.RawMessage.
func raw(s string) json.RawMessage { return json.RawMessage(s) }

// fields builds a field map from name, type pairs; a type "Pointer:Owner"
// carries a target class.
func fields(pairs ...string) map[string]storage.Field {
	if len(pairs)%2 != 0 {
		panic("storagetest: fields needs name, type pairs")
	}
	m := make(map[string]storage.Field, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		typ, target, _ := strings.Cut(pairs[i+1], ":")
		m[pairs[i]] = storage.Field{Type: typ, TargetClass: target}
	}
	return m
}

// mustClass creates a class with the given fields (name, type pairs).
func mustClass(t *testing.T, ctx context.Context, s storage.Store, name string, pairs ...string) storage.Class {
	t.Helper()
	c, err := s.CreateClass(ctx, storage.Class{Name: name, Fields: fields(pairs...)})
	if err != nil {
		t.Fatalf("CreateClass(%s): %v", name, err)
	}
	return c
}

func mustInsert(t *testing.T, ctx context.Context, s storage.Store, class string, objs ...storage.Object) {
	t.Helper()
	if err := s.Insert(ctx, class, objs...); err != nil {
		t.Fatalf("Insert(%s, %d objects): %v", class, len(objs), err)
	}
}

func mustGet(t *testing.T, ctx context.Context, s storage.Store, class, id string) storage.Object {
	t.Helper()
	o, err := s.Get(ctx, class, id, nil)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", class, id, err)
	}
	return o
}

func mustFind(t *testing.T, ctx context.Context, s storage.Store, class string, q storage.Query) []storage.Object {
	t.Helper()
	objs, err := s.Find(ctx, class, q)
	if err != nil {
		t.Fatalf("Find(%s, %s): %v", class, describeQuery(q), err)
	}
	return objs
}

func mustCount(t *testing.T, ctx context.Context, s storage.Store, class string, q storage.Query) int64 {
	t.Helper()
	n, err := s.Count(ctx, class, q)
	if err != nil {
		t.Fatalf("Count(%s, %s): %v", class, describeQuery(q), err)
	}
	return n
}

func mustUpdate(t *testing.T, ctx context.Context, s storage.Store, class, id string, u storage.Update) storage.Object {
	t.Helper()
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = later
	}
	o, err := s.Update(ctx, class, id, u)
	if err != nil {
		t.Fatalf("Update(%s, %s, %s): %v", class, id, describeOps(u.Ops), err)
	}
	return o
}

// update returns an Update of the given operators at later.
func update(ops ...storage.Op) storage.Update {
	return storage.Update{Ops: ops, UpdatedAt: later}
}

func opSet(field, value string) storage.Op {
	return storage.Op{Field: field, Kind: storage.OpSet, Value: raw(value)}
}

func opDelete(field string) storage.Op {
	return storage.Op{Field: field, Kind: storage.OpDelete}
}

func opIncrement(field, amount string) storage.Op {
	return storage.Op{Field: field, Kind: storage.OpIncrement, Value: raw(amount)}
}

func opAdd(field, values string) storage.Op {
	return storage.Op{Field: field, Kind: storage.OpAdd, Value: raw(values)}
}

func opAddUnique(field, values string) storage.Op {
	return storage.Op{Field: field, Kind: storage.OpAddUnique, Value: raw(values)}
}

func opRemove(field, values string) storage.Op {
	return storage.Op{Field: field, Kind: storage.OpRemove, Value: raw(values)}
}

// ids returns the objects' IDs in order.
func ids(objs []storage.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.ID
	}
	return out
}

// wantIDs checks the objects' IDs, in order.
func wantIDs(t *testing.T, what string, got []storage.Object, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if g := ids(got); !slices.Equal(g, want) {
		t.Errorf("%s: got IDs %q, want %q (in this order)", what, g, want)
	}
}

// wantIDSet checks the objects' IDs, in any order, each once.
func wantIDSet(t *testing.T, what string, got []storage.Object, want ...string) {
	t.Helper()
	g := ids(got)
	slices.Sort(g)
	w := slices.Clone(want)
	if w == nil {
		w = []string{}
	}
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got IDs %q, want %q (any order)", what, g, w)
	}
}

// wantData checks that got is the JSON document want.
func wantData(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	eq, err := jsonEqual(got, []byte(want))
	if err != nil {
		t.Errorf("%s: %v (got %s)", what, err, got)
		return
	}
	if !eq {
		t.Errorf("%s: got %s, want %s", what, got, want)
	}
}

// wantErr checks that err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// wantPerms checks an ACL list: nil and empty are different; the order of
// the entries is not significant.
func wantPerms(t *testing.T, what string, got, want []string) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Errorf("%s: got %#v, want %#v (nil means public, empty means master only)", what, got, want)
		return
	}
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// wantTime checks a timestamp at millisecond precision.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	g := got.UTC().Truncate(time.Millisecond)
	w := want.UTC().Truncate(time.Millisecond)
	if !g.Equal(w) {
		t.Errorf("%s: got %s, want %s", what, got.UTC().Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
	}
}

// wantObject checks every part of an object.
func wantObject(t *testing.T, what string, got, want storage.Object) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("%s: ID %q, want %q", what, got.ID, want.ID)
	}
	wantTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(t, what+": UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	wantPerms(t, what+": ReadPerm", got.ReadPerm, want.ReadPerm)
	wantPerms(t, what+": WritePerm", got.WritePerm, want.WritePerm)
	wantData(t, what+": Data", got.Data, string(want.Data))
}

// wantUnchanged checks that the stored object is still want.
func wantUnchanged(t *testing.T, ctx context.Context, s storage.Store, class string, want storage.Object) {
	t.Helper()
	got, err := s.Get(ctx, class, want.ID, nil)
	if err != nil {
		t.Errorf("Get(%s, %s) after a failed write: %v", class, want.ID, err)
		return
	}
	wantObject(t, "object after a failed write", got, want)
}

// noPanic runs f and turns a panic into a test error.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	f()
}

// date returns a Parse Date in storage encoding.
func date(iso string) string { return `{"__type":"Date","iso":"` + iso + `"}` }

// mustTime parses an RFC 3339 instant.
func mustTime(s string) time.Time {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return tm
}

func describeQuery(q storage.Query) string {
	var b strings.Builder
	b.WriteString("where ")
	b.WriteString(describeCond(q.Where))
	if q.ReadPerm != nil {
		fmt.Fprintf(&b, " readPerm %q", q.ReadPerm)
	}
	for _, s := range q.Order {
		fmt.Fprintf(&b, " order %s desc=%v", s.Field, s.Desc)
	}
	if q.Limit != 0 || q.Skip != 0 {
		fmt.Fprintf(&b, " limit %d skip %d", q.Limit, q.Skip)
	}
	return b.String()
}

func describeCond(c storage.Cond) string {
	switch c := c.(type) {
	case nil:
		return "<nil>"
	case storage.And:
		return "And" + describeConds(c)
	case storage.Or:
		return "Or" + describeConds(c)
	case storage.Nor:
		return "Nor" + describeConds(c)
	case storage.Cmp:
		return fmt.Sprintf("%s %s %s", c.Field, c.Op, describeValue(c.Value))
	case storage.In:
		not := ""
		if c.Not {
			not = "not "
		}
		vs := make([]string, len(c.Values))
		for i, v := range c.Values {
			vs[i] = describeValue(v)
		}
		return fmt.Sprintf("%s %sin [%s]", c.Field, not, strings.Join(vs, ", "))
	}
	return fmt.Sprintf("%#v", c)
}

func describeConds(cs []storage.Cond) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = describeCond(c)
	}
	return "(" + strings.Join(parts, "; ") + ")"
}

func describeValue(v any) string {
	switch v := v.(type) {
	case json.RawMessage:
		return string(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case string:
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf("%v", v)
}

func describeOps(ops []storage.Op) string {
	parts := make([]string, len(ops))
	for i, o := range ops {
		parts[i] = fmt.Sprintf("%s %s %s", o.Kind, o.Field, o.Value)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}
