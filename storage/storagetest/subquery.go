package storagetest

import (
	"testing"

	"github.com/parsego/parse/storage"
)

func sqPtr(class, id string) string {
	return `{"__type":"Pointer","className":"` + class + `","objectId":"` + id + `"}`
}

// testSubqueries covers the relational conditions: InQuery, Select,
// ContainedBy and RelationHas.
func testSubqueries(t *testing.T, o opener) {
	t.Run("InQuery", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Post", "title", "String", "image", "String")
		mustClass(t, ctx, s, "Comment", "post", "Pointer:Post", "posts", "Array", "parent", "Pointer:Comment")
		mustInsert(t, ctx, s, "Post",
			obj("p1", `{"title":"a","image":"x.png"}`),
			obj("p2", `{"title":"b"}`),
			withPerms(obj("p3", `{"title":"c","image":"y.png"}`), perms("u1"), nil))
		mustInsert(t, ctx, s, "Comment",
			obj("c1", `{"post":`+sqPtr("Post", "p1")+`}`),
			obj("c2", `{"post":`+sqPtr("Post", "p2")+`}`),
			obj("c3", `{}`),
			obj("c4", `{"post":`+sqPtr("Post", "p3")+`}`),
			obj("c5", `{"posts":[`+sqPtr("Post", "p2")+`,`+sqPtr("Post", "p1")+`]}`),
			obj("c6", `{"post":`+sqPtr("Other", "p1")+`}`),
			obj("c7", `{"post":"p1","posts":["p1",1]}`),
			obj("c8", `{"parent":`+sqPtr("Comment", "c1")+`}`),
			obj("c9", `{"parent":`+sqPtr("Comment", "c2")+`}`))
		hasImage := storage.Exists{Field: "image", Exists: true}
		all := []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"}
		runCondCases(t, s, "Comment", []condCase{
			{"Pointer", storage.InQuery{Field: "post", Class: "Post", Where: hasImage}, []string{"c1", "c4"}},
			{"PointerNotArray", storage.InQuery{Field: "post", Class: "Post", Where: hasImage, NotArray: true}, []string{"c1", "c4"}},
			{"NotNotArray", storage.InQuery{Field: "post", Class: "Post", Where: hasImage, ReadPerm: []string{"*"}, Not: true, NotArray: true},
				[]string{"c2", "c4", "c6", "c7"}},
			{"PointerACL", storage.InQuery{Field: "post", Class: "Post", Where: hasImage, ReadPerm: []string{"*"}}, []string{"c1"}},
			{"PointerACLUser", storage.InQuery{Field: "post", Class: "Post", Where: hasImage, ReadPerm: []string{"*", "u1"}}, []string{"c1", "c4"}},
			{"NoWhere", storage.InQuery{Field: "post", Class: "Post"}, []string{"c1", "c2", "c4"}},
			{"ArrayOfPointers", storage.InQuery{Field: "posts", Class: "Post", Where: hasImage}, []string{"c5"}},
			{"Not", storage.InQuery{Field: "post", Class: "Post", Where: hasImage, ReadPerm: []string{"*"}, Not: true},
				[]string{"c2", "c4", "c6", "c7"}},
			{"NotNothingMatches", storage.InQuery{Field: "post", Class: "Post", Where: storage.Cmp{Field: "title", Op: storage.Eq, Value: "zzz"}, Not: true}, all},
			{"MissingClass", storage.InQuery{Field: "post", Class: "Nope"}, nil},
			{"MissingClassNot", storage.InQuery{Field: "post", Class: "Nope", Not: true}, all},
			{"SameClassNested", storage.InQuery{Field: "parent", Class: "Comment",
				Where: storage.InQuery{Field: "post", Class: "Post", Where: hasImage}}, []string{"c8"}},
			{"InOr", storage.Or{storage.InQuery{Field: "post", Class: "Post", Where: hasImage}, storage.Cmp{Field: "objectId", Op: storage.Eq, Value: "c3"}},
				[]string{"c1", "c3", "c4"}},
			{"InNor", storage.Nor{storage.InQuery{Field: "post", Class: "Post"}}, []string{"c3", "c5", "c6", "c7", "c8", "c9"}},
		})
	})

	t.Run("Select", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Team", "city", "String", "winPct", "Number", "fanId", "String")
		mustClass(t, ctx, s, "Fan", "hometown", "String", "teamId", "String")
		mustInsert(t, ctx, s, "Team",
			obj("t1", `{"city":"Paris","winPct":0.6,"fanId":"f2"}`),
			obj("t2", `{"city":"Rome","winPct":0.4}`),
			withPerms(obj("t3", `{"city":"Oslo","winPct":0.7}`), perms("u1"), nil),
			obj("t4", `{"winPct":0.9,"city":null}`),
			obj("t5", `{"city":["Lima","Quito"],"winPct":0.8}`))
		mustInsert(t, ctx, s, "Fan",
			obj("f1", `{"hometown":"Paris"}`),
			obj("f2", `{"hometown":"Rome","teamId":"t1"}`),
			obj("f3", `{"hometown":["Oslo","Bergen"]}`),
			obj("f4", `{}`),
			obj("f5", `{"hometown":["Lima","Quito"]}`),
			obj("f6", `{"hometown":"Lima"}`))
		good := storage.Cmp{Field: "winPct", Op: storage.Gt, Value: 0.5}
		runCondCases(t, s, "Fan", []condCase{
			{"Select", storage.Select{Field: "hometown", Class: "Team", Where: good, Key: "city"}, []string{"f1", "f3", "f5"}},
			{"SelectNotArray", storage.Select{Field: "hometown", Class: "Team", Where: good, Key: "city", NotArray: true}, []string{"f1", "f5"}},
			{"SelectACL", storage.Select{Field: "hometown", Class: "Team", Where: good, Key: "city", ReadPerm: []string{"*"}}, []string{"f1", "f5"}},
			{"DontSelect", storage.Select{Field: "hometown", Class: "Team", Where: good, Key: "city", ReadPerm: []string{"*"}, Not: true},
				[]string{"f2", "f3", "f6"}},
			{"DontSelectNoValues", storage.Select{Field: "hometown", Class: "Team", Where: storage.Cmp{Field: "winPct", Op: storage.Gt, Value: 5.0}, Key: "city", Not: true},
				[]string{"f1", "f2", "f3", "f4", "f5", "f6"}},
			{"KeyObjectId", storage.Select{Field: "teamId", Class: "Team", Key: "objectId"}, []string{"f2"}},
			{"FieldObjectId", storage.Select{Field: "objectId", Class: "Team", Key: "fanId"}, []string{"f2"}},
			{"MissingClass", storage.Select{Field: "hometown", Class: "Nope", Key: "city"}, nil},
			{"MissingClassNot", storage.Select{Field: "hometown", Class: "Nope", Key: "city", Not: true}, []string{"f1", "f2", "f3", "f4", "f5", "f6"}},
		})
	})

	t.Run("ContainedBy", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Bag", "tags", "Array")
		mustInsert(t, ctx, s, "Bag",
			obj("a1", `{"tags":["a","b"]}`),
			obj("a2", `{"tags":["a"]}`),
			obj("a3", `{"tags":["a","c"]}`),
			obj("a4", `{"tags":[]}`),
			obj("a5", `{}`),
			obj("a6", `{"tags":[1,`+sqPtr("X", "x1")+`]}`))
		runCondCases(t, s, "Bag", []condCase{
			{"Strings", storage.ContainedBy{Field: "tags", Values: []any{"a", "b"}}, []string{"a1", "a2", "a4", "a5"}},
			{"Structured", storage.ContainedBy{Field: "tags", Values: []any{1.0, raw(sqPtr("X", "x1"))}}, []string{"a4", "a5", "a6"}},
			{"Empty", storage.ContainedBy{Field: "tags"}, []string{"a4", "a5"}},
		})
	})

	t.Run("RelationHas", func(t *testing.T) {
		ctx, s := relStore(t, o)
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p1", "p2")
		mustAddRelation(t, ctx, s, rel("t2", "members"), "p2", "p3")
		has := func(field string, not bool, ids ...string) storage.RelationHas {
			return storage.RelationHas{Relation: storage.Relation{OwningClass: "Team", Field: field}, RelatedIDs: ids, Not: not}
		}
		runCondCases(t, s, "Team", []condCase{
			{"One", has("members", false, "p1"), []string{"t1"}},
			{"Shared", has("members", false, "p2"), []string{"t1", "t2"}},
			{"Any", has("members", false, "p3", "p9"), []string{"t2"}},
			{"Not", has("members", true, "p1"), []string{"t2"}},
			{"Empty", has("members", false), nil},
			{"EmptyNot", has("members", true), []string{"t1", "t2"}},
			{"NoLinks", has("fans", false, "p1"), nil},
			{"MissingTable", has("nope", false, "p1"), nil},
			{"MissingTableNot", has("nope", true, "p1"), []string{"t1", "t2"}},
			{"WithOther", storage.And{has("members", false, "p2"), storage.Cmp{Field: "name", Op: storage.Eq, Value: "two"}}, []string{"t2"}},
			{"Related", storage.RelationHas{Relation: storage.Relation{OwningClass: "Team", Field: "members"},
				Related: &storage.InQuery{Class: "Player", Where: storage.Cmp{Field: "num", Op: storage.Gte, Value: 3.0}}}, []string{"t2"}},
			{"RelatedACL", storage.RelationHas{Relation: storage.Relation{OwningClass: "Team", Field: "members"},
				Related: &storage.InQuery{Class: "Player", Where: storage.Cmp{Field: "name", Op: storage.Eq, Value: "b"}, ReadPerm: []string{"*"}}}, nil},
			{"RelatedNot", storage.RelationHas{Relation: storage.Relation{OwningClass: "Team", Field: "members"}, Not: true,
				Related: &storage.InQuery{Class: "Player", Where: storage.Cmp{Field: "num", Op: storage.Lt, Value: 2.0}}}, []string{"t2"}},
			{"RelatedMissingClass", storage.RelationHas{Relation: storage.Relation{OwningClass: "Team", Field: "members"},
				Related: &storage.InQuery{Class: "Nope"}}, nil},
		})
		mustClass(t, ctx, s, "Card", "player", "Pointer:Player")
		mustInsert(t, ctx, s, "Card", obj("k1", `{"player":`+sqPtr("Player", "p1")+`}`), obj("k3", `{"player":`+sqPtr("Player", "p3")+`}`))
		runCondCases(t, s, "Card", []condCase{
			{"InQueryRelatedTo", storage.InQuery{Field: "player", Class: "Player", Where: related("t1", "members")}, []string{"k1"}},
			{"InQueryRelationHasMissing", storage.InQuery{Field: "player", Class: "Team", Where: has("nope", false, "p1")}, nil},
		})
	})
}
