package parse

import (
	"context"
	"slices"

	"github.com/parsego/parse/storage"
)

// Roles are _Role objects: a unique name, a users relation (the members)
// and a roles relation (child roles, whose members inherit the role). An
// ACL or class-level permission entry "role:Name" grants its right to the
// role's members, to the members of its children, of their children, and
// so on; cycles are harmless.

// rolePrefix starts an ACL or CLP entry that names a role.
const rolePrefix = "role:"

// userRoles returns the names of every role the user belongs to, directly
// or through child roles, sorted, without ACL checks: membership is not the
// caller's to hide. Stores that can (storage.RoleResolver) answer in one
// round trip; others are walked a level of the hierarchy at a time. An app
// that never stored a role (no _Role class) pays no round trip at all.
func (a *App) userRoles(ctx context.Context, userID string) ([]string, error) {
	if cl, err := a.schema.get(ctx, ClassRole); err != nil || cl == nil {
		return nil, err
	}
	store := a.storeFor(ctx)
	if r, ok := store.(storage.RoleResolver); ok {
		return r.UserRoles(ctx, userID)
	}
	seen := map[string]bool{}
	var names []string
	field, ids := "users", []string{userID}
	for len(ids) > 0 {
		rows, err := store.Find(ctx, ClassRole, storage.Query{
			Where: storage.RelationHas{Relation: storage.Relation{OwningClass: ClassRole, Field: field}, RelatedIDs: ids},
			Keys:  []string{"name"},
		})
		if err != nil {
			return nil, err
		}
		ids = ids[:0:0]
		for _, r := range rows {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			ids = append(ids, r.ID)
			if name := storedString(r, "name"); name != "" {
				names = append(names, name)
			}
		}
		field = "roles"
	}
	slices.Sort(names)
	return names, nil
}

// validRoleName reports whether name is a valid role name: letters,
// digits, '_', '-' and spaces, as the SDKs require.
func validRoleName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-', c == ' ':
		default:
			return false
		}
	}
	return true
}

// checkRoleCreate applies the rules of a new role: a valid name and an
// ACL, both required.
func checkRoleCreate(fields map[string]any) error {
	if _, ok := fields["ACL"]; !ok {
		return NewError(IncorrectType, "ACL is required.")
	}
	name, ok := fields["name"]
	if !ok || name == nil {
		return NewError(IncorrectType, "name is required.")
	}
	return checkRoleName(name)
}

func checkRoleName(name any) error {
	s, ok := name.(string)
	if !ok {
		return NewError(IncorrectType, "name must be a string.")
	}
	if !validRoleName(s) {
		return NewError(InvalidRoleName, "A role's name can only contain alphanumeric characters, _, -, and spaces.")
	}
	return nil
}

// checkRoleUpdate applies the rules of a role update: the name is set once
// by clients; the master key may rename a role (to a valid name).
func checkRoleUpdate(auth Auth, fields map[string]any) error {
	name, ok := fields["name"]
	if !ok {
		return nil
	}
	if !auth.Master {
		return NewError(ChangedImmutableField, "A role's name can only be set before it has been saved.")
	}
	return checkRoleName(name)
}
