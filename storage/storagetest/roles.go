package storagetest

import (
	"slices"
	"testing"

	"github.com/parsego/parse/storage"
)

// testRoles holds a storage.RoleResolver to the role hierarchy's rules:
// direct and inherited membership to any depth, cycles, roles without a
// name, and a store where no role was ever saved. Stores without the
// interface skip it: the App walks the hierarchy with Find instead.
func testRoles(t *testing.T, o opener) {
	t.Run("NoRoles", func(t *testing.T) {
		ctx, s := o.fresh(t)
		r, ok := s.(storage.RoleResolver)
		if !ok {
			t.Skip("the store resolves no roles")
		}
		got, err := r.UserRoles(ctx, "u1")
		if err != nil || len(got) != 0 {
			t.Fatalf("UserRoles on a store without roles: %q, %v", got, err)
		}
	})
	t.Run("Hierarchy", func(t *testing.T) {
		ctx, s := o.fresh(t)
		r, ok := s.(storage.RoleResolver)
		if !ok {
			t.Skip("the store resolves no roles")
		}
		mustClass(t, ctx, s, "_User", "username", "String")
		mustClass(t, ctx, s, "_Role", "name", "String", "users", "Relation:_User", "roles", "Relation:_Role")
		// admins ⊂ staff ⊂ all (a child's members belong to the parent);
		// loopA and loopB hold each other; unnamed has no name.
		mustInsert(t, ctx, s, "_Role",
			obj("all", `{"name":"Everyone"}`), obj("staff", `{"name":"Staff"}`), obj("admins", `{"name":"Admins"}`),
			obj("loopA", `{"name":"LoopA"}`), obj("loopB", `{"name":"LoopB"}`), obj("unnamed", `{}`))
		role := func(id, field string) storage.Relation {
			return storage.Relation{OwningClass: "_Role", Field: field, OwningID: id}
		}
		mustAddRelation(t, ctx, s, role("all", "roles"), "staff")
		mustAddRelation(t, ctx, s, role("staff", "roles"), "admins")
		mustAddRelation(t, ctx, s, role("admins", "users"), "u1")
		mustAddRelation(t, ctx, s, role("staff", "users"), "u2")
		mustAddRelation(t, ctx, s, role("loopA", "users"), "u3")
		mustAddRelation(t, ctx, s, role("loopA", "roles"), "loopB")
		mustAddRelation(t, ctx, s, role("loopB", "roles"), "loopA")
		mustAddRelation(t, ctx, s, role("unnamed", "users"), "u3")
		for _, tc := range []struct {
			user string
			want []string
		}{
			{"u1", []string{"Admins", "Everyone", "Staff"}},
			{"u2", []string{"Everyone", "Staff"}},
			{"u3", []string{"LoopA", "LoopB"}},
			{"nobody", nil},
		} {
			got, err := r.UserRoles(ctx, tc.user)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("UserRoles(%s) = %q, %v; want %q", tc.user, got, err, tc.want)
			}
		}
		mustRemoveRelation(t, ctx, s, role("staff", "roles"), "admins")
		if got, err := r.UserRoles(ctx, "u1"); err != nil || !slices.Equal(got, []string{"Admins"}) {
			t.Errorf("after unlinking admins from staff: %q, %v", got, err)
		}
	})
}
