package storagetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parsego/parse/storage"
)

// allTypes is an object holding every value Parse's storage encoding uses.
const allTypes = `{
	"str": "quote \" backslash \\ slash / tab \t newline \n cr \r ctrl \u0001\u001f unicode é 日本語 \ud83c\udf89 \u2028",
	"empty": "",
	"int": 42,
	"frac": 42.5,
	"neg": -17,
	"negFrac": -0.25,
	"big": 9007199254740992,
	"tiny": 0.000001,
	"zero": 0,
	"yes": true,
	"no": false,
	"nothing": null,
	"nested": {"a": null, "b": {"c": [1, null, {"d": null}], "e": "f"}, "g": {}},
	"mixed": [1, "two", true, null, {"x": 1}, [2, [3]], 4.5, {"__type": "Date", "iso": "2020-02-02T02:02:02.020Z"}],
	"emptyArray": [],
	"emptyObject": {},
	"date": {"__type": "Date", "iso": "2011-08-21T18:02:52.249Z"},
	"pointer": {"__type": "Pointer", "className": "_User", "objectId": "u1"},
	"geo": {"__type": "GeoPoint", "latitude": 40.5, "longitude": -30},
	"poly": {"__type": "Polygon", "coordinates": [[0, 0], [0, 1.5], [1, 1], [1, 0]]},
	"bytes": {"__type": "Bytes", "base64": "aGVsbG8gd29ybGQ="},
	"file": {"__type": "File", "name": "x.txt"}
}`

var allTypesFields = []string{
	"str", "String", "empty", "String", "int", "Number", "frac", "Number", "neg", "Number",
	"negFrac", "Number", "big", "Number", "tiny", "Number", "zero", "Number", "yes", "Boolean",
	"no", "Boolean", "nothing", "String", "nested", "Object", "mixed", "Array",
	"emptyArray", "Array", "emptyObject", "Object", "date", "Date", "pointer", "Pointer:_User",
	"geo", "GeoPoint", "poly", "Polygon", "bytes", "Bytes", "file", "File",
}

func testInsertGet(t *testing.T, o opener) {
	t.Run("MultiInsert", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		mustInsert(t, ctx, s, "Item", obj("a", `{"n":1}`), obj("b", `{"n":2}`), obj("c", `{"n":3}`))
		mustInsert(t, ctx, s, "Item", obj("d", `{"n":4}`))
		for id, n := range map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"} {
			wantData(t, "Get "+id, mustGet(t, ctx, s, "Item", id).Data, `{"n":`+n+`}`)
		}
		if n := mustCount(t, ctx, s, "Item", storage.Query{}); n != 4 {
			t.Errorf("Count = %d, want 4", n)
		}
	})

	t.Run("Timestamps", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		zone := time.FixedZone("UTC+05:30", 5*3600+1800)
		created := time.Date(2011, 8, 21, 23, 32, 52, 249_000_000, zone)
		updated := time.Date(2030, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
		o1 := storage.Object{ID: "t1", CreatedAt: created, UpdatedAt: updated, Data: raw(`{}`)}
		o2 := storage.Object{ID: "t2", CreatedAt: time.Date(1999, 1, 1, 0, 0, 0, 1_000_000, time.UTC), UpdatedAt: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), Data: raw(`{}`)}
		mustInsert(t, ctx, s, "Item", o1, o2)
		for _, want := range []storage.Object{o1, o2} {
			got := mustGet(t, ctx, s, "Item", want.ID)
			wantTime(t, want.ID+" CreatedAt", got.CreatedAt, want.CreatedAt)
			wantTime(t, want.ID+" UpdatedAt", got.UpdatedAt, want.UpdatedAt)
		}
		found := mustFind(t, ctx, s, "Item", storage.Query{Where: storage.Cmp{Field: "objectId", Op: storage.Eq, Value: "t1"}})
		if len(found) != 1 {
			t.Fatalf("Find t1 returned %d objects", len(found))
		}
		wantTime(t, "Find t1 CreatedAt", found[0].CreatedAt, created)
		wantTime(t, "Find t1 UpdatedAt", found[0].UpdatedAt, updated)
	})

	t.Run("Perms", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		objs := []storage.Object{
			withPerms(obj("public", `{"n":1}`), nil, nil),
			withPerms(obj("master", `{"n":2}`), perms(), perms()),
			withPerms(obj("mixed", `{"n":3}`), perms("*", "u1", "role:Admin"), perms("u1")),
			withPerms(obj("readonly", `{"n":4}`), perms("*"), perms()),
			withPerms(obj("writeonly", `{"n":5}`), nil, perms("role:Writers", "u2")),
		}
		mustInsert(t, ctx, s, "Item", objs...)
		found := map[string]storage.Object{}
		for _, f := range mustFind(t, ctx, s, "Item", storage.Query{}) {
			found[f.ID] = f
		}
		for _, want := range objs {
			wantObject(t, "Get "+want.ID, mustGet(t, ctx, s, "Item", want.ID), want)
			f, ok := found[want.ID]
			if !ok {
				t.Errorf("Find did not return %s", want.ID)
				continue
			}
			wantObject(t, "Find "+want.ID, f, want)
		}
	})

	t.Run("DataRoundTrip", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", allTypesFields...)
		mustInsert(t, ctx, s, "Item", obj("all", allTypes), obj("empty", `{}`))
		wantData(t, "Get all", mustGet(t, ctx, s, "Item", "all").Data, allTypes)
		wantData(t, "Get empty", mustGet(t, ctx, s, "Item", "empty").Data, `{}`)
		found := mustFind(t, ctx, s, "Item", storage.Query{Where: storage.Cmp{Field: "objectId", Op: storage.Eq, Value: "all"}})
		if len(found) != 1 {
			t.Fatalf("Find all returned %d objects", len(found))
		}
		wantData(t, "Find all", found[0].Data, allTypes)

		// The stored values compare equal to the values they were given as.
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(allTypes), &doc); err != nil {
			t.Fatal(err)
		}
		var str string
		if err := json.Unmarshal(doc["str"], &str); err != nil {
			t.Fatal(err)
		}
		for _, c := range []condCase{
			{"str", eq("str", str), []string{"all"}},
			{"str in", in("str", "x", str), []string{"all"}},
			{"empty", eq("empty", ""), []string{"all"}},
			{"big", eq("big", 9007199254740992.0), []string{"all"}},
			{"tiny", eq("tiny", 0.000001), []string{"all"}},
			{"frac", gt("frac", 42.49), []string{"all"}},
			{"nothing", eq("nothing", nil), []string{"all", "empty"}},
			{"nested", eq("nested.b.e", "f"), []string{"all"}},
			{"nested null", exists("nested.a", false), []string{"all", "empty"}},
			{"date", eq("date", mustTime("2011-08-21T18:02:52.249Z")), []string{"all"}},
			{"pointer", eq("pointer", doc["pointer"]), []string{"all"}},
			{"geo", eq("geo", doc["geo"]), []string{"all"}},
			{"poly", eq("poly", doc["poly"]), []string{"all"}},
			{"bytes", eq("bytes", doc["bytes"]), []string{"all"}},
			{"file", eq("file", doc["file"]), []string{"all"}},
			{"mixed", eq("mixed", doc["mixed"]), []string{"all"}},
			{"mixed date element", eq("mixed", mustTime("2020-02-02T02:02:02.020Z")), []string{"all"}},
			{"emptyObject", eq("emptyObject", rawv(`{}`)), []string{"all"}},
		} {
			checkCond(t, ctx, s, "Item", c)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		mustInsert(t, ctx, s, "Item", obj("a", `{"n":1}`))
		_, err := s.Get(ctx, "Item", "b", nil)
		wantErr(t, "Get of an unknown id", err, storage.ErrNotFound)
		_, err = s.Get(ctx, "Nope", "a", nil)
		wantErr(t, "Get in an unknown class", err, storage.ErrNotFound)
		_, err = s.Get(ctx, "Item", "", nil)
		wantErr(t, "Get of an empty id", err, storage.ErrNotFound)
		_, err = s.Get(ctx, "Item", "A", nil)
		wantErr(t, "Get with the id in another case", err, storage.ErrNotFound)
	})
}

func testFind(t *testing.T, o opener) {
	t.Run("UnknownClass", func(t *testing.T) {
		ctx, s := o.fresh(t)
		got, err := s.Find(ctx, "Nope", storage.Query{})
		if err != nil {
			t.Fatalf("Find in an unknown class: %v", err)
		}
		wantIDSet(t, "Find in an unknown class", got)
		got, err = s.Find(ctx, "Nope", storage.Query{
			Where:    storage.Cmp{Field: "a", Op: storage.Eq, Value: "x"},
			ReadPerm: perms("*"),
			Order:    []storage.Sort{{Field: "a"}},
			Limit:    3,
		})
		if err != nil {
			t.Fatalf("Find with a condition in an unknown class: %v", err)
		}
		wantIDSet(t, "Find with a condition in an unknown class", got)
	})

	t.Run("EmptyClass", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		wantIDSet(t, "Find in an empty class", mustFind(t, ctx, s, "Item", storage.Query{}))
	})

	t.Run("WholeObjects", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number", "s", "String", "o", "Object")
		objs := []storage.Object{
			{ID: "a", CreatedAt: at(1), UpdatedAt: at(2), Data: raw(`{"n":1,"s":"x","o":{"k":[1,2]}}`), ReadPerm: perms("u1"), WritePerm: perms("u1")},
			{ID: "b", CreatedAt: at(3), UpdatedAt: at(4), Data: raw(`{"s":"y"}`)},
			{ID: "c", CreatedAt: at(5), UpdatedAt: at(6), Data: raw(`{}`), ReadPerm: perms(), WritePerm: perms()},
		}
		mustInsert(t, ctx, s, "Item", objs...)
		got := mustFind(t, ctx, s, "Item", storage.Query{Order: []storage.Sort{{Field: "objectId"}}})
		wantIDs(t, "Find", got, "a", "b", "c")
		for i := range min(len(got), len(objs)) {
			wantObject(t, "Find "+objs[i].ID, got[i], objs[i])
		}
	})

	t.Run("KeysHint", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number", "s", "String", "o", "Object")
		mustInsert(t, ctx, s, "Item",
			withPerms(obj("a", `{"n":1,"s":"x","o":{"k":1}}`), perms("u1"), perms("u2")),
			obj("b", `{"s":"y"}`))
		got := mustFind(t, ctx, s, "Item", storage.Query{Keys: []string{"n", "o"}, Order: []storage.Sort{{Field: "objectId"}}})
		wantIDs(t, "Find with keys", got, "a", "b")
		if len(got) != 2 {
			return
		}
		wantFieldValue(t, "a with keys n,o", got[0].Data, "n", `1`)
		wantFieldValue(t, "a with keys n,o", got[0].Data, "o", `{"k":1}`)
		wantTime(t, "a with keys: CreatedAt", got[0].CreatedAt, base)
		wantTime(t, "a with keys: UpdatedAt", got[0].UpdatedAt, base)
		wantPerms(t, "a with keys: ReadPerm", got[0].ReadPerm, perms("u1"))
		wantPerms(t, "a with keys: WritePerm", got[0].WritePerm, perms("u2"))
		got = mustFind(t, ctx, s, "Item", storage.Query{Keys: []string{}, Where: storage.Cmp{Field: "s", Op: storage.Eq, Value: "y"}})
		wantIDs(t, "Find with empty keys", got, "b")
	})
}

func testCount(t *testing.T, o opener) {
	t.Run("Conditions", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		mustInsert(t, ctx, s, "Item",
			obj("a", `{"n":1}`), obj("b", `{"n":2}`), obj("c", `{"n":3}`),
			obj("d", `{"n":4}`), obj("e", `{}`))
		cases := []struct {
			q    storage.Query
			want int64
		}{
			{storage.Query{}, 5},
			{storage.Query{Where: storage.Cmp{Field: "n", Op: storage.Gt, Value: 1.0}}, 3},
			{storage.Query{Where: storage.Cmp{Field: "n", Op: storage.Gt, Value: 1.0}, Limit: 1}, 3},
			{storage.Query{Where: storage.Cmp{Field: "n", Op: storage.Gt, Value: 1.0}, Limit: 1, Skip: 1}, 3},
			{storage.Query{Where: storage.Cmp{Field: "n", Op: storage.Gt, Value: 1.0}, Skip: 10}, 3},
			{storage.Query{Where: storage.Cmp{Field: "n", Op: storage.Gt, Value: 1.0}, Order: []storage.Sort{{Field: "n", Desc: true}}, Keys: []string{"n"}}, 3},
			{storage.Query{Where: storage.Exists{Field: "n", Exists: false}}, 1},
			{storage.Query{Where: storage.Cmp{Field: "n", Op: storage.Gt, Value: 100.0}}, 0},
		}
		for _, c := range cases {
			if n := mustCount(t, ctx, s, "Item", c.q); n != c.want {
				t.Errorf("Count(%s) = %d, want %d", describeQuery(c.q), n, c.want)
			}
		}
	})

	t.Run("ReadPerm", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		mustInsert(t, ctx, s, "Item",
			withPerms(obj("pub", `{"n":1}`), nil, nil),
			withPerms(obj("star", `{"n":2}`), perms("*"), nil),
			withPerms(obj("u1", `{"n":3}`), perms("u1"), nil),
			withPerms(obj("admin", `{"n":4}`), perms("role:Admin"), nil),
			withPerms(obj("none", `{"n":5}`), perms(), nil))
		cases := []struct {
			q    storage.Query
			want int64
		}{
			{storage.Query{}, 5},
			{storage.Query{ReadPerm: perms("*")}, 2},
			{storage.Query{ReadPerm: perms("*", "u1")}, 3},
			{storage.Query{ReadPerm: perms("*", "u1", "role:Admin")}, 4},
			{storage.Query{ReadPerm: perms("*", "u1"), Where: storage.Cmp{Field: "n", Op: storage.Gte, Value: 2.0}, Limit: 1}, 2},
		}
		for _, c := range cases {
			if n := mustCount(t, ctx, s, "Item", c.q); n != c.want {
				t.Errorf("Count(%s) = %d, want %d", describeQuery(c.q), n, c.want)
			}
		}
	})

	t.Run("UnknownClass", func(t *testing.T) {
		ctx, s := o.fresh(t)
		n, err := s.Count(ctx, "Nope", storage.Query{})
		if err != nil || n != 0 {
			t.Errorf("Count in an unknown class = %d, %v; want 0, nil", n, err)
		}
		n, err = s.Count(ctx, "Nope", storage.Query{Where: storage.Cmp{Field: "a", Op: storage.Eq, Value: 1.0}, ReadPerm: perms("*")})
		if err != nil || n != 0 {
			t.Errorf("Count with a condition in an unknown class = %d, %v; want 0, nil", n, err)
		}
	})
}

func testDelete(t *testing.T, o opener) {
	t.Run("ByID", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		mustInsert(t, ctx, s, "Item", obj("a", `{"n":1}`), obj("b", `{"n":2}`))
		if err := s.Delete(ctx, "Item", "a", nil, nil); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		_, err := s.Get(ctx, "Item", "a", nil)
		wantErr(t, "Get after Delete", err, storage.ErrNotFound)
		wantIDSet(t, "Find after Delete", mustFind(t, ctx, s, "Item", storage.Query{}), "b")
		wantErr(t, "second Delete", s.Delete(ctx, "Item", "a", nil, nil), storage.ErrNotFound)
		wantErr(t, "Delete of an unknown id", s.Delete(ctx, "Item", "zz", nil, nil), storage.ErrNotFound)
		wantErr(t, "Delete in an unknown class", s.Delete(ctx, "Nope", "b", nil, nil), storage.ErrNotFound)
		wantData(t, "the other object", mustGet(t, ctx, s, "Item", "b").Data, `{"n":2}`)
		// The ID can be used again.
		mustInsert(t, ctx, s, "Item", obj("a", `{"n":10}`))
		wantData(t, "re-inserted a", mustGet(t, ctx, s, "Item", "a").Data, `{"n":10}`)
	})

	t.Run("WritePerm", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		objs := []storage.Object{
			withPerms(obj("u1", `{"n":1}`), nil, perms("u1")),
			withPerms(obj("admin", `{"n":2}`), nil, perms("role:Admin")),
			withPerms(obj("master", `{"n":3}`), nil, perms()),
			withPerms(obj("star", `{"n":4}`), perms(), perms("*")),
			withPerms(obj("pub", `{"n":5}`), nil, nil),
		}
		mustInsert(t, ctx, s, "Item", objs...)
		caller := perms("*", "u2", "role:Guest")
		for _, o := range objs[:3] {
			wantErr(t, "Delete of "+o.ID+" by "+caller[1], s.Delete(ctx, "Item", o.ID, caller, nil), storage.ErrNotFound)
			wantUnchanged(t, ctx, s, "Item", o)
		}
		for _, id := range []string{"star", "pub"} {
			if err := s.Delete(ctx, "Item", id, caller, nil); err != nil {
				t.Errorf("Delete of %s by anyone: %v", id, err)
			}
		}
		if err := s.Delete(ctx, "Item", "u1", perms("*", "u1"), nil); err != nil {
			t.Errorf("Delete of u1 by u1: %v", err)
		}
		if err := s.Delete(ctx, "Item", "admin", perms("*", "u3", "role:Admin"), nil); err != nil {
			t.Errorf("Delete of admin by role:Admin: %v", err)
		}
		wantErr(t, "Delete of master by u1", s.Delete(ctx, "Item", "master", perms("*", "u1", "role:Admin"), nil), storage.ErrNotFound)
		if err := s.Delete(ctx, "Item", "master", nil, nil); err != nil {
			t.Errorf("Delete of master with the master key: %v", err)
		}
		wantIDSet(t, "left", mustFind(t, ctx, s, "Item", storage.Query{}))
	})

	t.Run("Where", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		a := obj("a", `{"n":1}`)
		mustInsert(t, ctx, s, "Item", a)
		err := s.Delete(ctx, "Item", "a", nil, storage.Cmp{Field: "n", Op: storage.Eq, Value: 2.0})
		wantErr(t, "Delete with a where that does not match", err, storage.ErrNotFound)
		wantUnchanged(t, ctx, s, "Item", a)
		err = s.Delete(ctx, "Item", "a", perms("*"), storage.Cmp{Field: "n", Op: storage.Eq, Value: 1.0})
		if err != nil {
			t.Fatalf("Delete with a matching where: %v", err)
		}
		_, err = s.Get(ctx, "Item", "a", nil)
		wantErr(t, "Get after Delete", err, storage.ErrNotFound)
	})

	t.Run("DeleteMany", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		mustInsert(t, ctx, s, "Item",
			obj("a", `{"n":1}`), obj("b", `{"n":2}`), obj("c", `{"n":3}`),
			obj("d", `{"n":4}`), obj("e", `{}`))
		n, err := s.DeleteMany(ctx, "Item", storage.Cmp{Field: "n", Op: storage.Gt, Value: 2.0})
		if err != nil || n != 2 {
			t.Errorf("DeleteMany(n > 2) = %d, %v; want 2, nil", n, err)
		}
		wantIDSet(t, "left after DeleteMany(n > 2)", mustFind(t, ctx, s, "Item", storage.Query{}), "a", "b", "e")
		n, err = s.DeleteMany(ctx, "Item", storage.Cmp{Field: "n", Op: storage.Gt, Value: 2.0})
		if err != nil || n != 0 {
			t.Errorf("DeleteMany matching nothing = %d, %v; want 0, nil", n, err)
		}
		n, err = s.DeleteMany(ctx, "Item", storage.Exists{Field: "n", Exists: false})
		if err != nil || n != 1 {
			t.Errorf("DeleteMany(n missing) = %d, %v; want 1, nil", n, err)
		}
		n, err = s.DeleteMany(ctx, "Item", nil)
		if err != nil || n != 2 {
			t.Errorf("DeleteMany(nil) = %d, %v; want 2, nil", n, err)
		}
		wantIDSet(t, "left after DeleteMany(nil)", mustFind(t, ctx, s, "Item", storage.Query{}))
		n, err = s.DeleteMany(ctx, "Item", nil)
		if err != nil || n != 0 {
			t.Errorf("DeleteMany(nil) of an empty class = %d, %v; want 0, nil", n, err)
		}
	})
}

// wantFieldValue checks one top-level field of a data document.
func wantFieldValue(t *testing.T, what string, data []byte, field, want string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Errorf("%s: data %s: %v", what, data, err)
		return
	}
	v, ok := m[field]
	if !ok {
		t.Errorf("%s: field %s missing from %s", what, field, data)
		return
	}
	wantData(t, what+": "+field, []byte(v), want)
}
