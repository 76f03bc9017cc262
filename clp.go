package parse

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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
	// userFields are the protectedFields entries "userField:<field>": the
	// fields hidden from the users an object's <field> points to, which
	// differ from object to object (objectHidden).
	userFields map[string][]string
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
	for k, fields := range cp.protected {
		if field, ok := strings.CutPrefix(k, "userField:"); ok {
			if cp.userFields == nil {
				cp.userFields = map[string][]string{}
			}
			cp.userFields[field] = fields
			delete(cp.protected, k)
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
	if masterOnlyClass(class) {
		// The reference's message names the operation and the class, but
		// its sanitized answer on the wire is this.
		return nil, errMasterOnlyClass()
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

// objectHidden returns the fields of o hidden from the user uid: hidden,
// the caller's set for the class (protectedFields; nil when no entity of
// the caller has one), intersected with the userFields set of every field
// of o that points to the user, as the reference's pointer-permission
// protectedFields do.
func objectHidden(o *Object, uid string, hidden []string, userFields map[string][]string) []string {
	matched := hidden != nil
	for field, fields := range userFields {
		if !pointsTo(o.Fields[field], uid) {
			continue
		}
		if !matched {
			hidden, matched = fields, true
			continue
		}
		hidden = slices.DeleteFunc(slices.Clone(hidden), func(f string) bool { return !slices.Contains(fields, f) })
	}
	return hidden
}

// pointsTo reports whether v is a pointer (or an included object) with the
// given objectId, or an array holding one.
func pointsTo(v any, id string) bool {
	switch x := v.(type) {
	case Pointer:
		return x.ObjectID == id
	case *Object:
		return x != nil && x.ID == id
	case []any:
		return slices.ContainsFunc(x, func(e any) bool { return pointsTo(e, id) })
	}
	return false
}

// masterOnlyClass reports the system classes only the master key may
// read or write through the objects API, as the reference's
// classesWithMasterOnlyAccess (and the analytics events).
func masterOnlyClass(class string) bool {
	switch class {
	case ClassJobStatus, ClassPushStatus, ClassHooks, ClassGlobalConfig, "_GraphQLConfig",
		ClassJobSchedule, ClassIdempotency, ClassEventLog, ClassEventCount:
		return true
	}
	return false
}
