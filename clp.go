package parse

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/parsego/parse/storage"
)

// Class-level permissions (CLPs) say who may run each operation on a
// class, before any object's ACL is looked at. They are stored in the
// schema as the reference's document ({"find": {"*": true}, ...}) and
// decoded once per schema version (schemaCache.perms).
//
// An operation missing from the document allows everyone; an operation
// present allows the master key plus the entries it lists: "*", user IDs,
// "role:Name", "requiresAuthentication" (any logged-in user), and
// "pointerFields" (the users a Pointer<_User> or Array field of the object
// names, which turns the permission into a condition on the query, as do
// readUserFields and writeUserFields).

// classPerms is a decoded CLP document.
type classPerms struct {
	ops             map[string]opPerms
	readUserFields  []string
	writeUserFields []string
	// protected maps an entity ("*", "authenticated", a user ID,
	// "role:Name") to the fields hidden from it.
	protected map[string][]string
}

// opPerms is one operation's entry.
type opPerms struct {
	entities      map[string]bool
	pointerFields []string
}

// decodeCLP decodes a stored CLP; nil when there is none (everything is
// allowed). _User always hides email from other users: the reference adds
// its default protectedFields option to the class's own.
func decodeCLP(class string, raw json.RawMessage) *classPerms {
	var doc map[string]json.RawMessage
	if len(raw) > 0 {
		// Stored CLPs were validated on the way in (App.checkCLP).
		_ = json.Unmarshal(raw, &doc)
	}
	if doc == nil && class != ClassUser {
		return nil
	}
	cp := &classPerms{ops: map[string]opPerms{}}
	for k, v := range doc {
		switch k {
		case "readUserFields":
			_ = json.Unmarshal(v, &cp.readUserFields)
		case "writeUserFields":
			_ = json.Unmarshal(v, &cp.writeUserFields)
		case "protectedFields":
			_ = json.Unmarshal(v, &cp.protected)
		case "find", "get", "count", "create", "update", "delete", "addField":
			var entry map[string]json.RawMessage
			_ = json.Unmarshal(v, &entry)
			op := opPerms{entities: map[string]bool{}}
			for who, allow := range entry {
				if who == "pointerFields" {
					_ = json.Unmarshal(allow, &op.pointerFields)
					continue
				}
				op.entities[who] = string(allow) == "true"
			}
			cp.ops[k] = op
		}
	}
	if class == ClassUser {
		if cp.protected == nil {
			cp.protected = map[string][]string{}
		}
		if !slices.Contains(cp.protected["*"], "email") {
			cp.protected["*"] = append(cp.protected["*"], "email")
		}
	}
	return cp
}

// classAccess checks that the caller may run op (find, get, count, create,
// update, delete, addField) on class. A permission granted only through
// pointer fields comes back as a condition the objects must meet. A denial
// is 119 "Permission denied", or 101 when the operation requires a
// logged-in user and there is none, as the reference answers.
func (a *App) classAccess(ctx context.Context, auth Auth, class, op string) (storage.Cond, error) {
	if auth.Master {
		return nil, nil
	}
	cp, err := a.schema.perms(ctx, class)
	if err != nil {
		return nil, a.storeError(err)
	}
	if cp == nil {
		return nil, nil
	}
	p, ok := cp.ops[op]
	if !ok || p.entities[PublicRead] {
		return nil, nil
	}
	for _, who := range auth.readPerms() { // the public, the user, its roles
		if p.entities[who] {
			return nil, nil
		}
	}
	if p.entities["requiresAuthentication"] {
		if auth.User == nil {
			return nil, NewError(ObjectNotFound, "Permission denied, user needs to be authenticated.")
		}
		return nil, nil
	}
	// The reference words it so on the wire; the cause is kept for logs.
	denied := &Error{Code: OperationForbidden, Message: "Permission denied",
		Err: fmt.Errorf("action %s on class %s", op, class)}
	var userFields []string
	switch op {
	case "find", "get", "count":
		userFields = cp.readUserFields
	case "update", "delete":
		userFields = cp.writeUserFields
	default:
		// Pointer permissions can't let anyone create, or add fields to a
		// class outside of an update.
		return nil, denied
	}
	fields := slices.Concat(p.pointerFields, userFields)
	if len(fields) == 0 {
		return nil, denied
	}
	if auth.User == nil {
		return storage.Or{}, nil // no user is named by a pointer field
	}
	me := userPointerJSON(auth.User.ID)
	or := make(storage.Or, 0, len(fields))
	for _, f := range slices.Compact(slices.Sorted(slices.Values(fields))) {
		// Eq also matches an array of pointers holding the user.
		or = append(or, storage.Cmp{Field: f, Op: storage.Eq, Value: me})
	}
	return or, nil
}

// protectedFields returns the fields of class hidden from the caller: the
// intersection of the protectedFields sets of every entity the caller is
// ("*", "authenticated", the user, its roles). The master key sees all.
func (cp *classPerms) protectedFields(auth Auth) []string {
	if cp == nil || len(cp.protected) == 0 || auth.Master {
		return nil
	}
	group := auth.readPerms()
	if auth.User != nil {
		group = append(group, "authenticated")
	}
	var hidden []string
	matched := false
	for _, who := range group {
		fields, ok := cp.protected[who]
		if !ok {
			continue
		}
		if !matched {
			hidden, matched = slices.Clone(fields), true
			continue
		}
		hidden = slices.DeleteFunc(hidden, func(f string) bool { return !slices.Contains(fields, f) })
	}
	return hidden
}
