package storagetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parsego/parse/storage"
)

func testACL(t *testing.T, o opener) {
	t.Run("ReadPerm", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		objs := []storage.Object{
			withPerms(obj("pub", `{"n":1}`), nil, perms()),
			withPerms(obj("star", `{"n":2}`), perms("*"), perms()),
			withPerms(obj("u1", `{"n":3}`), perms("u1"), nil),
			withPerms(obj("admin", `{"n":4}`), perms("role:Admin"), nil),
			withPerms(obj("none", `{"n":5}`), perms(), nil),
			withPerms(obj("multi", `{"n":6}`), perms("u2", "role:Mod"), perms("*")),
		}
		mustInsert(t, ctx, s, "Item", objs...)
		cases := []struct {
			caller []string
			want   []string
		}{
			{nil, []string{"pub", "star", "u1", "admin", "none", "multi"}},
			{perms("*"), []string{"pub", "star"}},
			{perms("*", "u1"), []string{"pub", "star", "u1"}},
			{perms("*", "u3", "role:Admin"), []string{"pub", "star", "admin"}},
			{perms("*", "u2"), []string{"pub", "star", "multi"}},
			{perms("*", "role:Mod"), []string{"pub", "star", "multi"}},
			{perms("*", "u1", "u2", "role:Admin", "role:Mod"), []string{"pub", "star", "u1", "admin", "multi"}},
			{perms("*", "U1", "Admin", "role:admin"), []string{"pub", "star"}},
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%q", c.caller), func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				for _, ob := range objs {
					got, err := s.Get(ctx, "Item", ob.ID, c.caller)
					if slices.Contains(c.want, ob.ID) {
						if err != nil {
							t.Errorf("Get(%s) with %q: %v", ob.ID, c.caller, err)
						} else {
							wantObject(t, "Get "+ob.ID, got, ob)
						}
					} else {
						wantErr(t, fmt.Sprintf("Get(%s) with %q", ob.ID, c.caller), err, storage.ErrNotFound)
					}
				}
				q := storage.Query{ReadPerm: c.caller}
				wantIDSet(t, fmt.Sprintf("Find with %q", c.caller), mustFind(t, ctx, s, "Item", q), c.want...)
				if n := mustCount(t, ctx, s, "Item", q); n != int64(len(c.want)) {
					t.Errorf("Count with %q = %d, want %d", c.caller, n, len(c.want))
				}
				// Combined with a condition.
				q.Where = gte("n", 3.0)
				var want []string
				for _, ob := range objs[2:] {
					if slices.Contains(c.want, ob.ID) {
						want = append(want, ob.ID)
					}
				}
				wantIDSet(t, fmt.Sprintf("Find n >= 3 with %q", c.caller), mustFind(t, ctx, s, "Item", q), want...)
			})
		}
	})

	t.Run("WritePerm", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		objs := []storage.Object{
			withPerms(obj("u1", `{"n":0}`), nil, perms("u1")),
			withPerms(obj("star", `{"n":0}`), perms(), perms("*")),
			withPerms(obj("pub", `{"n":0}`), perms("u9"), nil),
			withPerms(obj("master", `{"n":0}`), nil, perms()),
			withPerms(obj("admin", `{"n":0}`), nil, perms("role:Admin")),
			// Writable but not readable by u1.
			withPerms(obj("wo", `{"n":0}`), perms(), perms("u1")),
		}
		mustInsert(t, ctx, s, "Item", objs...)
		cases := []struct {
			caller []string
			want   []string
		}{
			{perms("*", "u2", "role:Guest"), []string{"star", "pub"}},
			{perms("*", "u1"), []string{"u1", "star", "pub", "wo"}},
			{perms("*", "role:Admin"), []string{"star", "pub", "admin"}},
			{perms("*", "U1", "Admin"), []string{"star", "pub"}},
			{nil, []string{"u1", "star", "pub", "master", "admin", "wo"}},
		}
		count := map[string]int{}
		for _, c := range cases {
			for _, ob := range objs {
				before := mustGet(t, ctx, s, "Item", ob.ID)
				u := update(opIncrement("n", "1"))
				u.WritePerm = c.caller
				got, err := s.Update(ctx, "Item", ob.ID, u)
				if !slices.Contains(c.want, ob.ID) {
					wantErr(t, fmt.Sprintf("Update(%s) with %q", ob.ID, c.caller), err, storage.ErrNotFound)
					wantUnchanged(t, ctx, s, "Item", before)
					continue
				}
				count[ob.ID]++
				if err != nil {
					t.Errorf("Update(%s) with %q: %v", ob.ID, c.caller, err)
					continue
				}
				wantData(t, fmt.Sprintf("Update(%s) with %q", ob.ID, c.caller), got.Data, fmt.Sprintf(`{"n":%d}`, count[ob.ID]))
				wantPerms(t, "ReadPerm after Update of "+ob.ID, got.ReadPerm, ob.ReadPerm)
				wantPerms(t, "WritePerm after Update of "+ob.ID, got.WritePerm, ob.WritePerm)
			}
		}
		for _, ob := range objs {
			wantData(t, "final "+ob.ID, mustGet(t, ctx, s, "Item", ob.ID).Data, fmt.Sprintf(`{"n":%d}`, count[ob.ID]))
		}
	})

	t.Run("SetACL", func(t *testing.T) {
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Item", "n", "Number")
		mustInsert(t, ctx, s, "Item", obj("d", `{"n":0}`))

		check := func(what string, got storage.Object, read, write []string) {
			t.Helper()
			wantPerms(t, what+": returned ReadPerm", got.ReadPerm, read)
			wantPerms(t, what+": returned WritePerm", got.WritePerm, write)
			stored := mustGet(t, ctx, s, "Item", "d")
			wantPerms(t, what+": stored ReadPerm", stored.ReadPerm, read)
			wantPerms(t, what+": stored WritePerm", stored.WritePerm, write)
		}

		u := update()
		u.SetACL, u.NewReadPerm, u.NewWritePerm = true, perms("*", "u1"), perms("u1", "role:Admin")
		check("SetACL from public", mustUpdate(t, ctx, s, "Item", "d", u), perms("*", "u1"), perms("u1", "role:Admin"))

		// Without SetACL the new perms are ignored.
		u = update(opIncrement("n", "1"))
		u.NewReadPerm, u.NewWritePerm = perms("x"), perms("x")
		check("NewReadPerm without SetACL", mustUpdate(t, ctx, s, "Item", "d", u), perms("*", "u1"), perms("u1", "role:Admin"))

		// The write check uses the ACL before the update.
		u = update(opIncrement("n", "1"))
		u.WritePerm = perms("*", "u2")
		u.SetACL, u.NewReadPerm, u.NewWritePerm = true, nil, nil
		_, err := s.Update(ctx, "Item", "d", u)
		wantErr(t, "SetACL by a caller without write access", err, storage.ErrNotFound)
		check("after the refused SetACL", mustGet(t, ctx, s, "Item", "d"), perms("*", "u1"), perms("u1", "role:Admin"))

		u.WritePerm = perms("*", "role:Admin")
		u.NewWritePerm = perms("u2")
		got := mustUpdate(t, ctx, s, "Item", "d", u)
		check("SetACL with operators", got, nil, perms("u2"))
		wantData(t, "data after SetACL with operators", got.Data, `{"n":2}`)
		u.WritePerm = perms("*", "role:Admin")
		_, err = s.Update(ctx, "Item", "d", u)
		wantErr(t, "Update by the former writer", err, storage.ErrNotFound)

		u = update()
		u.WritePerm = perms("*", "u2")
		u.SetACL, u.NewReadPerm, u.NewWritePerm = true, nil, nil
		check("SetACL to public", mustUpdate(t, ctx, s, "Item", "d", u), nil, nil)
		u.WritePerm = perms("*", "anyone")
		u.NewReadPerm, u.NewWritePerm = perms(), perms()
		check("SetACL to master only", mustUpdate(t, ctx, s, "Item", "d", u), perms(), perms())
		_, err = s.Update(ctx, "Item", "d", u)
		wantErr(t, "Update of a master-only object by a user", err, storage.ErrNotFound)
		_, err = s.Get(ctx, "Item", "d", perms("*", "anyone"))
		wantErr(t, "Get of a master-only object by a user", err, storage.ErrNotFound)
		u.WritePerm = nil
		u.NewReadPerm, u.NewWritePerm = perms("*"), perms("u3")
		check("SetACL by the master key", mustUpdate(t, ctx, s, "Item", "d", u), perms("*"), perms("u3"))
		wantData(t, "final data", mustGet(t, ctx, s, "Item", "d").Data, `{"n":2}`)
	})
}
