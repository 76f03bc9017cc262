package parse

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"sync"

	"github.com/parsego/parse/storage"
)

// The system classes.
const (
	ClassUser         = "_User"
	ClassRole         = "_Role"
	ClassSession      = "_Session"
	ClassInstallation = "_Installation"
	ClassProduct      = "_Product"
	ClassPushStatus   = "_PushStatus"
	ClassJobStatus    = "_JobStatus"
	ClassJobSchedule  = "_JobSchedule"
	ClassHooks        = "_Hooks"
	ClassGlobalConfig = "_GlobalConfig"
	ClassAudience     = "_Audience"
	ClassIdempotency  = "_Idempotency"
)

// Field is one field's schema: its type ("String", "Number", "Boolean",
// "Date", "Object", "Array", "Pointer", "Relation", "File", "GeoPoint",
// "Polygon", "Bytes", "ACL"), the target class of a Pointer or Relation, and
// the optional required flag and default value.
type Field = storage.Field

// defaultFields are the columns every class has.
var defaultFields = map[string]Field{
	"objectId":  {Type: "String"},
	"createdAt": {Type: "Date"},
	"updatedAt": {Type: "Date"},
	"ACL":       {Type: "ACL"},
}

// systemClass describes a class parsego knows from the start.
type systemClass struct {
	fields map[string]Field
	unique []storage.Unique
}

// systemClasses returns the built-in classes with their own fields.
// It is a function, not a package variable, so no state is shared between
// Apps.
func systemClasses() map[string]systemClass {
	str, num, boolean, date, obj, arr := Field{Type: "String"}, Field{Type: "Number"}, Field{Type: "Boolean"}, Field{Type: "Date"}, Field{Type: "Object"}, Field{Type: "Array"}
	return map[string]systemClass{
		ClassUser: {fields: map[string]Field{
			"username": str, "password": str, "email": str, "emailVerified": boolean, "authData": obj,
		}, unique: []storage.Unique{{Field: "username", CaseInsensitive: true}, {Field: "email", CaseInsensitive: true}}},
		ClassInstallation: {fields: map[string]Field{
			"installationId": str, "deviceToken": str, "channels": arr, "deviceType": str, "pushType": str,
			"GCMSenderId": str, "timeZone": str, "localeIdentifier": str, "badge": num, "appVersion": str,
			"appName": str, "appIdentifier": str, "parseVersion": str,
		}, unique: []storage.Unique{{Field: "installationId"}}},
		ClassRole: {fields: map[string]Field{
			"name": str, "users": {Type: "Relation", TargetClass: ClassUser}, "roles": {Type: "Relation", TargetClass: ClassRole},
		}, unique: []storage.Unique{{Field: "name"}}},
		ClassSession: {fields: map[string]Field{
			"user": {Type: "Pointer", TargetClass: ClassUser}, "installationId": str, "sessionToken": str,
			"expiresAt": date, "createdWith": obj,
		}, unique: []storage.Unique{{Field: "sessionToken"}}},
		ClassProduct: {fields: map[string]Field{
			"productIdentifier": str, "download": {Type: "File"}, "downloadName": str, "icon": {Type: "File"},
			"order": num, "title": str, "subtitle": str,
		}},
		ClassPushStatus: {fields: map[string]Field{
			"pushTime": str, "source": str, "query": str, "payload": str, "title": str, "expiry": num,
			"expiration_interval": num, "status": str, "numSent": num, "numFailed": num, "pushHash": str,
			"errorMessage": obj, "sentPerType": obj, "failedPerType": obj, "sentPerUTCOffset": obj,
			"failedPerUTCOffset": obj, "count": num,
		}},
		ClassJobStatus: {fields: map[string]Field{
			"jobName": str, "source": str, "status": str, "message": str, "params": obj, "finishedAt": date,
		}},
		ClassJobSchedule: {fields: map[string]Field{
			"jobName": str, "description": str, "params": str, "startAfter": str, "daysOfWeek": arr,
			"timeOfDay": str, "lastRun": num, "repeatMinutes": num,
		}},
		ClassHooks:        {fields: map[string]Field{"functionName": str, "className": str, "triggerName": str, "url": str}},
		ClassGlobalConfig: {fields: map[string]Field{"params": obj, "masterKeyOnly": obj}},
		ClassAudience:     {fields: map[string]Field{"name": str, "query": str, "lastUsed": date, "timesUsed": num}},
		ClassIdempotency:  {fields: map[string]Field{"reqId": str, "expire": date}},
		ClassEventLog:     {fields: map[string]Field{"name": str, "dimensions": obj, "at": date}},
		ClassEventCount:   {fields: map[string]Field{"name": str, "day": date, "count": num}},
	}
}

// isName reports whether s names a class or a field: a letter, then
// letters, digits and underscores. A loop rather than a regexp: every
// request checks its class and every written field.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// validClassName reports whether name may name a class: a system class or
// a letter followed by letters, digits and underscores.
func (a *App) validClassName(name string) bool {
	if _, ok := a.schema.system[name]; ok {
		return true
	}
	return isName(name)
}

// checkClassName rejects an invalid class name with the code the REST API
// uses for writes to it (107: the reference's schema check swallows 103).
func (a *App) checkClassName(name string) error {
	if !a.validClassName(name) {
		return NewError(InvalidJSON, "schema class name does not revalidate")
	}
	return nil
}

// invalidClassNameError is the schema API's answer to a bad class name.
func invalidClassNameError(name string) error {
	return NewError(InvalidClassName, "Invalid classname: %s, classnames can only have alphanumeric characters and _, and must start with an alpha character ", name)
}

// schemaCache holds every class's schema. Entries are replaced, never
// mutated, so a *storage.Class taken from it can be read without a lock.
// The cache is authoritative: this App's own schema changes update it, and
// other instances' changes arrive through the store's SchemaWatcher, which
// marks it stale; a stale cache reloads on its next use.
type schemaCache struct {
	store  storage.Store
	system map[string]systemClass

	mu      sync.RWMutex
	classes map[string]*storage.Class
	stale   bool
	// clps are the decoded CLPs, each with the class it was decoded from:
	// an entry whose class was replaced since is decoded again.
	clps map[string]decodedCLP
}

type decodedCLP struct {
	from  *storage.Class
	perms *classPerms
}

func newSchemaCache(store storage.Store) *schemaCache {
	return &schemaCache{store: store, system: systemClasses(), stale: true}
}

func (c *schemaCache) load(ctx context.Context) error {
	list, err := c.store.LoadSchema(ctx)
	if err != nil {
		return err
	}
	classes := make(map[string]*storage.Class, len(list))
	for i := range list {
		if list[i].Name == classFile {
			continue // internal: the file records (filemodel.go)
		}
		classes[list[i].Name] = &list[i]
	}
	c.mu.Lock()
	c.classes, c.stale = classes, false
	c.mu.Unlock()
	return nil
}

// invalidate marks the cache stale: another writer changed class.
func (c *schemaCache) invalidate(class string) {
	c.mu.Lock()
	c.stale = true
	c.mu.Unlock()
}

// get returns a class's stored schema, or nil when the class doesn't exist.
func (c *schemaCache) get(ctx context.Context, class string) (*storage.Class, error) {
	c.mu.RLock()
	cl, stale := c.classes[class], c.stale
	c.mu.RUnlock()
	if stale {
		if err := c.load(ctx); err != nil {
			return nil, err
		}
		c.mu.RLock()
		cl = c.classes[class]
		c.mu.RUnlock()
	}
	return cl, nil
}

// perms returns a class's decoded class-level permissions (nil: none,
// everything allowed).
func (c *schemaCache) perms(ctx context.Context, class string) (*classPerms, error) {
	cl, err := c.get(ctx, class)
	if err != nil || cl == nil {
		return decodeCLP(class, nil), err
	}
	c.mu.RLock()
	d, ok := c.clps[class]
	c.mu.RUnlock()
	if ok && d.from == cl {
		return d.perms, nil
	}
	d = decodedCLP{from: cl, perms: decodeCLP(class, cl.CLP)}
	c.mu.Lock()
	if c.clps == nil {
		c.clps = map[string]decodedCLP{}
	}
	c.clps[class] = d
	c.mu.Unlock()
	return d.perms, nil
}

// put records a class as the store returned it.
func (c *schemaCache) put(cl storage.Class) {
	c.mu.Lock()
	c.classes[cl.Name] = &cl
	c.mu.Unlock()
}

func (c *schemaCache) remove(class string) {
	c.mu.Lock()
	delete(c.classes, class)
	c.mu.Unlock()
}

// all returns every class, sorted by name.
func (c *schemaCache) all(ctx context.Context) ([]*storage.Class, error) {
	if _, err := c.get(ctx, ""); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*storage.Class, 0, len(c.classes))
	for _, k := range sortedKeys(c.classes) {
		out = append(out, c.classes[k])
	}
	return out, nil
}

// fieldOf returns a field's schema in a class, nil when it has none. The
// default fields are known even when the class doesn't exist yet.
func fieldOf(cl *storage.Class, name string) *Field {
	if f, ok := defaultFields[name]; ok {
		return &f
	}
	if cl == nil {
		return nil
	}
	if f, ok := cl.Fields[name]; ok {
		return &f
	}
	return nil
}

// typeString renders a field type as the reference's messages do:
// "Pointer<_User>", "Relation<Tag>", "Number".
func typeString(t, target string) string {
	if target != "" {
		return t + "<" + target + ">"
	}
	return t
}

// ensureClass returns a class's schema, creating the class with the
// system class's fields when it is a system class that doesn't exist yet,
// or an empty one for a client class (when the caller may create classes).
func (a *App) ensureClass(ctx context.Context, class string) (*storage.Class, error) {
	cl, err := a.schema.get(ctx, class)
	if err != nil || cl != nil {
		return cl, err
	}
	return a.addFields(ctx, class, nil)
}

// addFields adds fields to a class (creating it when missing) and caches
// the result.
func (a *App) addFields(ctx context.Context, class string, fields map[string]Field) (*storage.Class, error) {
	auth := AuthFrom(ctx)
	cl, err := a.schema.get(ctx, class)
	if err != nil {
		return nil, err
	}
	if cl == nil {
		sys, isSystem := a.schema.system[class]
		if !isSystem && !auth.Master {
			settings, err := a.Settings(ctx)
			if err != nil {
				return nil, err
			}
			if !settings.ClientClassCreationEnabled {
				return nil, NewError(OperationForbidden, "This user is not allowed to access non-existent class: %s", class)
			}
		}
		all := maps.Clone(sys.fields)
		if all == nil {
			all = map[string]Field{}
		}
		maps.Copy(all, fields)
		created, err := a.storeFor(ctx).CreateClass(ctx, storage.Class{Name: class, Fields: all, Unique: sys.unique})
		if err == nil {
			a.schema.put(created)
			return &created, nil
		}
		if !errors.Is(err, storage.ErrClassExists) {
			return nil, a.storeError(err)
		}
		// Another writer created it first: add to theirs.
	}
	stored, err := a.storeFor(ctx).AddFields(ctx, class, fields)
	if err != nil {
		return nil, a.storeError(err)
	}
	a.schema.put(stored)
	return &stored, nil
}

// ensureFields checks the types of written fields against the class's
// schema and adds the fields it lacks, creating the class when needed. It
// returns the class as stored.
func (a *App) ensureFields(ctx context.Context, class string, types map[string]Field) (*storage.Class, error) {
	cl, err := a.schema.get(ctx, class)
	if err != nil {
		return nil, a.storeError(err)
	}
	var missing map[string]Field
	for name, t := range types {
		if f := fieldOf(cl, name); f != nil {
			if err := typeMatch(class, name, *f, t); err != nil {
				return nil, err
			}
			continue
		}
		if missing == nil {
			missing = map[string]Field{}
		}
		missing[name] = t
	}
	if cl != nil && missing == nil {
		return cl, nil
	}
	if cl != nil {
		if _, err := a.classAccess(ctx, AuthFrom(ctx), class, "addField"); err != nil {
			return nil, err
		}
	}
	if err := geoPointLimit(cl, missing); err != nil {
		return nil, err
	}
	cl, err = a.addFields(ctx, class, missing)
	if err != nil {
		return nil, err
	}
	// Another writer may have added the same field with another type first.
	for name, t := range missing {
		if f := fieldOf(cl, name); f != nil {
			if err := typeMatch(class, name, *f, t); err != nil {
				return nil, err
			}
		}
	}
	return cl, nil
}

// geoPointLimit enforces Parse's one GeoPoint field per class.
func geoPointLimit(cl *storage.Class, adding map[string]Field) error {
	var existing, added string
	if cl != nil {
		for name, f := range cl.Fields {
			if f.Type == "GeoPoint" {
				existing = name
			}
		}
	}
	for name, f := range adding {
		if f.Type != "GeoPoint" {
			continue
		}
		if existing != "" || added != "" {
			other := existing
			if other == "" {
				other = added
			}
			return NewError(IncorrectType, "currently, only one GeoPoint field may exist in an object. Adding %s when %s already exists.", name, other)
		}
		added = name
	}
	return nil
}

func typeMatch(class, name string, want, got Field) error {
	if want.Type == got.Type && (want.TargetClass == got.TargetClass || got.TargetClass == "" && got.Type != "Pointer" && got.Type != "Relation") {
		return nil
	}
	return NewError(IncorrectType, "schema mismatch for %s.%s; expected %s but got %s",
		class, name, typeString(want.Type, want.TargetClass), typeString(got.Type, got.TargetClass))
}

// checkFieldType reports a value whose type differs from a known field's.
func (a *App) checkFieldType(class, name string, want Field, v any) error {
	if v == nil {
		return nil
	}
	if _, isOp := v.(*Op); isOp {
		return NewError(IncorrectType, "schema mismatch for %s.%s; expected %s but got an operator", class, name, want.Type)
	}
	t, target := typeOf(v)
	return typeMatch(class, name, want, Field{Type: t, TargetClass: target})
}

// applyDefaults sets schema default values of fields the object lacks and
// reports missing required fields.
func applyDefaults(cl *storage.Class, fields map[string]any) error {
	if cl == nil {
		return nil
	}
	for name, f := range cl.Fields {
		if _, ok := fields[name]; ok {
			continue
		}
		if len(f.DefaultValue) > 0 {
			var raw any
			if err := json.Unmarshal(f.DefaultValue, &raw); err == nil {
				if v, err := DecodeValue(raw, false); err == nil && v != nil {
					fields[name] = v
					continue
				}
			}
		}
		if f.Required {
			return NewError(ValidationError, "%s is required", name)
		}
	}
	return nil
}

// checkRequiredKept refuses an update that removes a required field.
func checkRequiredKept(cl *storage.Class, ops []storage.Op) error {
	if cl == nil {
		return nil
	}
	for _, op := range ops {
		if f, ok := cl.Fields[op.Field]; ok && f.Required && op.Kind == storage.OpDelete {
			return NewError(ValidationError, "%s is required", op.Field)
		}
	}
	return nil
}
