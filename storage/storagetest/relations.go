package storagetest

import (
	"context"
	"testing"

	"github.com/parsego/parse/storage"
)

// relStore opens a store with class Team (relation fields members, fans and
// subs to Player, declared by CreateClass, AddFields and UpdateClass), teams
// t1 and t2, and players p1 to p4.
func relStore(t *testing.T, o opener) (context.Context, storage.Store) {
	t.Helper()
	ctx, s := o.fresh(t)
	mustClass(t, ctx, s, "Player", "name", "String", "num", "Number")
	mustClass(t, ctx, s, "Team", "name", "String", "members", "Relation:Player")
	if _, err := s.AddFields(ctx, "Team", fields("fans", "Relation:Player")); err != nil {
		t.Fatalf("AddFields relation: %v", err)
	}
	if _, err := s.UpdateClass(ctx, "Team", storage.ClassUpdate{AddFields: fields("subs", "Relation:Player")}); err != nil {
		t.Fatalf("UpdateClass AddFields relation: %v", err)
	}
	mustInsert(t, ctx, s, "Team", obj("t1", `{"name":"one"}`), obj("t2", `{"name":"two"}`))
	mustInsert(t, ctx, s, "Player",
		obj("p1", `{"name":"a","num":1}`),
		withPerms(obj("p2", `{"name":"b","num":2}`), perms("u1"), nil),
		obj("p3", `{"name":"c","num":3}`),
		obj("p4", `{"name":"d","num":4}`))
	return ctx, s
}

func rel(owner, field string) storage.Relation {
	return storage.Relation{OwningClass: "Team", Field: field, OwningID: owner}
}

func related(owner, field string) storage.RelatedTo {
	return storage.RelatedTo{Relation: rel(owner, field)}
}

func mustAddRelation(t *testing.T, ctx context.Context, s storage.Store, r storage.Relation, ids ...string) {
	t.Helper()
	if err := s.AddRelation(ctx, r, ids...); err != nil {
		t.Fatalf("AddRelation(%+v, %q): %v", r, ids, err)
	}
}

func mustRemoveRelation(t *testing.T, ctx context.Context, s storage.Store, r storage.Relation, ids ...string) {
	t.Helper()
	if err := s.RemoveRelation(ctx, r, ids...); err != nil {
		t.Fatalf("RemoveRelation(%+v, %q): %v", r, ids, err)
	}
}

// wantRelated checks the players related to owner's field, with Find and
// Count.
func wantRelated(t *testing.T, ctx context.Context, s storage.Store, owner, field string, want ...string) {
	t.Helper()
	checkCond(t, ctx, s, "Player", condCase{name: owner + "." + field, where: related(owner, field), want: want})
}

func testRelations(t *testing.T, o opener) {
	t.Run("AddIdempotent", func(t *testing.T) {
		ctx, s := relStore(t, o)
		wantRelated(t, ctx, s, "t1", "members")
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p1", "p2")
		wantRelated(t, ctx, s, "t1", "members", "p1", "p2")
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p2", "p1", "p2")
		wantRelated(t, ctx, s, "t1", "members", "p1", "p2")
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p3", "p3")
		wantRelated(t, ctx, s, "t1", "members", "p1", "p2", "p3")
		mustAddRelation(t, ctx, s, rel("t1", "members"))
		wantRelated(t, ctx, s, "t1", "members", "p1", "p2", "p3")
	})

	t.Run("Remove", func(t *testing.T) {
		ctx, s := relStore(t, o)
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p1", "p2", "p3")
		mustRemoveRelation(t, ctx, s, rel("t1", "members"), "p2", "p9")
		wantRelated(t, ctx, s, "t1", "members", "p1", "p3")
		mustRemoveRelation(t, ctx, s, rel("t1", "members"), "p2")
		wantRelated(t, ctx, s, "t1", "members", "p1", "p3")
		mustRemoveRelation(t, ctx, s, rel("t2", "members"), "p1")
		wantRelated(t, ctx, s, "t1", "members", "p1", "p3")
		mustRemoveRelation(t, ctx, s, rel("t1", "members"), "p3", "p1")
		wantRelated(t, ctx, s, "t1", "members")
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p1")
		wantRelated(t, ctx, s, "t1", "members", "p1")
	})

	t.Run("Separate", func(t *testing.T) {
		ctx, s := relStore(t, o)
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p1")
		mustAddRelation(t, ctx, s, rel("t2", "members"), "p2", "p1")
		mustAddRelation(t, ctx, s, rel("t1", "fans"), "p3")
		mustAddRelation(t, ctx, s, rel("t1", "subs"), "p2", "p4")
		wantRelated(t, ctx, s, "t1", "members", "p1")
		wantRelated(t, ctx, s, "t2", "members", "p1", "p2")
		wantRelated(t, ctx, s, "t1", "fans", "p3")
		wantRelated(t, ctx, s, "t2", "fans")
		wantRelated(t, ctx, s, "t1", "subs", "p2", "p4")
		mustRemoveRelation(t, ctx, s, rel("t2", "members"), "p1")
		wantRelated(t, ctx, s, "t1", "members", "p1")
		wantRelated(t, ctx, s, "t2", "members", "p2")
	})

	t.Run("UnknownOwner", func(t *testing.T) {
		ctx, s := relStore(t, o)
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p1")
		wantRelated(t, ctx, s, "t9", "members")
		wantRelated(t, ctx, s, "t2", "members")
	})

	t.Run("Combined", func(t *testing.T) {
		ctx, s := relStore(t, o)
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p1", "p2", "p3")
		mustAddRelation(t, ctx, s, rel("t2", "members"), "p3", "p4")
		for _, c := range []condCase{
			{"AndCmp", storage.And{related("t1", "members"), gt("num", 1.0)}, []string{"p2", "p3"}},
			{"Or", storage.Or{related("t1", "members"), related("t2", "members")}, []string{"p1", "p2", "p3", "p4"}},
			{"AndBoth", storage.And{related("t1", "members"), related("t2", "members")}, []string{"p3"}},
			{"Nor", storage.Nor{related("t1", "members")}, []string{"p4"}},
			{"In", storage.And{related("t1", "members"), in("objectId", "p1", "p4")}, []string{"p1"}},
		} {
			checkCond(t, ctx, s, "Player", c)
		}
		q := storage.Query{Where: related("t1", "members"), ReadPerm: perms("*")}
		wantIDSet(t, "RelatedTo with ReadPerm", mustFind(t, ctx, s, "Player", q), "p1", "p3")
		q.ReadPerm = perms("*", "u1")
		wantIDSet(t, "RelatedTo with ReadPerm u1", mustFind(t, ctx, s, "Player", q), "p1", "p2", "p3")
		q.Order, q.Limit = []storage.Sort{desc("num")}, 2
		wantIDs(t, "RelatedTo ordered and limited", mustFind(t, ctx, s, "Player", q), "p3", "p2")
	})

	t.Run("DeleteOwner", func(t *testing.T) {
		ctx, s := relStore(t, o)
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p1", "p2")
		mustAddRelation(t, ctx, s, rel("t1", "fans"), "p3")
		mustAddRelation(t, ctx, s, rel("t2", "members"), "p1")
		if err := s.Delete(ctx, "Team", "t1", nil, nil); err != nil {
			t.Fatalf("Delete t1: %v", err)
		}
		wantRelated(t, ctx, s, "t1", "members")
		wantRelated(t, ctx, s, "t1", "fans")
		wantRelated(t, ctx, s, "t2", "members", "p1")
		wantIDSet(t, "players", mustFind(t, ctx, s, "Player", storage.Query{}), "p1", "p2", "p3", "p4")
		// An owner re-created with the same ID starts without links.
		mustInsert(t, ctx, s, "Team", obj("t1", `{"name":"again"}`))
		wantRelated(t, ctx, s, "t1", "members")
	})

	t.Run("DeleteRelated", func(t *testing.T) {
		ctx, s := relStore(t, o)
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p1", "p2")
		if err := s.Delete(ctx, "Player", "p1", nil, nil); err != nil {
			t.Fatalf("Delete p1: %v", err)
		}
		wantRelated(t, ctx, s, "t1", "members", "p2")
	})

	t.Run("DeleteField", func(t *testing.T) {
		// Deleting a relation field removes its links (its values).
		ctx, s := relStore(t, o)
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p1", "p2")
		mustAddRelation(t, ctx, s, rel("t1", "fans"), "p3")
		if _, err := s.UpdateClass(ctx, "Team", storage.ClassUpdate{DeleteFields: []string{"members"}}); err != nil {
			t.Fatalf("UpdateClass DeleteFields members: %v", err)
		}
		wantRelated(t, ctx, s, "t1", "fans", "p3")
		if _, err := s.UpdateClass(ctx, "Team", storage.ClassUpdate{AddFields: fields("members", "Relation:Player")}); err != nil {
			t.Fatalf("UpdateClass re-adding members: %v", err)
		}
		wantRelated(t, ctx, s, "t1", "members")
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p4")
		wantRelated(t, ctx, s, "t1", "members", "p4")
	})

	t.Run("DeleteClass", func(t *testing.T) {
		ctx, s := relStore(t, o)
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p1", "p2")
		if err := s.DeleteClass(ctx, "Team", true); err != nil {
			t.Fatalf("DeleteClass Team: %v", err)
		}
		mustClass(t, ctx, s, "Team", "members", "Relation:Player")
		mustInsert(t, ctx, s, "Team", obj("t1", `{}`))
		wantRelated(t, ctx, s, "t1", "members")
		mustAddRelation(t, ctx, s, rel("t1", "members"), "p3")
		wantRelated(t, ctx, s, "t1", "members", "p3")
	})
}
