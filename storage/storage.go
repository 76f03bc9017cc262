// Package storage defines the persistence contract of parsego: what the App
// asks of a database, in terms a database can answer without knowing Parse's
// rules. Authorization, schema inference and the wire format stay in the root
// package; an adapter stores documents, evaluates conditions and applies update
// operators atomically.
//
// Two adapters implement Store: storage/postgres for production and the
// embedded default. storage/storagetest is the suite both must pass.
package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Store is what the App needs from a database. Every method is safe for
// concurrent use. Class names and field names reaching a Store have already
// been validated by the App; adapters still quote every identifier they put
// into a statement and pass every value as a bind parameter.
type Store interface {
	// LoadSchema returns every class the store knows.
	LoadSchema(ctx context.Context) ([]Class, error)
	// CreateClass creates a class with the given fields, its table and its
	// unique indexes. It fails with ErrClassExists when the class exists.
	CreateClass(ctx context.Context, c Class) (Class, error)
	// AddFields adds the fields a class lacks, creating the class first when
	// it does not exist, and returns the class as stored afterwards. A field
	// that already exists keeps its stored definition, even when it differs
	// from the one given: the caller compares and reports the mismatch. It is
	// atomic against concurrent calls, so two writers inferring different
	// types for a new field cannot both win.
	AddFields(ctx context.Context, class string, fields map[string]Field) (Class, error)
	// UpdateClass replaces the class-level permissions and indexes of a
	// class and deletes the named fields (their values are removed from
	// every object). ErrClassNotFound when the class does not exist.
	UpdateClass(ctx context.Context, class string, u ClassUpdate) (Class, error)
	// DeleteClass removes a class, its objects' table and its relation
	// tables. ErrClassNotEmpty when the class still has objects, unless
	// force is set; ErrClassNotFound when it does not exist.
	DeleteClass(ctx context.Context, class string, force bool) error

	// Insert stores new objects of one class, all or nothing. Their IDs
	// and timestamps are set by the caller. A unique index violation fails
	// with a *DuplicateError.
	Insert(ctx context.Context, class string, objs ...Object) error
	// Get returns one object by ID, provided it is readable with the given
	// permissions (nil perms: no ACL check). ErrNotFound otherwise.
	Get(ctx context.Context, class, id string, readPerms []string) (Object, error)
	// Find returns the objects matching q, in q's order. A class that does
	// not exist has no objects.
	Find(ctx context.Context, class string, q Query) ([]Object, error)
	// Count returns how many objects match q, ignoring its limit, skip,
	// order and keys.
	Count(ctx context.Context, class string, q Query) (int64, error)
	// Update applies ops to the object with the given ID when it matches u's
	// condition and write permissions, sets its updatedAt and returns the
	// object as stored afterwards. Operators are applied by the database in
	// one statement, so concurrent updates never lose one another.
	// ErrNotFound when no object matched; ErrTypeMismatch when an operator
	// meets a value of the wrong type (Increment on a string).
	Update(ctx context.Context, class, id string, u Update) (Object, error)
	// Delete removes the object with the given ID when it matches the write
	// permissions (nil: no check) and where (nil: no condition), together
	// with its rows in the class's relation tables. ErrNotFound when no
	// object matched.
	Delete(ctx context.Context, class, id string, writePerms []string, where Cond) error
	// DeleteMany removes every object matching where (nil: all) and returns
	// how many it removed.
	DeleteMany(ctx context.Context, class string, where Cond) (int64, error)

	// AddRelation links the owning object's relation field to the related
	// objects; links that exist already are kept once.
	AddRelation(ctx context.Context, r Relation, relatedIDs ...string) error
	// RemoveRelation unlinks them; absent links are ignored.
	RemoveRelation(ctx context.Context, r Relation, relatedIDs ...string) error

	// Tx runs fn in one transaction: fn's Store sees the transaction's
	// writes, and all of them commit when fn returns nil or roll back when it
	// returns an error (which Tx returns). Tx on a Store already inside a
	// transaction joins it.
	Tx(ctx context.Context, fn func(tx Store) error) error

	// Close releases what the store holds (a pool it did not create is left
	// open).
	Close()
}

// SchemaWatcher is implemented by stores shared between several App
// instances. WatchSchema calls changed with the name of every class whose
// schema another writer (or this one) changed, until ctx is done; after a
// lost connection it calls changed("") once: anything may have changed.
// The App invalidates its schema cache in response.
type SchemaWatcher interface {
	WatchSchema(ctx context.Context, changed func(class string)) error
}

// Notifier is implemented by stores shared between several App instances
// that can carry events between them. Notify sends an event to every
// instance's Listen (the sender's too); Listen calls received with each
// until ctx is done, and with "" when events may have been lost (after a
// lost connection). The App tells the others this way to drop what they
// cached of a session or of roles.
type Notifier interface {
	Notify(ctx context.Context, event string) error
	Listen(ctx context.Context, received func(event string)) error
}

// Object is one stored object.
type Object struct {
	ID        string
	CreatedAt time.Time
	UpdatedAt time.Time
	// ReadPerm and WritePerm are the ACL's entries ("*", user IDs,
	// "role:Name") allowed to read and to write. A nil slice means the object
	// has no ACL (public); an empty non-nil slice allows only the master key.
	ReadPerm  []string
	WritePerm []string
	// Data is a JSON object holding every other field in storage encoding:
	// Parse's REST encoding ({"__type": ...}), with File values carrying
	// their name only and Relation fields absent.
	Data json.RawMessage
}

// Relation names one object's relation field: the join between
// OwningClass.Field of the object OwningID and the objects it relates.
type Relation struct {
	OwningClass string
	Field       string
	OwningID    string
}

// Update is a set of field operators on one object.
type Update struct {
	Ops []Op
	// WritePerm is the caller's ACL identity; nil skips the check (master).
	WritePerm []string
	// Where is an extra condition the object must match (nil: none).
	Where Cond
	// UpdatedAt is the new updatedAt, set by the caller.
	UpdatedAt time.Time
	// When SetACL is true, NewReadPerm and NewWritePerm replace the object's
	// ACL (nil slices clear it: public).
	SetACL       bool
	NewReadPerm  []string
	NewWritePerm []string
}

// OpKind is an update operator.
type OpKind int

// The update operators. Relation operators are not field operators: they go
// through AddRelation and RemoveRelation.
const (
	OpSet       OpKind = iota // Value: the new JSON value
	OpDelete                  // removes the field
	OpIncrement               // Value: a JSON number; a missing field counts as 0
	OpAdd                     // Value: a JSON array appended to the field's array (missing: [])
	OpAddUnique               // Value: a JSON array; the field becomes a set: its elements once each in first-seen order, then the new ones
	OpRemove                  // Value: a JSON array whose elements are all removed from the field's array
)

func (k OpKind) String() string {
	switch k {
	case OpSet:
		return "Set"
	case OpDelete:
		return "Delete"
	case OpIncrement:
		return "Increment"
	case OpAdd:
		return "Add"
	case OpAddUnique:
		return "AddUnique"
	case OpRemove:
		return "Remove"
	}
	return fmt.Sprintf("OpKind(%d)", int(k))
}

// Op is one field operator. Field is a top-level field name, or a dot path
// ("stats.wins") into a nested object; missing intermediate objects are
// created.
type Op struct {
	Field string
	Kind  OpKind
	Value json.RawMessage
}

// Query selects objects of one class.
type Query struct {
	Where Cond
	// ReadPerm is the caller's ACL identity ("*", the user ID, "role:Name"
	// entries); nil skips the ACL check (master key).
	ReadPerm []string
	// Order sorts the results. Objects equal on every key come in the
	// order they were inserted (reversed when the last key is
	// descending): objects created in one millisecond, as a batch's are,
	// sort by createdAt as they were created, and pages fetched with Skip
	// neither repeat nor lose any.
	Order []Sort
	// Limit caps the number of objects returned; 0 means no cap.
	Limit int
	Skip  int
	// Keys, when not nil, names the fields the caller needs. It is a hint:
	// an adapter may return more.
	Keys []string
}

// Sort orders by one field: a top-level name, a dot path, or one of
// objectId, createdAt, updatedAt.
type Sort struct {
	Field string
	Desc  bool
}

// Cond is a condition on objects. The concrete types below (and the geo
// conditions of geo.go) are the whole language; an adapter that meets one
// it cannot evaluate returns ErrUnsupported.
type Cond interface{ cond() }

// And holds when every condition holds (and when it is empty).
type And []Cond

// Or holds when any condition holds (never when it is empty).
type Or []Cond

// Nor holds when no condition holds.
type Nor []Cond

// CmpOp is a comparison operator.
type CmpOp int

// The comparison operators.
const (
	Eq CmpOp = iota
	Ne
	Lt
	Lte
	Gt
	Gte
)

func (o CmpOp) String() string {
	return [...]string{"=", "<>", "<", "<=", ">", ">="}[o]
}

// Cmp compares a field with a value.
//
// Field is a top-level name, a dot path into nested objects, or one of the
// columns objectId, createdAt, updatedAt. Value is nil (null), bool,
// float64, string, time.Time (a Date; compared with Date fields and with
// createdAt/updatedAt) or json.RawMessage (a structured value in storage
// encoding: a Pointer, GeoPoint, object or array; Eq and Ne only).
//
// Semantics follow Parse on MongoDB:
//   - Eq with a scalar or structured value also matches an array field that
//     contains the value; Eq with an array matches the whole array exactly.
//     Eq nil matches a missing or null field.
//   - Ne is the negation of Eq (so it matches objects lacking the field);
//     Ne nil matches a present, non-null field.
//   - Lt, Lte, Gt, Gte match only values of the same type (numbers with
//     numbers, strings with strings, dates with dates); a missing field
//     never matches.
type Cmp struct {
	Field string
	Op    CmpOp
	Value any
}

// In holds when the field equals one of Values (with Eq's rules, including
// array containment), or, with Not, when it is present (not missing, not
// null) and equals none of them: unlike Ne, a non-empty Not In never matches
// an object lacking the field, as Parse Server on PostgreSQL answers (its
// NOT IN meets SQL NULL). Values take the same types as Cmp's. An empty In
// never holds; an empty Not In always holds, missing fields included.
type In struct {
	Field  string
	Values []any
	Not    bool
}

// Exists holds when the field is present and not null, or with Exists false,
// when it is missing or null.
type Exists struct {
	Field  string
	Exists bool
}

// All holds when the array field contains every one of Values (duplicates in
// the stored array do not matter).
type All struct {
	Field  string
	Values []any
}

// Regex holds when the string field matches Pattern, a regular expression in
// the syntax of Go's regexp package (RE2), which PostgreSQL's and Go's
// engines agree on for what Parse clients send. Options are Parse's $options
// letters: i (case-insensitive), m (multi-line), s (dot matches newline), x
// (extended: whitespace and # comments in Pattern are ignored).
type Regex struct {
	Field   string
	Pattern string
	Options string
}

// RelatedTo holds for the objects linked by a relation field of one owning
// object.
type RelatedTo struct {
	Relation Relation
}

func (And) cond()       {}
func (Or) cond()        {}
func (Nor) cond()       {}
func (Cmp) cond()       {}
func (In) cond()        {}
func (Exists) cond()    {}
func (All) cond()       {}
func (Regex) cond()     {}
func (RelatedTo) cond() {}

// Class is a class's schema as stored.
type Class struct {
	Name   string
	Fields map[string]Field
	// CLP is the class-level permissions document, opaque to the store.
	CLP json.RawMessage
	// Indexes maps an index name to its keys ({"field": 1}), as Parse's
	// schema API shows them.
	Indexes map[string]map[string]any
	// Unique lists fields holding unique values; the store enforces them.
	Unique []Unique
	// KeyedOnly says the class is queried by objectId, its timestamps and
	// the fields of Indexes and Unique, not on any field as Parse classes
	// are: an adapter may then leave the other fields unindexed, which
	// spares every write the upkeep of an index over all fields. Queries
	// on them still answer, by reading the class. Kept with the schema.
	KeyedOnly bool
}

// Unique is a unique constraint on one field. CaseInsensitive makes values
// that differ only in letter case collide (usernames, emails).
type Unique struct {
	Field           string
	CaseInsensitive bool
}

// Field is one field's schema.
type Field struct {
	Type         string          `json:"type"`
	TargetClass  string          `json:"targetClass,omitempty"`
	Required     bool            `json:"required,omitempty"`
	DefaultValue json.RawMessage `json:"defaultValue,omitempty"`
}

// ClassUpdate changes a class's schema.
type ClassUpdate struct {
	CLP          json.RawMessage           // nil: unchanged
	AddFields    map[string]Field          // added; ErrFieldExists when one is present
	ChangeFields map[string]Field          // replace present fields' definitions (required, default value), values kept; ErrFieldExists when the type differs, added when absent
	DeleteFields []string                  // removed, with their values in every object
	AddIndexes   map[string]map[string]any // created; ErrIndexNameExists when the name is taken
	DropIndexes  []string                  // dropped
}

// Errors a Store returns. Adapters wrap them (errors.Is) and never return a
// driver error for a condition listed here.
var (
	ErrNotFound        = errors.New("storage: object not found")
	ErrClassNotFound   = errors.New("storage: class not found")
	ErrClassExists     = errors.New("storage: class exists")
	ErrClassNotEmpty   = errors.New("storage: class not empty")
	ErrFieldExists     = errors.New("storage: field exists")
	ErrTypeMismatch    = errors.New("storage: operator does not apply to the stored value")
	ErrDuplicateValue  = errors.New("storage: duplicate value")
	ErrUnsupported     = errors.New("storage: unsupported condition")
	ErrInvalidQuery    = errors.New("storage: invalid query")
	ErrIndexNameExists = errors.New("storage: index exists")
)

// DuplicateError reports a unique constraint violation on Field.
type DuplicateError struct{ Field string }

func (e *DuplicateError) Error() string { return "storage: duplicate value for " + e.Field }

// Is makes errors.Is(err, ErrDuplicateValue) hold.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicateValue }

// Joiner is implemented by stores that can read an object together with
// the object one of its Pointer fields points to, in one round trip. The
// App resolves session tokens through it (the _Session of a token and its
// _User); stores without it answer with Find and Get.
type Joiner interface {
	// FindJoined returns the object of l.Class whose string field l.Field
	// equals l.Value (the first one, if several do), ignoring ACLs, and
	// the object of l.TargetClass that its Pointer field l.Pointer names,
	// or nil when that field is unset or its object doesn't exist.
	// ErrNotFound when no object matches (or the class doesn't exist).
	FindJoined(ctx context.Context, l JoinLookup) (obj Object, target *Object, err error)
}

// JoinLookup is a Joiner's lookup: an object by a (unique) string field,
// and the target of one of its Pointer fields. Field and Pointer are
// top-level field names.
type JoinLookup struct {
	Class, Field, Value  string
	Pointer, TargetClass string
}

// RoleResolver is implemented by stores that resolve a user's roles in one
// round trip. Roles are the objects of class "_Role": a "name" string
// field, a "users" relation to their members and a "roles" relation to
// their child roles, whose members belong to the role too. On stores
// without it the App walks the hierarchy with Find, a level per round trip.
type RoleResolver interface {
	// UserRoles returns the sorted names of every role userID belongs to,
	// directly or through child roles, to any depth; cycles are harmless.
	UserRoles(ctx context.Context, userID string) ([]string, error)
}
