package storagetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parsego/parse/storage"
)

func testSchema(t *testing.T, o opener) {
	t.Run("LoadSchemaFresh", func(t *testing.T) {
		ctx, s := o.fresh(t)
		before, err := s.LoadSchema(ctx)
		if err != nil {
			t.Fatalf("LoadSchema on a fresh store: %v", err)
		}
		seen := map[string]bool{}
		for _, c := range before {
			if c.Name == "" {
				t.Errorf("LoadSchema returned a class without a name: %+v", c)
			}
			if seen[c.Name] {
				t.Errorf("LoadSchema returned class %q twice", c.Name)
			}
			seen[c.Name] = true
		}
		for _, name := range []string{"GameScore", "Player"} {
			if seen[name] {
				t.Fatalf("a fresh store already has class %q", name)
			}
		}
		mustClass(t, ctx, s, "GameScore", "score", "Number", "playerName", "String")
		mustClass(t, ctx, s, "Player", "name", "String")
		after, err := s.LoadSchema(ctx)
		if err != nil {
			t.Fatalf("LoadSchema: %v", err)
		}
		if len(after) != len(before)+2 {
			t.Errorf("LoadSchema after creating 2 classes returned %d classes, want %d", len(after), len(before)+2)
		}
		gs := wantClass(t, after, "GameScore")
		wantFieldDef(t, "GameScore.score", gs.Fields, "score", storage.Field{Type: "Number"})
		wantFieldDef(t, "GameScore.playerName", gs.Fields, "playerName", storage.Field{Type: "String"})
		p := wantClass(t, after, "Player")
		wantFieldDef(t, "Player.name", p.Fields, "name", storage.Field{Type: "String"})
		if _, ok := p.Fields["score"]; ok {
			t.Errorf("Player has GameScore's field score")
		}
	})

	t.Run("CreateClassExists", func(t *testing.T) {
		ctx, s := o.fresh(t)
		c := mustClass(t, ctx, s, "GameScore", "score", "Number")
		if c.Name != "GameScore" {
			t.Errorf("CreateClass returned name %q", c.Name)
		}
		wantFieldDef(t, "returned class", c.Fields, "score", storage.Field{Type: "Number"})
		_, err := s.CreateClass(ctx, storage.Class{Name: "GameScore", Fields: fields("score", "String", "other", "Boolean")})
		wantErr(t, "CreateClass of an existing class", err, storage.ErrClassExists)
		got := loadClass(t, ctx, s, "GameScore")
		wantFieldDef(t, "after ErrClassExists", got.Fields, "score", storage.Field{Type: "Number"})
		if _, ok := got.Fields["other"]; ok {
			t.Errorf("the failed CreateClass added field other")
		}
	})

	t.Run("CreateClassCLPAndIndexes", func(t *testing.T) {
		// Decision: indexes given to CreateClass are created and shown in
		// Class.Indexes, as Parse's POST /schemas does.
		ctx, s := o.fresh(t)
		clp := `{"find":{"*":true},"get":{"role:Admin":true},"create":{},"protectedFields":{"*":["secret"]}}`
		c, err := s.CreateClass(ctx, storage.Class{
			Name:    "GameScore",
			Fields:  fields("score", "Number", "secret", "String"),
			CLP:     raw(clp),
			Indexes: map[string]map[string]any{"score_1": {"score": 1.0}},
		})
		if err != nil {
			t.Fatalf("CreateClass: %v", err)
		}
		wantData(t, "returned CLP", c.CLP, clp)
		wantIndex(t, "returned class", c.Indexes, "score_1", `{"score":1}`)
		got := loadClass(t, ctx, s, "GameScore")
		wantData(t, "loaded CLP", got.CLP, clp)
		wantIndex(t, "loaded class", got.Indexes, "score_1", `{"score":1}`)
	})

	t.Run("FieldRoundTrip", func(t *testing.T) {
		ctx, s := o.fresh(t)
		defs := map[string]storage.Field{
			"title":   {Type: "String", Required: true, DefaultValue: raw(`"untitled \"one\""`)},
			"score":   {Type: "Number", DefaultValue: raw(`0`)},
			"ratio":   {Type: "Number", DefaultValue: raw(`-2.5`)},
			"active":  {Type: "Boolean", DefaultValue: raw(`false`)},
			"owner":   {Type: "Pointer", TargetClass: "_User", Required: true},
			"members": {Type: "Relation", TargetClass: "_User"},
			"meta":    {Type: "Object", DefaultValue: raw(`{"a":[1,"x",null,{"b":true}]}`)},
			"tags":    {Type: "Array", DefaultValue: raw(`["a","b"]`)},
			"when":    {Type: "Date", DefaultValue: raw(date("2011-08-21T18:02:52.249Z"))},
			"photo":   {Type: "File"},
			"where":   {Type: "GeoPoint"},
			"area":    {Type: "Polygon"},
			"blob":    {Type: "Bytes"},
		}
		c, err := s.CreateClass(ctx, storage.Class{Name: "Doc", Fields: defs})
		if err != nil {
			t.Fatalf("CreateClass: %v", err)
		}
		wantFields(t, "CreateClass result", c.Fields, defs)
		wantFields(t, "LoadSchema", loadClass(t, ctx, s, "Doc").Fields, defs)

		added, err := s.AddFields(ctx, "Doc2", defs)
		if err != nil {
			t.Fatalf("AddFields: %v", err)
		}
		wantFields(t, "AddFields result", added.Fields, defs)
		wantFields(t, "LoadSchema after AddFields", loadClass(t, ctx, s, "Doc2").Fields, defs)
	})

	t.Run("AddFieldsCreatesClass", func(t *testing.T) {
		ctx, s := o.fresh(t)
		c, err := s.AddFields(ctx, "Fresh", fields("a", "String", "p", "Pointer:Player"))
		if err != nil {
			t.Fatalf("AddFields on a missing class: %v", err)
		}
		if c.Name != "Fresh" {
			t.Errorf("AddFields returned class %q, want Fresh", c.Name)
		}
		wantFieldDef(t, "returned", c.Fields, "a", storage.Field{Type: "String"})
		wantFieldDef(t, "returned", c.Fields, "p", storage.Field{Type: "Pointer", TargetClass: "Player"})
		got := loadClass(t, ctx, s, "Fresh")
		wantFieldDef(t, "loaded", got.Fields, "a", storage.Field{Type: "String"})
		_, err = s.CreateClass(ctx, storage.Class{Name: "Fresh"})
		wantErr(t, "CreateClass after AddFields created the class", err, storage.ErrClassExists)
		// The class can hold objects.
		mustInsert(t, ctx, s, "Fresh", obj("f1", `{"a":"x"}`))
		wantData(t, "object", mustGet(t, ctx, s, "Fresh", "f1").Data, `{"a":"x"}`)
	})

	t.Run("AddFieldsKeepsExisting", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "GameScore", "score", "Number", "owner", "Pointer:_User")
		c, err := s.AddFields(ctx, "GameScore", map[string]storage.Field{
			"score": {Type: "String"},
			"owner": {Type: "Pointer", TargetClass: "Other"},
			"name":  {Type: "String"},
			"cheat": {Type: "Boolean"},
		})
		if err != nil {
			t.Fatalf("AddFields: %v", err)
		}
		wantFieldDef(t, "existing field given another type", c.Fields, "score", storage.Field{Type: "Number"})
		wantFieldDef(t, "existing pointer given another target", c.Fields, "owner", storage.Field{Type: "Pointer", TargetClass: "_User"})
		wantFieldDef(t, "added field", c.Fields, "name", storage.Field{Type: "String"})
		wantFieldDef(t, "added field", c.Fields, "cheat", storage.Field{Type: "Boolean"})
		got := loadClass(t, ctx, s, "GameScore")
		wantFieldDef(t, "loaded", got.Fields, "score", storage.Field{Type: "Number"})
		wantFieldDef(t, "loaded", got.Fields, "owner", storage.Field{Type: "Pointer", TargetClass: "_User"})
		wantFieldDef(t, "loaded", got.Fields, "name", storage.Field{Type: "String"})
		wantFieldDef(t, "loaded", got.Fields, "cheat", storage.Field{Type: "Boolean"})

		// Nothing new: the class comes back as stored.
		c, err = s.AddFields(ctx, "GameScore", fields("score", "Number"))
		if err != nil {
			t.Fatalf("AddFields of an existing field: %v", err)
		}
		wantFieldDef(t, "second call", c.Fields, "name", storage.Field{Type: "String"})
	})

	t.Run("KeyedOnlyKept", func(t *testing.T) {
		ctx, s := o.fresh(t)
		c, err := s.CreateClass(ctx, storage.Class{Name: "Record", Fields: fields("key", "String"), KeyedOnly: true})
		if err != nil {
			t.Fatalf("CreateClass: %v", err)
		}
		if !c.KeyedOnly {
			t.Errorf("CreateClass returned KeyedOnly false")
		}
		if c, err = s.AddFields(ctx, "Record", fields("more", "Number")); err != nil {
			t.Fatalf("AddFields: %v", err)
		}
		if !c.KeyedOnly {
			t.Errorf("AddFields returned KeyedOnly false")
		}
		if !loadClass(t, ctx, s, "Record").KeyedOnly {
			t.Errorf("LoadSchema returned KeyedOnly false")
		}
		if loadClass(t, ctx, s, mustClass(t, ctx, s, "Other", "key", "String").Name).KeyedOnly {
			t.Errorf("a class created without KeyedOnly has it")
		}
	})

	t.Run("AddFieldsConcurrentNewClass", func(t *testing.T) {
		ctx, s := o.fresh(t)
		concurrentAddFields(t, ctx, s, "Race")
	})

	t.Run("AddFieldsConcurrentNewField", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Race", "name", "String")
		concurrentAddFields(t, ctx, s, "Race")
		wantFieldDef(t, "pre-existing field", loadClass(t, ctx, s, "Race").Fields, "name", storage.Field{Type: "String"})
	})

	t.Run("UpdateClassCLP", func(t *testing.T) {
		ctx, s := o.fresh(t)
		clp1 := `{"find":{"*":true},"create":{"*":true}}`
		clp2 := `{"find":{"role:Admin":true,"u1":true},"count":{},"readUserFields":["owner"],"protectedFields":{"*":["email","phone"]}}`
		if _, err := s.CreateClass(ctx, storage.Class{Name: "GameScore", Fields: fields("score", "Number"), CLP: raw(clp1)}); err != nil {
			t.Fatalf("CreateClass: %v", err)
		}
		c, err := s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{CLP: raw(clp2)})
		if err != nil {
			t.Fatalf("UpdateClass: %v", err)
		}
		wantData(t, "returned CLP", c.CLP, clp2)
		wantFieldDef(t, "fields kept", c.Fields, "score", storage.Field{Type: "Number"})
		wantData(t, "loaded CLP", loadClass(t, ctx, s, "GameScore").CLP, clp2)

		// A nil CLP leaves it unchanged.
		c, err = s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{AddFields: fields("x", "String")})
		if err != nil {
			t.Fatalf("UpdateClass: %v", err)
		}
		wantData(t, "CLP after an update without CLP", c.CLP, clp2)
		wantData(t, "loaded CLP after an update without CLP", loadClass(t, ctx, s, "GameScore").CLP, clp2)
	})

	t.Run("UpdateClassAddFields", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "GameScore", "score", "Number")
		c, err := s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{AddFields: map[string]storage.Field{
			"name":  {Type: "String", Required: true},
			"owner": {Type: "Pointer", TargetClass: "_User"},
		}})
		if err != nil {
			t.Fatalf("UpdateClass AddFields: %v", err)
		}
		wantFieldDef(t, "returned", c.Fields, "name", storage.Field{Type: "String", Required: true})
		wantFieldDef(t, "returned", c.Fields, "owner", storage.Field{Type: "Pointer", TargetClass: "_User"})
		wantFieldDef(t, "returned", c.Fields, "score", storage.Field{Type: "Number"})
		_, err = s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{AddFields: fields("score", "String")})
		wantErr(t, "UpdateClass adding an existing field", err, storage.ErrFieldExists)
		_, err = s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{AddFields: fields("score", "Number")})
		wantErr(t, "UpdateClass adding an existing field with the same type", err, storage.ErrFieldExists)
		got := loadClass(t, ctx, s, "GameScore")
		wantFieldDef(t, "loaded", got.Fields, "score", storage.Field{Type: "Number"})
		wantFieldDef(t, "loaded", got.Fields, "name", storage.Field{Type: "String", Required: true})
	})

	t.Run("UpdateClassChangeFields", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "GameScore", "score", "Number", "name", "String")
		mustInsert(t, ctx, s, "GameScore", obj("g1", `{"score":1,"name":"a"}`))
		c, err := s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{ChangeFields: map[string]storage.Field{
			"score": {Type: "Number", Required: true, DefaultValue: raw(`0`)},
			"fans":  {Type: "Relation", TargetClass: "_User"},
		}})
		if err != nil {
			t.Fatalf("UpdateClass ChangeFields: %v", err)
		}
		wantFieldDef(t, "returned", c.Fields, "score", storage.Field{Type: "Number", Required: true, DefaultValue: raw(`0`)})
		wantFieldDef(t, "returned", c.Fields, "fans", storage.Field{Type: "Relation", TargetClass: "_User"})
		wantFieldDef(t, "returned", c.Fields, "name", storage.Field{Type: "String"})
		got := loadClass(t, ctx, s, "GameScore")
		wantFieldDef(t, "loaded", got.Fields, "score", storage.Field{Type: "Number", Required: true, DefaultValue: raw(`0`)})
		wantData(t, "values kept", mustGet(t, ctx, s, "GameScore", "g1").Data, `{"score":1,"name":"a"}`)
		// A field added through ChangeFields is a field like any other:
		// the Relation's join table exists.
		if err := s.AddRelation(ctx, storage.Relation{OwningClass: "GameScore", Field: "fans", OwningID: "g1"}, "u1"); err != nil {
			t.Fatalf("AddRelation on a field added by ChangeFields: %v", err)
		}

		_, err = s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{ChangeFields: fields("name", "Number")})
		wantErr(t, "ChangeFields changing a type", err, storage.ErrFieldExists)
		wantFieldDef(t, "after ErrFieldExists", loadClass(t, ctx, s, "GameScore").Fields, "name", storage.Field{Type: "String"})
	})

	t.Run("UpdateClassDeleteFields", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "GameScore", "score", "Number", "name", "String", "meta", "Object")
		mustInsert(t, ctx, s, "GameScore",
			obj("g1", `{"score":1,"name":"a","meta":{"score":5}}`),
			obj("g2", `{"name":"b"}`),
			obj("g3", `{"score":3,"meta":{"k":null}}`))
		c, err := s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{DeleteFields: []string{"score", "meta"}})
		if err != nil {
			t.Fatalf("UpdateClass DeleteFields: %v", err)
		}
		for _, f := range []string{"score", "meta"} {
			if _, ok := c.Fields[f]; ok {
				t.Errorf("returned class still has deleted field %s", f)
			}
		}
		wantFieldDef(t, "kept field", c.Fields, "name", storage.Field{Type: "String"})
		got := loadClass(t, ctx, s, "GameScore")
		if _, ok := got.Fields["score"]; ok {
			t.Errorf("loaded class still has deleted field score")
		}
		wantData(t, "g1", mustGet(t, ctx, s, "GameScore", "g1").Data, `{"name":"a"}`)
		wantData(t, "g2", mustGet(t, ctx, s, "GameScore", "g2").Data, `{"name":"b"}`)
		wantData(t, "g3", mustGet(t, ctx, s, "GameScore", "g3").Data, `{}`)
		wantIDSet(t, "Exists score after deleting it",
			mustFind(t, ctx, s, "GameScore", storage.Query{Where: storage.Exists{Field: "score", Exists: true}}))

		// The field can be added again, with another type, and starts empty.
		if _, err := s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{AddFields: fields("score", "String")}); err != nil {
			t.Fatalf("UpdateClass re-adding a deleted field: %v", err)
		}
		wantFieldDef(t, "re-added", loadClass(t, ctx, s, "GameScore").Fields, "score", storage.Field{Type: "String"})
		wantData(t, "g1 after re-adding", mustGet(t, ctx, s, "GameScore", "g1").Data, `{"name":"a"}`)
	})

	t.Run("UpdateClassIndexes", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "GameScore", "score", "Number", "name", "String")
		c, err := s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{AddIndexes: map[string]map[string]any{
			"score_1":    {"score": 1.0},
			"name_score": {"name": 1.0, "score": -1.0},
		}})
		if err != nil {
			t.Fatalf("UpdateClass AddIndexes: %v", err)
		}
		wantIndex(t, "returned", c.Indexes, "score_1", `{"score":1}`)
		wantIndex(t, "returned", c.Indexes, "name_score", `{"name":1,"score":-1}`)
		got := loadClass(t, ctx, s, "GameScore")
		wantIndex(t, "loaded", got.Indexes, "score_1", `{"score":1}`)
		wantIndex(t, "loaded", got.Indexes, "name_score", `{"name":1,"score":-1}`)

		_, err = s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{AddIndexes: map[string]map[string]any{"score_1": {"name": 1.0}}})
		wantErr(t, "AddIndexes with a taken name", err, storage.ErrIndexNameExists)
		wantIndex(t, "after ErrIndexNameExists", loadClass(t, ctx, s, "GameScore").Indexes, "score_1", `{"score":1}`)

		c, err = s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{DropIndexes: []string{"score_1"}})
		if err != nil {
			t.Fatalf("UpdateClass DropIndexes: %v", err)
		}
		if _, ok := c.Indexes["score_1"]; ok {
			t.Errorf("returned class still has dropped index score_1: %v", c.Indexes)
		}
		wantIndex(t, "returned after drop", c.Indexes, "name_score", `{"name":1,"score":-1}`)
		got = loadClass(t, ctx, s, "GameScore")
		if _, ok := got.Indexes["score_1"]; ok {
			t.Errorf("loaded class still has dropped index score_1: %v", got.Indexes)
		}
		wantIndex(t, "loaded after drop", got.Indexes, "name_score", `{"name":1,"score":-1}`)

		// The name is free again.
		if _, err := s.UpdateClass(ctx, "GameScore", storage.ClassUpdate{AddIndexes: map[string]map[string]any{"score_1": {"score": -1.0}}}); err != nil {
			t.Fatalf("re-adding a dropped index name: %v", err)
		}
		wantIndex(t, "re-added", loadClass(t, ctx, s, "GameScore").Indexes, "score_1", `{"score":-1}`)
	})

	t.Run("IndexedFieldLifecycle", func(t *testing.T) {
		// Queries on a Number field answer alike while its index comes and
		// goes, and after the field is deleted and added back as a String.
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "GameScore", "score", "Number")
		mustInsert(t, ctx, s, "GameScore", obj("g1", `{"score":1}`), obj("g2", `{"score":5}`), obj("g3", `{"score":9}`), obj("g4", `{}`))
		q := storage.Query{Where: storage.And{gte("score", 2.0), lt("score", 10.0)}, Order: []storage.Sort{desc("score")}}
		check := func(what string, want ...string) {
			t.Helper()
			wantIDs(t, what, mustFind(t, ctx, s, "GameScore", q), want...)
			if n := mustCount(t, ctx, s, "GameScore", q); n != int64(len(want)) {
				t.Errorf("%s: Count = %d, want %d", what, n, len(want))
			}
		}
		update := func(what string, u storage.ClassUpdate) {
			t.Helper()
			if _, err := s.UpdateClass(ctx, "GameScore", u); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		check("no index", "g3", "g2")
		update("add index", storage.ClassUpdate{AddIndexes: map[string]map[string]any{"score_1": {"score": 1.0}, "score_desc": {"score": -1.0}}})
		check("two indexes", "g3", "g2")
		update("drop one index", storage.ClassUpdate{DropIndexes: []string{"score_1"}})
		check("one index left", "g3", "g2")
		update("drop the other", storage.ClassUpdate{DropIndexes: []string{"score_desc"}})
		check("indexes dropped", "g3", "g2")
		update("re-add index", storage.ClassUpdate{AddIndexes: map[string]map[string]any{"score_1": {"score": 1.0}}})
		check("index re-added", "g3", "g2")
		update("delete field", storage.ClassUpdate{DeleteFields: []string{"score"}})
		check("field deleted")
		update("add as String", storage.ClassUpdate{AddFields: fields("score", "String"), AddIndexes: map[string]map[string]any{"score_1": {"score": 1.0}}})
		mustInsert(t, ctx, s, "GameScore", obj("g5", `{"score":"b"}`), obj("g6", `{"score":7}`))
		check("a String field holding a number", "g6")
		q.Where = storage.And{gte("score", "a"), lt("score", "c")}
		check("a String field", "g5")
	})

	t.Run("UpdateClassNotFound", func(t *testing.T) {
		ctx, s := o.fresh(t)
		_, err := s.UpdateClass(ctx, "Nope", storage.ClassUpdate{CLP: raw(`{"find":{}}`)})
		wantErr(t, "UpdateClass CLP of an unknown class", err, storage.ErrClassNotFound)
		_, err = s.UpdateClass(ctx, "Nope", storage.ClassUpdate{AddFields: fields("a", "String")})
		wantErr(t, "UpdateClass AddFields of an unknown class", err, storage.ErrClassNotFound)
		if _, ok := findClass(mustLoad(t, ctx, s), "Nope"); ok {
			t.Errorf("UpdateClass of an unknown class created it")
		}
	})

	t.Run("DeleteClass", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "GameScore", "score", "Number")
		mustInsert(t, ctx, s, "GameScore", obj("g1", `{"score":1}`), obj("g2", `{"score":2}`))

		err := s.DeleteClass(ctx, "GameScore", false)
		wantErr(t, "DeleteClass of a class with objects", err, storage.ErrClassNotEmpty)
		loadClass(t, ctx, s, "GameScore")
		wantIDSet(t, "objects after ErrClassNotEmpty", mustFind(t, ctx, s, "GameScore", storage.Query{}), "g1", "g2")

		if err := s.DeleteClass(ctx, "GameScore", true); err != nil {
			t.Fatalf("DeleteClass force: %v", err)
		}
		if _, ok := findClass(mustLoad(t, ctx, s), "GameScore"); ok {
			t.Errorf("deleted class still loads")
		}
		wantIDSet(t, "Find in a deleted class", mustFind(t, ctx, s, "GameScore", storage.Query{}))
		if n := mustCount(t, ctx, s, "GameScore", storage.Query{}); n != 0 {
			t.Errorf("Count in a deleted class = %d, want 0", n)
		}
		_, err = s.Get(ctx, "GameScore", "g1", nil)
		wantErr(t, "Get in a deleted class", err, storage.ErrNotFound)

		wantErr(t, "second DeleteClass", s.DeleteClass(ctx, "GameScore", true), storage.ErrClassNotFound)

		// Re-created, the class starts empty with only its new fields.
		mustClass(t, ctx, s, "GameScore", "name", "String")
		got := loadClass(t, ctx, s, "GameScore")
		if _, ok := got.Fields["score"]; ok {
			t.Errorf("re-created class has the deleted class's field score")
		}
		wantIDSet(t, "Find in the re-created class", mustFind(t, ctx, s, "GameScore", storage.Query{}))
		_, err = s.Get(ctx, "GameScore", "g1", nil)
		wantErr(t, "Get of an old object in the re-created class", err, storage.ErrNotFound)
	})

	t.Run("DeleteClassEmpty", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Empty", "a", "String")
		if err := s.DeleteClass(ctx, "Empty", false); err != nil {
			t.Fatalf("DeleteClass of an empty class: %v", err)
		}
		if _, ok := findClass(mustLoad(t, ctx, s), "Empty"); ok {
			t.Errorf("deleted class still loads")
		}
		// Emptied by deleting its objects first.
		mustClass(t, ctx, s, "Emptied", "a", "String")
		mustInsert(t, ctx, s, "Emptied", obj("e1", `{"a":"x"}`))
		if err := s.Delete(ctx, "Emptied", "e1", nil, nil); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if err := s.DeleteClass(ctx, "Emptied", false); err != nil {
			t.Fatalf("DeleteClass of a class whose objects were deleted: %v", err)
		}
	})

	t.Run("DeleteClassNotFound", func(t *testing.T) {
		ctx, s := o.fresh(t)
		wantErr(t, "DeleteClass of an unknown class", s.DeleteClass(ctx, "Nope", false), storage.ErrClassNotFound)
		wantErr(t, "DeleteClass force of an unknown class", s.DeleteClass(ctx, "Nope", true), storage.ErrClassNotFound)
	})
}

// concurrentAddFields races 20 AddFields giving field "f" two types and
// checks that one type won for everyone.
func concurrentAddFields(t *testing.T, ctx context.Context, s storage.Store, class string) {
	t.Helper()
	const n = 20
	types := []string{"String", "Number"}
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]storage.Class, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = s.AddFields(ctx, class, map[string]storage.Field{
				"f":                   {Type: types[i%2]},
				fmt.Sprintf("g%d", i): {Type: "Boolean"},
			})
		})
	}
	close(start)
	wg.Wait()
	winner := ""
	for i := range n {
		if errs[i] != nil {
			t.Errorf("AddFields #%d: %v", i, errs[i])
			continue
		}
		f, ok := results[i].Fields["f"]
		if !ok {
			t.Errorf("AddFields #%d returned a class without field f", i)
			continue
		}
		if winner == "" {
			winner = f.Type
		}
		if f.Type != winner {
			t.Errorf("AddFields #%d sees f as %s, another caller sees %s", i, f.Type, winner)
		}
		if _, ok := results[i].Fields[fmt.Sprintf("g%d", i)]; !ok {
			t.Errorf("AddFields #%d returned a class without its own field g%d", i, i)
		}
	}
	if !slices.Contains(types, winner) {
		t.Fatalf("winning type %q is none of %q", winner, types)
	}
	c := loadClass(t, ctx, s, class)
	wantFieldDef(t, "loaded after the race", c.Fields, "f", storage.Field{Type: winner})
	for i := range n {
		wantFieldDef(t, "loaded after the race", c.Fields, fmt.Sprintf("g%d", i), storage.Field{Type: "Boolean"})
	}
	count := 0
	for _, c := range mustLoad(t, ctx, s) {
		if c.Name == class {
			count++
		}
	}
	if count != 1 {
		t.Errorf("LoadSchema lists class %s %d times", class, count)
	}
}

func mustLoad(t *testing.T, ctx context.Context, s storage.Store) []storage.Class {
	t.Helper()
	classes, err := s.LoadSchema(ctx)
	if err != nil {
		t.Fatalf("LoadSchema: %v", err)
	}
	return classes
}

func findClass(classes []storage.Class, name string) (storage.Class, bool) {
	for _, c := range classes {
		if c.Name == name {
			return c, true
		}
	}
	return storage.Class{}, false
}

// wantClass returns the named class of classes, failing when it is absent.
func wantClass(t *testing.T, classes []storage.Class, name string) storage.Class {
	t.Helper()
	c, ok := findClass(classes, name)
	if !ok {
		names := make([]string, len(classes))
		for i, c := range classes {
			names[i] = c.Name
		}
		t.Fatalf("class %s not in LoadSchema's %q", name, names)
	}
	return c
}

// loadClass returns the named class as LoadSchema shows it.
func loadClass(t *testing.T, ctx context.Context, s storage.Store, name string) storage.Class {
	t.Helper()
	return wantClass(t, mustLoad(t, ctx, s), name)
}

// wantFieldDef checks one field's definition.
func wantFieldDef(t *testing.T, what string, got map[string]storage.Field, name string, want storage.Field) {
	t.Helper()
	f, ok := got[name]
	if !ok {
		t.Errorf("%s: field %s missing", what, name)
		return
	}
	if f.Type != want.Type || f.TargetClass != want.TargetClass || f.Required != want.Required {
		t.Errorf("%s: field %s is %+v, want %+v", what, name, f, want)
		return
	}
	if len(want.DefaultValue) == 0 {
		if len(f.DefaultValue) != 0 && string(f.DefaultValue) != "null" {
			t.Errorf("%s: field %s has defaultValue %s, want none", what, name, f.DefaultValue)
		}
		return
	}
	wantData(t, fmt.Sprintf("%s: field %s defaultValue", what, name), f.DefaultValue, string(want.DefaultValue))
}

func wantFields(t *testing.T, what string, got, want map[string]storage.Field) {
	t.Helper()
	for name, f := range want {
		wantFieldDef(t, what, got, name, f)
	}
}

// wantIndex checks that the index name has the keys wantKeys (a JSON object).
func wantIndex(t *testing.T, what string, got map[string]map[string]any, name, wantKeys string) {
	t.Helper()
	keys, ok := got[name]
	if !ok {
		t.Errorf("%s: index %s missing from %v", what, name, got)
		return
	}
	wantData(t, fmt.Sprintf("%s: index %s", what, name), json.RawMessage(mustJSON(keys)), wantKeys)
}
