package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/parsego/parse/storage"
)

// opStore opens a store with class Doc holding one object "d" with data.
func opStore(t *testing.T, o opener, data string) (context.Context, storage.Store) {
	t.Helper()
	ctx, s := o.fresh(t)
	mustClass(t, ctx, s, "Doc",
		"a", "Number", "b", "String", "n", "Number", "s", "String", "obj", "Object",
		"list", "Array", "other", "Array", "stats", "Object", "c", "String")
	mustInsert(t, ctx, s, "Doc", obj("d", data))
	return ctx, s
}

// applyOps updates "d" with ops and checks the result and the stored
// object against want.
func applyOps(t *testing.T, ctx context.Context, s storage.Store, want string, ops ...storage.Op) {
	t.Helper()
	got := mustUpdate(t, ctx, s, "Doc", "d", update(ops...))
	wantData(t, "Update "+describeOps(ops)+" returned", got.Data, want)
	wantData(t, "Get after Update "+describeOps(ops), mustGet(t, ctx, s, "Doc", "d").Data, want)
}

// failOps checks that updating "d" with ops fails with target and leaves
// the object as it was.
func failOps(t *testing.T, ctx context.Context, s storage.Store, target error, ops ...storage.Op) {
	t.Helper()
	before := mustGet(t, ctx, s, "Doc", "d")
	_, err := s.Update(ctx, "Doc", "d", update(ops...))
	wantErr(t, "Update "+describeOps(ops), err, target)
	wantUnchanged(t, ctx, s, "Doc", before)
}

func testUpdate(t *testing.T, o opener) {
	t.Run("SetTopLevel", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"a":1,"b":"x"}`)
		applyOps(t, ctx, s, `{"a":{"k":[1,2]},"b":"x","c":"y"}`, opSet("a", `{"k":[1,2]}`), opSet("c", `"y"`))
		applyOps(t, ctx, s, `{"a":2.5,"b":"x","c":"y"}`, opSet("a", `2.5`))
		applyOps(t, ctx, s, `{"a":2.5,"b":{"__type":"Date","iso":"2011-08-21T18:02:52.249Z"},"c":"y"}`, opSet("b", date("2011-08-21T18:02:52.249Z")))
		applyOps(t, ctx, s, `{"a":2.5,"b":{"__type":"Date","iso":"2011-08-21T18:02:52.249Z"},"c":[]}`, opSet("c", `[]`))
		applyOps(t, ctx, s, `{"a":2.5,"b":"quote \" é","c":[]}`, opSet("b", `"quote \" é"`))
	})

	t.Run("SetDotPath", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"obj":{"a":1,"b":{"c":2}}}`)
		applyOps(t, ctx, s, `{"obj":{"a":1,"b":{"c":2,"d":3}}}`, opSet("obj.b.d", `3`))
		applyOps(t, ctx, s, `{"obj":{"a":"over","b":{"c":2,"d":3}}}`, opSet("obj.a", `"over"`))
		applyOps(t, ctx, s, `{"obj":{"a":"over","b":{"c":2,"d":3}},"stats":{"x":{"y":true}}}`, opSet("stats.x.y", `true`))
		applyOps(t, ctx, s, `{"obj":{"a":"over","b":{"c":2,"d":3},"new":{"deep":null}},"stats":{"x":{"y":true}}}`, opSet("obj.new.deep", `null`))
		applyOps(t, ctx, s, `{"obj":{"a":"over","b":[1],"new":{"deep":null}},"stats":{"x":{"y":true}}}`, opSet("obj.b", `[1]`))
	})

	t.Run("Delete", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"a":1,"b":"x","obj":{"a":1,"b":{"c":2,"d":3}}}`)
		applyOps(t, ctx, s, `{"b":"x","obj":{"a":1,"b":{"c":2,"d":3}}}`, opDelete("a"))
		applyOps(t, ctx, s, `{"b":"x","obj":{"a":1,"b":{"d":3}}}`, opDelete("obj.b.c"))
		applyOps(t, ctx, s, `{"b":"x","obj":{"a":1,"b":{"d":3}}}`, opDelete("a"), opDelete("zz"), opDelete("nope.x"), opDelete("obj.zz"))
		applyOps(t, ctx, s, `{"b":"x"}`, opDelete("obj"))
	})

	t.Run("Increment", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"n":10,"s":"abc"}`)
		applyOps(t, ctx, s, `{"n":11,"s":"abc"}`, opIncrement("n", "1"))
		applyOps(t, ctx, s, `{"n":6,"s":"abc"}`, opIncrement("n", "-5"))
		applyOps(t, ctx, s, `{"n":6.5,"s":"abc"}`, opIncrement("n", "0.5"))
		applyOps(t, ctx, s, `{"n":6.5,"s":"abc"}`, opIncrement("n", "0"))
		applyOps(t, ctx, s, `{"n":6.5,"s":"abc","a":3}`, opIncrement("a", "3"))
		applyOps(t, ctx, s, `{"n":6.5,"s":"abc","a":3,"c":-2.25}`, opIncrement("c", "-2.25"))
		applyOps(t, ctx, s, `{"n":6.5,"s":"abc","a":3,"c":-2.25,"stats":{"wins":2}}`, opIncrement("stats.wins", "2"))
		applyOps(t, ctx, s, `{"n":6.5,"s":"abc","a":3,"c":-2.25,"stats":{"wins":1}}`, opIncrement("stats.wins", "-1"))
		applyOps(t, ctx, s, `{"n":9007199254740991,"s":"abc","a":3,"c":-2.25,"stats":{"wins":1}}`, opSet("n", "9007199254740991"))
		applyOps(t, ctx, s, `{"n":9007199254740992,"s":"abc","a":3,"c":-2.25,"stats":{"wins":1}}`, opIncrement("n", "1"))
	})

	t.Run("IncrementOnStringFails", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"n":1,"s":"abc","list":[1]}`)
		failOps(t, ctx, s, storage.ErrTypeMismatch, opIncrement("s", "1"))
		// The other operators of the update are not applied either.
		failOps(t, ctx, s, storage.ErrTypeMismatch, opSet("n", "5"), opIncrement("s", "1"), opAdd("list", `[2]`))
		failOps(t, ctx, s, storage.ErrTypeMismatch, opIncrement("list", "1"))
	})

	t.Run("Add", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"list":["a","b"]}`)
		applyOps(t, ctx, s, `{"list":["a","b","b","c"]}`, opAdd("list", `["b","c"]`))
		applyOps(t, ctx, s, `{"list":["a","b","b","c",1,{"k":1},null,["x"]]}`, opAdd("list", `[1,{"k":1},null,["x"]]`))
		applyOps(t, ctx, s, `{"list":["a","b","b","c",1,{"k":1},null,["x"]],"other":["x","x"]}`, opAdd("other", `["x","x"]`))
		applyOps(t, ctx, s, `{"list":["a","b","b","c",1,{"k":1},null,["x"]],"other":["x","x"],"stats":{"l":[true]}}`, opAdd("stats.l", `[true]`))
		applyOps(t, ctx, s, `{"list":["a","b","b","c",1,{"k":1},null,["x"]],"other":["x","x"],"stats":{"l":[true]}}`, opAdd("list", `[]`))
	})

	t.Run("AddUnique", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"list":["a","b"]}`)
		applyOps(t, ctx, s, `{"list":["a","b","c","d"]}`, opAddUnique("list", `["c","a","d","c"]`))
		applyOps(t, ctx, s, `{"list":["a","b","c","d"]}`, opAddUnique("list", `["d","b"]`))
		applyOps(t, ctx, s, `{"list":["a","b","c","d"],"other":["x","y"]}`, opAddUnique("other", `["x","y","x"]`))
		applyOps(t, ctx, s, `{"list":["a","b","c","d"],"other":["x","y"],"stats":{"l":[1]}}`, opAddUnique("stats.l", `[1,1]`))
	})

	// AddUnique makes the array a set: the stored "a","a" collapse.
	t.Run("AddUniqueStructural", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"list":[{"__type":"Pointer","className":"X","objectId":"1"},{"k":1,"j":2},"a","a"]}`)
		applyOps(t, ctx, s,
			`{"list":[{"__type":"Pointer","className":"X","objectId":"1"},{"k":1,"j":2},"a",{"k":3},{"__type":"Pointer","className":"X","objectId":"2"}]}`,
			opAddUnique("list", `[{"objectId":"1","className":"X","__type":"Pointer"},{"j":2,"k":1},"a",{"k":3},{"__type":"Pointer","className":"X","objectId":"2"},{"k":3}]`))
	})

	t.Run("Remove", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"list":["a","b","a","c",1,{"k":1,"j":2},{"__type":"Pointer","className":"X","objectId":"1"},"1"]}`)
		applyOps(t, ctx, s, `{"list":["b","c",1,{"k":1,"j":2},{"__type":"Pointer","className":"X","objectId":"1"},"1"]}`, opRemove("list", `["a","z"]`))
		applyOps(t, ctx, s, `{"list":["b","c",1]}`, opRemove("list", `[{"j":2,"k":1},{"objectId":"1","__type":"Pointer","className":"X"},"1"]`))
		applyOps(t, ctx, s, `{"list":["b","c"]}`, opRemove("list", `[1]`))
		applyOps(t, ctx, s, `{"list":["b","c"],"other":[]}`, opRemove("other", `["x"]`))
		applyOps(t, ctx, s, `{"list":[],"other":[]}`, opRemove("list", `["c","b"]`))
	})

	t.Run("ArrayOperatorsOnStringFail", func(t *testing.T) {
		// Decision: Add, AddUnique and Remove on a non-array value fail like
		// Increment on a string (MongoDB refuses $push, $addToSet and $pull
		// on non-arrays).
		ctx, s := opStore(t, o, `{"s":"abc","list":[1]}`)
		failOps(t, ctx, s, storage.ErrTypeMismatch, opAdd("s", `["x"]`))
		failOps(t, ctx, s, storage.ErrTypeMismatch, opAddUnique("s", `["x"]`))
		failOps(t, ctx, s, storage.ErrTypeMismatch, opRemove("s", `["abc"]`))
	})

	t.Run("SeveralOps", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"a":1,"b":"x","n":5,"list":["p","q"],"other":["r"],"s":"gone","obj":{"k":1}}`)
		applyOps(t, ctx, s, `{"a":1,"b":"y","n":7,"list":["p","q","p"],"other":["r","t"],"obj":{"k":1,"m":2},"c":"new"}`,
			opSet("b", `"y"`), opIncrement("n", "2"), opAdd("list", `["p"]`), opAddUnique("other", `["r","t"]`),
			opDelete("s"), opSet("obj.m", `2`), opSet("c", `"new"`))
		applyOps(t, ctx, s, `{"a":1,"b":"y","n":7,"list":["q"],"other":["r","t"],"obj":{"k":1,"m":2},"c":"new"}`,
			opRemove("list", `["p"]`), opIncrement("obj.k", "0"))
	})

	t.Run("Timestamps", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"n":1}`)
		u := update(opIncrement("n", "1"))
		u.UpdatedAt = later
		got, err := s.Update(ctx, "Doc", "d", u)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		want := obj("d", `{"n":2}`)
		want.UpdatedAt = later
		wantObject(t, "returned object", got, want)
		wantObject(t, "Get after Update", mustGet(t, ctx, s, "Doc", "d"), want)
		wantObject(t, "Get equals the returned object", mustGet(t, ctx, s, "Doc", "d"), got)
		// An update without operators still sets updatedAt.
		u = update()
		u.UpdatedAt = later.Add(1500 * time.Millisecond)
		got = mustUpdate(t, ctx, s, "Doc", "d", u)
		wantTime(t, "updatedAt of an update without operators", got.UpdatedAt, u.UpdatedAt)
		wantTime(t, "stored updatedAt", mustGet(t, ctx, s, "Doc", "d").UpdatedAt, u.UpdatedAt)
		wantTime(t, "createdAt", mustGet(t, ctx, s, "Doc", "d").CreatedAt, base)
	})

	t.Run("ReturnsStoredObject", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Doc", allTypesFields...)
		mustInsert(t, ctx, s, "Doc", withPerms(obj("d", allTypes), perms("*", "u1"), perms("u1")))
		u := update(opSet("int", "43"), opDelete("file"))
		u.WritePerm = perms("*", "u1")
		got, err := s.Update(ctx, "Doc", "d", u)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		stored := mustGet(t, ctx, s, "Doc", "d")
		wantObject(t, "returned object vs Get", got, stored)
		wantPerms(t, "ReadPerm", stored.ReadPerm, perms("*", "u1"))
		wantPerms(t, "WritePerm", stored.WritePerm, perms("u1"))
		wantFieldValue(t, "stored", stored.Data, "int", "43")
		wantFieldValue(t, "stored", stored.Data, "str", `"quote \" backslash \\ slash / tab \t newline \n cr \r ctrl \u0001\u001f unicode é 日本語 \ud83c\udf89 \u2028"`)
		wantFieldValue(t, "stored", stored.Data, "nested", `{"a": null, "b": {"c": [1, null, {"d": null}], "e": "f"}, "g": {}}`)
	})

	t.Run("Where", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"n":1,"b":"x"}`)
		u := update(opIncrement("n", "1"))
		u.Where = eq("b", "y")
		_, err := s.Update(ctx, "Doc", "d", u)
		wantErr(t, "Update with a where that does not match", err, storage.ErrNotFound)
		wantUnchanged(t, ctx, s, "Doc", obj("d", `{"n":1,"b":"x"}`))
		u.Where = storage.And{eq("b", "x"), lt("n", 2.0)}
		got := mustUpdate(t, ctx, s, "Doc", "d", u)
		wantData(t, "Update with a matching where", got.Data, `{"n":2,"b":"x"}`)
		// The condition sees the stored value, not the updated one.
		_, err = s.Update(ctx, "Doc", "d", u)
		wantErr(t, "Update whose where no longer matches", err, storage.ErrNotFound)
		wantData(t, "after the failed update", mustGet(t, ctx, s, "Doc", "d").Data, `{"n":2,"b":"x"}`)
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx, s := opStore(t, o, `{"n":1}`)
		_, err := s.Update(ctx, "Doc", "zz", update(opIncrement("n", "1")))
		wantErr(t, "Update of an unknown id", err, storage.ErrNotFound)
		_, err = s.Update(ctx, "Nope", "d", update(opIncrement("n", "1")))
		wantErr(t, "Update in an unknown class", err, storage.ErrNotFound)
		wantUnchanged(t, ctx, s, "Doc", obj("d", `{"n":1}`))
		n := mustCount(t, ctx, s, "Doc", storage.Query{})
		if n != 1 {
			t.Errorf("Update of an unknown id changed the object count to %d", n)
		}
	})
}
