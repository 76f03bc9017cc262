package parse

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/parsego/parse/storage"
)

// Schemas reads and changes class schemas: the schema API. Every method
// needs the master key; the read-only master key may only read.
type Schemas struct{ app *App }

// ClassSchema is a class's schema as the schema API shows it.
type ClassSchema struct {
	ClassName             string                    `json:"className"`
	Fields                map[string]Field          `json:"fields"`
	ClassLevelPermissions json.RawMessage           `json:"classLevelPermissions"`
	Indexes               map[string]map[string]any `json:"indexes,omitempty"`
}

// SchemaUpdate changes a class's schema, as PUT /schemas/{class} does. The
// whole change is validated first and then applied atomically.
type SchemaUpdate struct {
	// Fields adds fields. A field the class has with the same type takes
	// the options given (required, default value); another type is refused
	// (255).
	Fields map[string]Field
	// DeleteFields removes fields, with their values in every object. A
	// field both deleted and added is replaced, starting empty.
	DeleteFields []string
	// ClassLevelPermissions, when set, replaces the class-level permissions
	// wholesale; JSON null restores the defaults.
	ClassLevelPermissions json.RawMessage
	// Indexes adds indexes by name: {"field": 1 or -1, ...}.
	Indexes map[string]map[string]any
	// DropIndexes drops indexes by name.
	DropIndexes []string
}

// defaultCLP is the class-level permissions of a class that sets none.
const defaultCLP = `{"find":{"*":true},"count":{"*":true},"get":{"*":true},"create":{"*":true},"update":{"*":true},"delete":{"*":true},"addField":{"*":true},"protectedFields":{"*":[]},"ACL":{"*":{"read":true,"write":true}}}`

// idIndex is the index the reference lists on every class whose indexes
// were ever set: the primary key, {"_id_": {"_id": 1}}.
const idIndex = "_id_"

// errReadOnlySchema refuses a schema change made with the read-only
// master key, as the reference's sanitized 119.
func errReadOnlySchema() error { return NewError(OperationForbidden, "Permission denied") }

// schemaWriteAuth checks that ctx may change schemas.
func schemaWriteAuth(ctx context.Context) error {
	auth := AuthFrom(ctx)
	if !auth.Master {
		return ErrMasterKeyRequired
	}
	if auth.ReadOnly {
		return errReadOnlySchema()
	}
	return nil
}

// ensureSystemClasses creates the system classes the reference creates at
// start (_User and _Role), so that the schema API lists them from the
// first request. It costs nothing when they exist: the schema was loaded.
func (a *App) ensureSystemClasses(ctx context.Context) error {
	for _, class := range []string{ClassUser, ClassRole} {
		cl, err := a.schema.get(ctx, class)
		if err != nil {
			return err
		}
		if cl != nil {
			continue
		}
		sys := a.schema.system[class]
		created, err := a.store.CreateClass(ctx, storage.Class{Name: class, Fields: maps.Clone(sys.fields), Unique: sys.unique})
		switch {
		case errors.Is(err, storage.ErrClassExists):
			// Another instance created it first.
			if err := a.schema.load(ctx); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			a.schema.put(created)
		}
	}
	return nil
}

// isVolatileClass reports the classes the reference keeps in memory: the
// schema API shows them with their default fields whether or not they
// are stored, and never lets POST create them.
func isVolatileClass(name string) bool {
	switch name {
	case ClassJobStatus, ClassPushStatus, ClassHooks, ClassGlobalConfig, "_GraphQLConfig",
		ClassJobSchedule, ClassAudience, ClassIdempotency:
		return true
	}
	return false
}

// schemaClassNameValid is the schema API's class name rule: one of the
// system classes it knows, or a letter followed by letters, digits and
// underscores (but not "className" or "length").
func schemaClassNameValid(name string) bool {
	switch name {
	case ClassUser, ClassInstallation, ClassRole, ClassSession, ClassProduct, ClassPushStatus,
		ClassJobStatus, ClassJobSchedule, ClassAudience, ClassIdempotency:
		return true
	}
	return schemaFieldNameValid(name, name)
}

// schemaFieldNameValid is the schema API's field name rule.
func schemaFieldNameValid(name, class string) bool {
	if name == "className" && class != ClassHooks {
		return false
	}
	return name != "length" && isName(name)
}

// systemFields returns a class's default fields beside objectId,
// createdAt, updatedAt and ACL (nil for a client class).
func (a *App) systemFields(class string) map[string]Field {
	if class == "_GraphQLConfig" {
		return map[string]Field{"config": {Type: "Object"}}
	}
	return a.schema.system[class].fields
}

// isDefaultField reports a field no schema change may add or remove.
func (a *App) isDefaultField(class, name string) bool {
	if _, ok := defaultFields[name]; ok {
		return true
	}
	_, ok := a.systemFields(class)[name]
	return ok
}

// Get returns a class's schema; 103 when the class doesn't exist. The
// schema API needs the master key (or the read-only one).
func (s *Schemas) Get(ctx context.Context, class string) (*ClassSchema, error) {
	if auth := AuthFrom(ctx); !auth.Master {
		return nil, ErrMasterKeyRequired
	}
	if isVolatileClass(class) {
		fields := maps.Clone(defaultFields)
		maps.Copy(fields, s.app.systemFields(class))
		return &ClassSchema{ClassName: class, Fields: fields, ClassLevelPermissions: json.RawMessage(`{}`)}, nil
	}
	cl, err := s.app.schema.get(ctx, class)
	if err != nil {
		return nil, s.app.storeError(err)
	}
	if cl == nil {
		return nil, NewError(InvalidClassName, "Class %s does not exist.", class)
	}
	return s.app.apiSchema(cl, true), nil
}

// All returns every stored class's schema, sorted by class name.
func (s *Schemas) All(ctx context.Context) ([]*ClassSchema, error) {
	if auth := AuthFrom(ctx); !auth.Master {
		return nil, ErrMasterKeyRequired
	}
	list, err := s.app.schema.all(ctx)
	if err != nil {
		return nil, s.app.storeError(err)
	}
	out := make([]*ClassSchema, 0, len(list))
	for _, cl := range list {
		// As the reference, the classes it keeps for itself (config,
		// job and push statuses...) are not listed, even once stored.
		if !isVolatileClass(cl.Name) {
			out = append(out, s.app.apiSchema(cl, true))
		}
	}
	return out, nil
}

// apiSchema shows a stored class as the schema API does: the default
// fields added, internal fields (password hashes, tokens) hidden, the
// default CLP when none is set and, with idIndex, the primary key among
// the indexes of a class that has any.
func (a *App) apiSchema(cl *storage.Class, withIDIndex bool) *ClassSchema {
	fields := maps.Clone(defaultFields)
	maps.Copy(fields, a.systemFields(cl.Name))
	for k, f := range cl.Fields {
		if len(k) > 0 && k[0] == '_' {
			continue
		}
		fields[k] = f
	}
	clp := cl.CLP
	if len(clp) == 0 || string(clp) == "null" {
		clp = json.RawMessage(defaultCLP)
	}
	var indexes map[string]map[string]any
	if len(cl.Indexes) > 0 {
		indexes = maps.Clone(cl.Indexes)
		if withIDIndex {
			indexes[idIndex] = map[string]any{"_id": 1.0}
		}
	}
	return &ClassSchema{ClassName: cl.Name, Fields: fields, ClassLevelPermissions: clp, Indexes: indexes}
}

// Create creates a class with the given fields, class-level permissions
// and indexes, as POST /schemas does: 103 when the class exists or its
// name is invalid, 105, 135, 136 and 111 for invalid fields, 107 for an
// invalid CLP, 102 for an invalid index.
func (s *Schemas) Create(ctx context.Context, c ClassSchema) (*ClassSchema, error) {
	a := s.app
	if err := schemaWriteAuth(ctx); err != nil {
		return nil, err
	}
	class := c.ClassName
	existing, err := a.schema.get(ctx, class)
	if err != nil {
		return nil, a.storeError(err)
	}
	if existing != nil || isVolatileClass(class) {
		return nil, NewError(InvalidClassName, "Class %s already exists.", class)
	}
	if !schemaClassNameValid(class) {
		return nil, invalidClassNameError(class)
	}
	sys := a.schema.system[class]
	fields := maps.Clone(sys.fields)
	if fields == nil {
		fields = map[string]Field{}
	}
	names := slices.Sorted(maps.Keys(c.Fields))
	for _, name := range names {
		if err := a.checkNewField(class, name, c.Fields[name]); err != nil {
			return nil, err
		}
		fields[name] = c.Fields[name]
	}
	if err := checkGeoPoints(slices.Sorted(maps.Keys(sys.fields)), names, fields); err != nil {
		return nil, err
	}
	clp, err := a.checkCLP(c.ClassLevelPermissions, fields)
	if err != nil {
		return nil, err
	}
	indexFields := maps.Clone(fields)
	for _, name := range []string{"objectId", "createdAt", "updatedAt"} {
		indexFields[name] = defaultFields[name]
	}
	var add map[string]map[string]any
	for _, name := range slices.Sorted(maps.Keys(c.Indexes)) {
		if isDropIndex(c.Indexes[name]) {
			return nil, NewError(InvalidQuery, "Index %s does not exist, cannot delete.", name)
		}
		if err := checkIndex(name, c.Indexes[name], indexFields); err != nil {
			return nil, err
		}
		if add == nil {
			add = map[string]map[string]any{}
		}
		add[name] = c.Indexes[name]
	}
	created, err := a.storeFor(ctx).CreateClass(ctx, storage.Class{
		Name: class, Fields: fields, CLP: clp, Indexes: add, Unique: sys.unique,
	})
	if errors.Is(err, storage.ErrClassExists) {
		return nil, NewError(InvalidClassName, "Class %s already exists.", class)
	}
	if err != nil {
		return nil, a.storeError(err)
	}
	a.schema.put(created)
	// The reference lists the primary key index from the next read on.
	return a.apiSchema(&created, false), nil
}

// Update changes a class's schema, as PUT /schemas/{class} does: 103 when
// the class doesn't exist, 255 when a field to add exists with another
// type or a field to delete doesn't exist, 136 for the default fields,
// 105 and 111 for invalid fields, 107 for an invalid CLP, 102 for indexes
// that exist (added) or don't (dropped). It returns the schema afterwards.
func (s *Schemas) Update(ctx context.Context, class string, u SchemaUpdate) (*ClassSchema, error) {
	if err := schemaWriteAuth(ctx); err != nil {
		return nil, err
	}
	cs, err := s.update(ctx, class, u)
	if errors.Is(err, storage.ErrFieldExists) || errors.Is(err, storage.ErrIndexNameExists) {
		// Another writer changed the class since the cache saw it: check
		// again against the stored schema, which now reports the conflict.
		if err := s.app.schema.load(ctx); err != nil {
			return nil, s.app.storeError(err)
		}
		cs, err = s.update(ctx, class, u)
	}
	if err != nil {
		return nil, s.app.storeError(err)
	}
	return cs, nil
}

func (s *Schemas) update(ctx context.Context, class string, u SchemaUpdate) (*ClassSchema, error) {
	a := s.app
	cl, err := a.schema.get(ctx, class)
	if err != nil {
		return nil, err
	}
	if cl == nil {
		return nil, NewError(InvalidClassName, "Class %s does not exist.", class)
	}
	current := maps.Clone(defaultFields)
	maps.Copy(current, a.systemFields(class))
	for name, f := range cl.Fields {
		if len(name) > 0 && name[0] != '_' {
			current[name] = f // internal fields (_hashed_password) are not the API's
		}
	}
	deleting := map[string]bool{}
	for _, name := range u.DeleteFields {
		deleting[name] = true
	}

	// The reference's checks, in its order: fields that exist or don't,
	// then the new fields, the GeoPoint limit and the CLP, then the default
	// fields among the deleted ones, then the indexes.
	for _, name := range slices.Sorted(maps.Keys(u.Fields)) {
		if f, ok := current[name]; ok && !deleting[name] && f.Type != u.Fields[name].Type {
			return nil, NewError(InvalidSchemaOperation, "Field %s exists, cannot update.", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(deleting)) {
		if _, ok := current[name]; !ok {
			return nil, NewError(InvalidSchemaOperation, "Field %s does not exist, cannot delete.", name)
		}
	}
	// after holds the class's own fields once the update is applied.
	after := map[string]Field{}
	for name, f := range cl.Fields {
		if !deleting[name] && (len(name) == 0 || name[0] != '_') {
			after[name] = f
		}
	}
	maps.Copy(after, a.systemFields(class))
	kept := slices.Sorted(maps.Keys(after))
	var added []string
	add, change := map[string]Field{}, map[string]Field{}
	for _, name := range slices.Sorted(maps.Keys(u.Fields)) {
		f := u.Fields[name]
		prev, exists := current[name]
		if exists && !deleting[name] {
			// The same type: only the options may change, and only those
			// of a class's own fields.
			if a.isDefaultField(class, name) || fieldEqual(prev, f) {
				continue
			}
			if err := checkFieldOptions(class, name, f); err != nil {
				return nil, err
			}
			change[name] = f
			after[name] = f
			continue
		}
		if err := a.checkNewField(class, name, f); err != nil {
			return nil, err
		}
		add[name] = f
		after[name] = f
		added = append(added, name)
	}
	if err := checkGeoPoints(kept, added, after); err != nil {
		return nil, err
	}
	var clp json.RawMessage
	if u.ClassLevelPermissions != nil {
		if clp, err = a.checkCLP(u.ClassLevelPermissions, after); err != nil {
			return nil, err
		}
		if clp == nil {
			clp = json.RawMessage(defaultCLP) // null: back to the defaults
		}
	}
	for _, name := range slices.Sorted(maps.Keys(deleting)) {
		if a.isDefaultField(class, name) {
			return nil, NewError(ChangedImmutableField, "field %s cannot be changed", name)
		}
	}

	indexFields := maps.Clone(after)
	for _, name := range []string{"objectId", "createdAt", "updatedAt"} {
		indexFields[name] = defaultFields[name]
	}
	hasIndex := func(name string) bool {
		_, ok := cl.Indexes[name]
		return ok || name == idIndex && len(cl.Indexes) > 0
	}
	var drop []string
	for _, name := range slices.Sorted(slices.Values(u.DropIndexes)) {
		switch {
		case !hasIndex(name):
			return nil, NewError(InvalidQuery, "Index %s does not exist, cannot delete.", name)
		case name == idIndex:
			return nil, NewError(InvalidQuery, "Index %s cannot be deleted.", name)
		}
		drop = append(drop, name)
	}
	var addIndexes map[string]map[string]any
	for _, name := range slices.Sorted(maps.Keys(u.Indexes)) {
		keys := u.Indexes[name]
		if isDropIndex(keys) {
			if !hasIndex(name) {
				return nil, NewError(InvalidQuery, "Index %s does not exist, cannot delete.", name)
			}
			if name == idIndex {
				return nil, NewError(InvalidQuery, "Index %s cannot be deleted.", name)
			}
			drop = append(drop, name)
			continue
		}
		if hasIndex(name) && !slices.Contains(drop, name) {
			return nil, NewError(InvalidQuery, "Index %s exists, cannot update.", name)
		}
		if err := checkIndex(name, keys, indexFields); err != nil {
			return nil, err
		}
		if addIndexes == nil {
			addIndexes = map[string]map[string]any{}
		}
		addIndexes[name] = keys
	}

	var del []string
	for _, name := range slices.Sorted(maps.Keys(deleting)) {
		del = append(del, name)
	}
	updated, err := a.storeFor(ctx).UpdateClass(ctx, class, storage.ClassUpdate{
		CLP: clp, AddFields: add, ChangeFields: change, DeleteFields: del,
		AddIndexes: addIndexes, DropIndexes: drop,
	})
	if errors.Is(err, storage.ErrClassNotFound) {
		a.schema.remove(class)
		return nil, NewError(InvalidClassName, "Class %s does not exist.", class)
	}
	if err != nil {
		return nil, err
	}
	a.schema.put(updated)
	cs := a.apiSchema(&updated, true)
	if class == ClassUser {
		// The reference answers from its schema cache, where the _User CLP
		// carries its protectedFields option's default: email hidden.
		cs.ClassLevelPermissions = protectFields(cs.ClassLevelPermissions, "*", "email")
	}
	return cs, nil
}

// protectFields adds fields to the protectedFields of entity in a CLP.
func protectFields(clp json.RawMessage, entity string, fields ...string) json.RawMessage {
	var doc map[string]any
	if err := json.Unmarshal(clp, &doc); err != nil {
		return clp
	}
	pf, _ := doc["protectedFields"].(map[string]any)
	if pf == nil {
		pf = map[string]any{}
		doc["protectedFields"] = pf
	}
	list, _ := pf[entity].([]any)
	for _, f := range fields {
		if !slices.Contains(list, any(f)) {
			list = append(list, f)
		}
	}
	pf[entity] = list
	return AppendJSON(nil, doc)
}

func fieldEqual(a, b Field) bool {
	return a.Type == b.Type && a.TargetClass == b.TargetClass && a.Required == b.Required &&
		string(a.DefaultValue) == string(b.DefaultValue)
}

// Delete removes a class and its schema, as DELETE /schemas/{class} does:
// {} also when the class doesn't exist, 103 for an invalid name. Unless
// force is set, a class that still has objects is refused with 255; force
// drops its objects too.
func (s *Schemas) Delete(ctx context.Context, class string, force bool) error {
	a := s.app
	if err := schemaWriteAuth(ctx); err != nil {
		return err
	}
	if !schemaClassNameValid(class) {
		return invalidClassNameError(class)
	}
	store := a.storeFor(ctx)
	err := store.DeleteClass(ctx, class, force)
	switch {
	case errors.Is(err, storage.ErrClassNotEmpty):
		n, cerr := store.Count(ctx, class, storage.Query{})
		if cerr != nil {
			return a.storeError(cerr)
		}
		return NewError(InvalidSchemaOperation, "Class %s is not empty, contains %d objects, cannot drop schema.", class, n)
	case errors.Is(err, storage.ErrClassNotFound):
	case err != nil:
		return a.storeError(err)
	}
	a.schema.remove(class)
	return nil
}

// Purge deletes every object of a class and keeps its schema, as
// DELETE /purge/{class} does; a class that doesn't exist has nothing to
// purge. Triggers don't run.
func (s *Schemas) Purge(ctx context.Context, class string) error {
	a := s.app
	if err := schemaWriteAuth(ctx); err != nil {
		return err
	}
	cl, err := a.schema.get(ctx, class)
	if err != nil {
		return a.storeError(err)
	}
	if cl == nil {
		return nil
	}
	if _, err := a.storeFor(ctx).DeleteMany(ctx, class, nil); err != nil {
		return a.storeError(err)
	}
	return nil
}

// fieldTypeValid reports the types a field may declare, beside Pointer
// and Relation.
func fieldTypeValid(t string) bool {
	switch t {
	case "String", "Number", "Boolean", "Date", "Object", "Array", "File", "GeoPoint", "Polygon", "Bytes":
		return true
	}
	return false
}

// checkNewField checks a field a schema change adds, as the reference's
// validateSchemaData does.
func (a *App) checkNewField(class, name string, f Field) error {
	if !schemaFieldNameValid(name, class) {
		return NewError(InvalidKeyName, "invalid field name: %s", name)
	}
	if a.isDefaultField(class, name) {
		return NewError(ChangedImmutableField, "field %s cannot be added", name)
	}
	switch {
	case f.Type == "Pointer" || f.Type == "Relation":
		if f.TargetClass == "" {
			return NewError(MissingRequiredField, "type %s needs a class name", f.Type)
		}
		if !schemaClassNameValid(f.TargetClass) {
			return invalidClassNameError(f.TargetClass)
		}
	case f.Type == "":
		return NewError(InvalidJSON, "invalid JSON")
	case !fieldTypeValid(f.Type):
		return NewError(IncorrectType, "invalid field type: %s", f.Type)
	}
	return checkFieldOptions(class, name, f)
}

// checkFieldOptions checks a field's default value against its type, and
// refuses the options a Relation can't have.
func checkFieldOptions(class, name string, f Field) error {
	if !hasDefault(f) {
		if f.Required && f.Type == "Relation" {
			return NewError(IncorrectType, "The 'required' option is not applicable for %s", typeString(f.Type, f.TargetClass))
		}
		return nil
	}
	var raw any
	if err := json.Unmarshal(f.DefaultValue, &raw); err != nil {
		return NewError(InvalidJSON, "invalid default value for %s", name)
	}
	v, err := DecodeValue(raw, false)
	if err != nil {
		return err
	}
	t, target := typeOf(v)
	if f.Type == "Relation" && (t == "Pointer" || t == "Relation") {
		return NewError(IncorrectType, "The 'default value' option is not applicable for %s", typeString(f.Type, f.TargetClass))
	}
	if t != f.Type || target != f.TargetClass {
		return NewError(IncorrectType, "schema mismatch for %s.%s default value; expected %s but got %s",
			class, name, typeString(f.Type, f.TargetClass), typeString(t, target))
	}
	return nil
}

func hasDefault(f Field) bool {
	return len(f.DefaultValue) > 0 && string(f.DefaultValue) != "null"
}

// checkGeoPoints enforces one GeoPoint field per class; kept and added
// name the fields in the order the reference meets them.
func checkGeoPoints(kept, added []string, fields map[string]Field) error {
	var first string
	for _, name := range slices.Concat(kept, added) {
		if fields[name].Type != "GeoPoint" {
			continue
		}
		if first != "" {
			return NewError(IncorrectType, "currently, only one GeoPoint field may exist in an object. Adding %s when %s already exists.", name, first)
		}
		first = name
	}
	return nil
}

// isDropIndex reports an index given as {"__op": "Delete"}.
func isDropIndex(keys map[string]any) bool {
	op, ok := keys["__op"]
	return ok && op == "Delete"
}

var indexNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkIndex checks an index to add: a name PostgreSQL can take, and keys
// that are fields of the class, each ascending (1) or descending (-1).
func checkIndex(name string, keys map[string]any, fields map[string]Field) error {
	if !indexNamePattern.MatchString(name) || len(name) > 48 {
		return NewError(InvalidQuery, "Invalid index name: %s", name)
	}
	if len(keys) == 0 {
		return NewError(InvalidQuery, "Index %s has no fields.", name)
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if _, ok := fields[k]; !ok {
			return NewError(InvalidQuery, "Field %s does not exist, cannot add index.", k)
		}
		switch d := keys[k].(type) {
		case float64:
			if d == 1 || d == -1 {
				continue
			}
		case int:
			if d == 1 || d == -1 {
				continue
			}
		}
		return NewError(InvalidQuery, "Index %s: %s must be 1 (ascending) or -1 (descending).", name, k)
	}
	return nil
}

// isCLPOperation reports the keys of a CLP document.
func isCLPOperation(key string) bool {
	switch key {
	case "ACL", "find", "count", "get", "create", "update", "delete", "addField",
		"readUserFields", "writeUserFields", "protectedFields":
		return true
	}
	return false
}

// emptyCLPOperations are the operations the reference shows as {} (nobody
// but the master key) when a CLP set without them is read back.
func emptyCLPOperations() []string {
	return []string{"find", "get", "count", "create", "update", "delete", "addField", "protectedFields"}
}

var autoUserIDPattern = regexp.MustCompile(`^[a-zA-Z0-9]+$`)

// checkCLP validates class-level permissions as the reference's
// validateCLP does (error 107 with its messages) against the fields the
// class will have, and returns the document to store: the operations it
// lacks added as {}, since the reference reads a CLP without them so.
// An empty or null document is nil: the defaults.
func (a *App) checkCLP(raw json.RawMessage, fields map[string]Field) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, NewError(InvalidJSON, "invalid JSON")
	}
	perms, ok := v.(map[string]any)
	if !ok {
		// The reference iterates the keys of whatever it is given: a
		// non-empty string or array has a key "0".
		switch x := v.(type) {
		case string:
			if x != "" {
				return nil, NewError(InvalidJSON, "0 is not a valid operation for class level permissions")
			}
		case []any:
			if len(x) > 0 {
				return nil, NewError(InvalidJSON, "0 is not a valid operation for class level permissions")
			}
		}
		perms = map[string]any{}
	}
	userID := func(key string) bool { return autoUserIDPattern.MatchString(key) }
	if a.cfg.AllowCustomObjectID {
		userID = func(key string) bool { return key != "" && !strings.ContainsAny(key, "\n\r\u2028\u2029") }
	}
	pointerField := func(name string) bool {
		f, ok := fields[name]
		return ok && (f.Type == "Pointer" && f.TargetClass == ClassUser || f.Type == "Array")
	}
	for _, opKey := range slices.Sorted(maps.Keys(perms)) {
		if !isCLPOperation(opKey) {
			return nil, NewError(InvalidJSON, "%s is not a valid operation for class level permissions", opKey)
		}
		op := perms[opKey]
		if opKey == "readUserFields" || opKey == "writeUserFields" {
			list, ok := op.([]any)
			if !ok {
				return nil, NewError(InvalidJSON, "'%s' is not a valid value for class level permissions %s - must be an array", jsString(op), opKey)
			}
			for _, e := range list {
				if !pointerField(jsString(e)) {
					return nil, NewError(InvalidJSON, "'%s' is not a valid column for class level pointer permissions %s", jsString(e), opKey)
				}
			}
			continue
		}
		entries, ok := jsEntries(op)
		if !ok {
			return nil, NewError(InvalidJSON, "'%s' is not a valid value for class level permissions %s - must be an object", jsString(op), opKey)
		}
		for _, e := range entries {
			entity, permit := e.key, e.value
			if opKey == "protectedFields" {
				if !(strings.HasPrefix(entity, "userField:") || entity == "*" || entity == "authenticated" ||
					strings.HasPrefix(entity, "role:") || userID(entity)) {
					return nil, NewError(InvalidJSON, "'%s' is not a valid key for class level permissions", entity)
				}
				list, ok := permit.([]any)
				if !ok {
					return nil, NewError(InvalidJSON, "'%s' is not a valid value for protectedFields[%s] - expected an array.", jsString(permit), entity)
				}
				for _, f := range list {
					name := jsString(f)
					if _, ok := defaultFields[name]; ok {
						return nil, NewError(InvalidJSON, "Default field '%s' can not be protected", name)
					}
					if _, ok := fields[name]; !ok {
						return nil, NewError(InvalidJSON, "Field '%s' in protectedFields:%s does not exist", name, entity)
					}
				}
				continue
			}
			if !(entity == "pointerFields" || entity == "*" || entity == "requiresAuthentication" ||
				strings.HasPrefix(entity, "role:") || userID(entity)) {
				return nil, NewError(InvalidJSON, "'%s' is not a valid key for class level permissions", entity)
			}
			if entity == "pointerFields" {
				list, ok := permit.([]any)
				if !ok {
					return nil, NewError(InvalidJSON, "'%s' is not a valid value for %s[%s] - expected an array.", jsString(permit), opKey, entity)
				}
				for _, f := range list {
					if !pointerField(jsString(f)) {
						// The reference names the operation as JavaScript
						// prints an object.
						return nil, NewError(InvalidJSON, "'%s' is not a valid column for class level pointer permissions [object Object]", jsString(f))
					}
				}
				continue
			}
			if opKey == "ACL" {
				acl, ok := permit.(map[string]any)
				if !ok {
					return nil, NewError(InvalidJSON, "'%s' is not a valid value for class level permissions acl", jsString(permit))
				}
				var badKeys, badValues []string
				for _, k := range slices.Sorted(maps.Keys(acl)) {
					if k != "read" && k != "write" {
						badKeys = append(badKeys, k)
					}
					if _, ok := acl[k].(bool); !ok {
						badValues = append(badValues, jsString(acl[k]))
					}
				}
				if len(badKeys) > 0 {
					return nil, NewError(InvalidJSON, "'%s' is not a valid key for class level permissions acl", strings.Join(badKeys, ","))
				}
				if len(badValues) > 0 {
					return nil, NewError(InvalidJSON, "'%s' is not a valid value for class level permissions acl", strings.Join(badValues, ","))
				}
				continue
			}
			if permit != true {
				return nil, NewError(InvalidJSON, "'%s' is not a valid value for class level permissions acl %s:%s", jsString(permit), opKey, entity)
			}
		}
	}
	for _, op := range emptyCLPOperations() {
		if _, ok := perms[op]; !ok {
			perms[op] = map[string]any{}
		}
	}
	return AppendJSON(nil, perms), nil
}

type jsEntry struct {
	key   string
	value any
}

// jsEntries lists the keys and values JavaScript's for...in meets in a
// JSON object or array (indexes as keys); ok is false for anything else.
// Object keys come sorted.
func jsEntries(v any) (entries []jsEntry, ok bool) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			entries = append(entries, jsEntry{k, x[k]})
		}
		return entries, true
	case []any:
		for i, e := range x {
			entries = append(entries, jsEntry{string(AppendJSON(nil, float64(i))), e})
		}
		return entries, true
	}
	return nil, false
}

// jsString is JavaScript's String() of a JSON value, as the reference's
// messages print values.
func jsString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool, float64:
		return string(AppendJSON(nil, x))
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if e != nil {
				parts[i] = jsString(e)
			}
		}
		return strings.Join(parts, ",")
	case map[string]any:
		return "[object Object]"
	}
	return string(AppendJSON(nil, v))
}
