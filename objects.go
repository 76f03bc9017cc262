package parse

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/parsego/parse/storage"
)

// Objects creates, reads, updates and deletes objects. Its methods act as
// the identity the context carries (WithAuth), the master key by default.
type Objects struct{ app *App }

// Create saves a new object with the given fields, which may hold the
// values listed in values.go, including operators (an Increment stores its
// amount, Add and AddUnique their objects, AddRelation links the related
// objects). It returns the object as stored.
func (s *Objects) Create(ctx context.Context, class string, fields map[string]any) (*Object, error) {
	objs, errs := s.CreateMany(ctx, class, []map[string]any{fields})
	return objs[0], errs[0]
}

// CreateMany saves several new objects of one class, in one round trip when
// they all succeed; each gets its own error otherwise. It returns the
// objects (nil where their error is not) and the errors, index by index.
func (s *Objects) CreateMany(ctx context.Context, class string, list []map[string]any) ([]*Object, []error) {
	a := s.app
	objs, errs := make([]*Object, len(list)), make([]error, len(list))
	fail := func(err error) ([]*Object, []error) {
		for i := range errs {
			errs[i] = err
		}
		return objs, errs
	}
	if err := a.checkClassName(class); err != nil {
		return fail(err)
	}
	auth := AuthFrom(ctx)
	if err := a.checkWritable(auth, class, "create"); err != nil {
		return fail(err)
	}
	if class != ClassSession && class != ClassUser && class != ClassInstallation { // their services check theirs
		if _, err := a.classAccess(ctx, auth, class, "create"); err != nil {
			return fail(err)
		}
	}
	if class == ClassAudience {
		// Rare writes: one by one, so that a bad query fails its own.
		for i, fields := range list {
			if errs[i] = checkAudienceWrite(fields); errs[i] == nil {
				o, e := a.createMany(ctx, class, list[i:i+1])
				objs[i], errs[i] = o[0], e[0]
			}
		}
		return objs, errs
	}
	if class == ClassUser || class == ClassSession || class == ClassInstallation {
		// Users sign up, sessions get tokens and installations are
		// de-duplicated: one by one, through their services.
		for i, fields := range list {
			switch class {
			case ClassUser:
				objs[i], errs[i] = a.Users.SignUp(ctx, fields)
			case ClassSession:
				objs[i], errs[i] = a.Sessions.Create(ctx, fields)
			default:
				objs[i], _, errs[i] = a.Installations.Save(ctx, fields)
			}
		}
		return objs, errs
	}
	return a.createMany(ctx, class, list)
}

// createMany stores new objects the caller may create.
func (a *App) createMany(ctx context.Context, class string, list []map[string]any) ([]*Object, []error) {
	objs, errs := make([]*Object, len(list)), make([]error, len(list))
	now := time.Now().UTC().Truncate(time.Millisecond)
	writes := make([]*write, len(list))
	for i, fields := range list {
		fields, _, err := a.beforeSave(ctx, class, "", fields)
		if err != nil {
			errs[i] = err
			continue
		}
		if class == ClassRole {
			if errs[i] = checkRoleCreate(fields); errs[i] != nil {
				continue
			}
		}
		w, err := a.prepareCreate(ctx, class, fields, now)
		if err != nil {
			errs[i] = err
			continue
		}
		writes[i] = w
	}
	var (
		ws    []*write
		batch []storage.Object
		idx   []int // index in list of each write in ws
	)
	for i, w := range writes {
		if w != nil {
			ws, batch, idx = append(ws, w), append(batch, w.stored), append(idx, i)
		}
	}
	if len(batch) == 0 {
		return objs, errs
	}
	err := a.insert(ctx, class, ws, batch)
	if class == ClassRole {
		defer a.rolesChanged(ctx)
	}
	if err != nil && len(batch) > 1 {
		// One object failed the shared insert: save each on its own so the
		// others still land and the culprit gets its own error.
		for _, i := range idx {
			w := writes[i]
			if err := a.insert(ctx, class, []*write{w}, []storage.Object{w.stored}); err != nil {
				errs[i] = a.writeError(class, err)
			} else {
				objs[i] = w.result()
				a.afterSave(ctx, class, objs[i], nil)
			}
		}
		return objs, errs
	}
	for _, i := range idx {
		if err != nil {
			errs[i] = a.writeError(class, err)
		} else {
			objs[i] = writes[i].result()
		}
	}
	for _, o := range objs {
		if o != nil {
			a.afterSave(ctx, class, o, nil)
		}
	}
	return objs, errs
}

// insert stores new objects in one statement, with their relation links
// in the same transaction when they have any.
func (a *App) insert(ctx context.Context, class string, ws []*write, objs []storage.Object) error {
	store := a.storeFor(ctx)
	if !slices.ContainsFunc(ws, func(w *write) bool { return len(w.relations) > 0 }) {
		return store.Insert(ctx, class, objs...)
	}
	return store.Tx(ctx, func(tx storage.Store) error {
		if err := tx.Insert(ctx, class, objs...); err != nil {
			return err
		}
		for _, w := range ws {
			if err := w.linkRelations(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
}

// write is one object write, validated and encoded for the store.
type write struct {
	class     string
	cl        *storage.Class
	id        string
	stored    storage.Object
	fields    map[string]any // the object's fields after the write, for the result
	acl       ACL
	relations []relationOp
}

type relationOp struct {
	field  string
	add    bool
	target []string
}

func (w *write) linkRelations(ctx context.Context, st storage.Store) error {
	for _, r := range w.relations {
		rel := storage.Relation{OwningClass: w.class, Field: r.field, OwningID: w.id}
		var err error
		if r.add {
			err = st.AddRelation(ctx, rel, r.target...)
		} else {
			err = st.RemoveRelation(ctx, rel, r.target...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *write) result() *Object {
	o := &Object{
		ClassName: w.class, ID: w.id, CreatedAt: w.stored.CreatedAt, UpdatedAt: w.stored.UpdatedAt,
		ACL: w.acl, Fields: w.fields,
	}
	addRelationFields(o, w.cl)
	return o
}

// prepareCreate validates a new object's fields against the schema (adding
// the fields it lacks) and encodes them.
func (a *App) prepareCreate(ctx context.Context, class string, in map[string]any, now time.Time) (*write, error) {
	w := &write{class: class, fields: make(map[string]any, len(in))}
	types := make(map[string]Field, len(in))
	for k, v := range in {
		v, err := normalize(v)
		if err != nil {
			return nil, err
		}
		switch k {
		case "objectId":
			id, ok := v.(string)
			if !a.cfg.AllowCustomObjectID || !ok || id == "" {
				return nil, NewError(InvalidKeyName, "objectId is an invalid field name.")
			}
			w.id = id
			continue
		case "createdAt", "updatedAt":
			// Clients can't set the timestamps; a value of the wrong type is
			// still reported, as the reference does.
			if err := a.checkFieldType(class, k, Field{Type: "Date"}, v); err != nil {
				return nil, err
			}
			continue
		case "ACL":
			acl, err := toACL(v)
			if err != nil {
				return nil, err
			}
			w.acl = acl
			continue
		}
		if !isName(k) {
			return nil, NewError(InvalidKeyName, "Invalid field name: %s.", k)
		}
		if err := checkNestedKeys(v); err != nil {
			return nil, err
		}
		if op, ok := v.(*Op); ok {
			switch op.Kind {
			case OpIncrement:
				v = op.Amount
			case OpAdd, OpAddUnique:
				v = uniqueIf(op.Kind == OpAddUnique, op.Objects)
			case OpRemove:
				v = []any{}
			case OpDelete:
				continue
			case OpAddRelation, OpRemoveRelation, "Batch":
				r, f, err := relationOps(k, op)
				if err != nil {
					return nil, err
				}
				types[k] = f
				for _, ro := range r {
					if ro.add {
						w.relations = append(w.relations, ro)
					}
				}
				continue
			}
		}
		if v == nil {
			continue
		}
		t, target := typeOf(v)
		types[k] = Field{Type: t, TargetClass: target}
		w.fields[k] = v
	}
	cl, err := a.ensureFields(ctx, class, types)
	if err != nil {
		return nil, err
	}
	w.cl = cl
	if err := applyDefaults(cl, w.fields); err != nil {
		return nil, err
	}
	if w.id == "" {
		w.id = newObjectID()
	}
	read, wr := w.acl.perms()
	doc := appendStoredFields(nil, w.fields)
	if len(doc) > a.cfg.Limits.MaxObjectBytes {
		return nil, NewError(ObjectTooLarge, "object is too large")
	}
	w.stored = storage.Object{ID: w.id, CreatedAt: now, UpdatedAt: now, ReadPerm: read, WritePerm: wr, Data: doc}
	a.fillFileURLs(w.fields)
	return w, nil
}

// Get returns one object by ID; 101 when it doesn't exist or the caller may
// not read it.
func (s *Objects) Get(ctx context.Context, class, id string) (*Object, error) {
	return s.app.Query(class).Get(ctx, id)
}

// Update applies fields (values or operators) to an object and returns it
// as stored afterwards. Fields not given keep their values; a nil value or
// the Delete operator removes a field. Keys may be dot paths into Object
// fields ("stats.wins").
func (s *Objects) Update(ctx context.Context, class, id string, fields map[string]any) (*Object, error) {
	a := s.app
	if err := a.checkClassName(class); err != nil {
		return nil, err
	}
	auth := AuthFrom(ctx)
	if err := a.checkWritable(auth, class, "update"); err != nil {
		return nil, err
	}
	switch class {
	case ClassUser:
		return a.Users.Update(ctx, id, fields)
	case ClassSession:
		return a.Sessions.Update(ctx, id, fields)
	case ClassInstallation:
		return a.Installations.Update(ctx, id, fields)
	case ClassRole:
		if err := checkRoleUpdate(auth, fields); err != nil {
			return nil, err
		}
		defer a.rolesChanged(ctx)
	case ClassAudience:
		if err := checkAudienceWrite(fields); err != nil {
			return nil, err
		}
	}
	where, err := a.classAccess(ctx, auth, class, "update")
	if err != nil {
		return nil, err
	}
	fields, orig, err := a.beforeSave(ctx, class, id, fields)
	if err != nil {
		return nil, err
	}
	saved, err := a.updateObject(ctx, class, id, fields, writeOpts{where: where})
	if err != nil {
		return nil, err
	}
	a.afterSave(ctx, class, saved, orig)
	return saved, nil
}

// writeOpts are what the Users and Sessions services add to a generic
// write.
type writeOpts struct {
	// hidden are internal fields (_hashed_password) written beside the
	// object's own; a nil value removes one.
	hidden map[string]any
	// where is an extra condition the object must match (update).
	where storage.Cond
	// anyWriter skips the ACL check: where does the access control.
	anyWriter bool
}

// updateObject applies an update the caller was allowed to make.
func (a *App) updateObject(ctx context.Context, class, id string, fields map[string]any, opts writeOpts) (*Object, error) {
	auth := AuthFrom(ctx)
	u := storage.Update{UpdatedAt: time.Now().UTC().Truncate(time.Millisecond), WritePerm: auth.writePerms(), Where: opts.where}
	if opts.anyWriter {
		u.WritePerm = nil
	}
	for _, k := range sortedKeys(opts.hidden) {
		op, err := fieldOp(k, opts.hidden[k])
		if err != nil {
			return nil, err
		}
		u.Ops = append(u.Ops, op)
	}
	types := make(map[string]Field, len(fields))
	var relations []relationOp
	for k, v := range fields {
		v, err := normalize(v)
		if err != nil {
			return nil, err
		}
		switch k {
		case "objectId":
			if v != id {
				return nil, NewError(InvalidKeyName, "objectId is an invalid field name.")
			}
			continue
		case "createdAt", "updatedAt":
			if err := a.checkFieldType(class, k, Field{Type: "Date"}, v); err != nil {
				return nil, err
			}
			continue
		case "ACL":
			acl, err := toACL(v)
			if err != nil {
				return nil, err
			}
			u.SetACL = true
			u.NewReadPerm, u.NewWritePerm = acl.perms()
			continue
		}
		top, _, nested := strings.Cut(k, ".")
		if !isName(top) {
			return nil, NewError(InvalidKeyName, "Invalid field name: %s.", k)
		}
		if err := checkNestedKeys(v); err != nil {
			return nil, err
		}
		if nested {
			// A dot path writes inside an Object field.
			types[top] = Field{Type: "Object"}
			op, err := fieldOp(k, v)
			if err != nil {
				return nil, err
			}
			u.Ops = append(u.Ops, op)
			continue
		}
		if op, ok := v.(*Op); ok {
			switch op.Kind {
			case OpAddRelation, OpRemoveRelation, "Batch":
				r, f, err := relationOps(k, op)
				if err != nil {
					return nil, err
				}
				types[k] = f
				relations = append(relations, r...)
				continue
			case OpIncrement:
				types[k] = Field{Type: "Number"}
			case OpAdd, OpAddUnique, OpRemove:
				types[k] = Field{Type: "Array"}
			}
		} else if v != nil {
			t, target := typeOf(v)
			types[k] = Field{Type: t, TargetClass: target}
		}
		op, err := fieldOp(k, v)
		if err != nil {
			return nil, err
		}
		u.Ops = append(u.Ops, op)
	}
	cl, err := a.ensureFields(ctx, class, types)
	if err != nil {
		return nil, err
	}
	if err := checkRequiredKept(cl, u.Ops); err != nil {
		return nil, err
	}
	var stored storage.Object
	update := func(st storage.Store) error {
		var err error
		if stored, err = st.Update(ctx, class, id, u); err != nil {
			return err
		}
		w := &write{class: class, id: id, relations: relations}
		return w.linkRelations(ctx, st)
	}
	if len(relations) == 0 {
		err = update(a.storeFor(ctx))
	} else {
		err = a.storeFor(ctx).Tx(ctx, update)
	}
	if err != nil {
		return nil, a.writeError(class, err)
	}
	return a.decodeStoredWith(cl, class, stored)
}

// fieldOp turns one update value into a store operator.
func fieldOp(field string, v any) (storage.Op, error) {
	op, isOp := v.(*Op)
	if !isOp {
		if v == nil {
			return storage.Op{Field: field, Kind: storage.OpDelete}, nil
		}
		return storage.Op{Field: field, Kind: storage.OpSet, Value: appendStored(nil, v)}, nil
	}
	switch op.Kind {
	case OpIncrement:
		return storage.Op{Field: field, Kind: storage.OpIncrement, Value: appendFloat(nil, op.Amount)}, nil
	case OpAdd:
		return storage.Op{Field: field, Kind: storage.OpAdd, Value: appendStored(nil, op.Objects)}, nil
	case OpAddUnique:
		return storage.Op{Field: field, Kind: storage.OpAddUnique, Value: appendStored(nil, op.Objects)}, nil
	case OpRemove:
		return storage.Op{Field: field, Kind: storage.OpRemove, Value: appendStored(nil, op.Objects)}, nil
	case OpDelete:
		return storage.Op{Field: field, Kind: storage.OpDelete}, nil
	}
	return storage.Op{}, NewError(InvalidJSON, "the %s operator does not apply to %s", op.Kind, field)
}

// relationOps validates a relation operator (or a Batch of them) and
// returns the links to make and the field type it implies.
func relationOps(field string, op *Op) ([]relationOp, Field, error) {
	ops := []*Op{op}
	if op.Kind == "Batch" {
		ops = []*Op{op.Objects[0].(*Op), op.Objects[1].(*Op)}
	}
	var target string
	var out []relationOp
	for _, o := range ops {
		ro := relationOp{field: field, add: o.Kind == OpAddRelation}
		for _, e := range o.Objects {
			var p Pointer
			switch e := e.(type) {
			case Pointer:
				p = e
			case *Object:
				p = e.Pointer()
			default:
				return nil, Field{}, NewError(InvalidJSON, "%s objects must be Pointers", o.Kind)
			}
			if target == "" {
				target = p.ClassName
			} else if p.ClassName != target {
				return nil, Field{}, NewError(IncorrectType, "Tried to create a relation with pointers of different classes: %s and %s", target, p.ClassName)
			}
			ro.target = append(ro.target, p.ObjectID)
		}
		if len(ro.target) > 0 {
			out = append(out, ro)
		}
	}
	return out, Field{Type: "Relation", TargetClass: target}, nil
}

// Delete removes an object; 101 when it doesn't exist or the caller may not
// write it.
func (s *Objects) Delete(ctx context.Context, class, id string) error {
	a := s.app
	if err := a.checkClassName(class); err != nil {
		return err
	}
	auth := AuthFrom(ctx)
	if err := a.checkWritable(auth, class, "delete"); err != nil {
		return err
	}
	switch class {
	case ClassUser:
		return a.Users.Delete(ctx, id)
	case ClassSession:
		return a.Sessions.Delete(ctx, id)
	case ClassRole:
		defer a.rolesChanged(ctx)
	}
	where, err := a.classAccess(ctx, auth, class, "delete")
	if err != nil {
		return err
	}
	o, err := a.beforeDelete(ctx, class, id)
	if err != nil {
		return err
	}
	if err := a.storeFor(ctx).Delete(ctx, class, id, auth.writePerms(), where); err != nil {
		return a.writeError(class, err)
	}
	a.afterDelete(ctx, class, o)
	return nil
}

// checkWritable refuses writes the caller's key can never make.
func (a *App) checkWritable(auth Auth, class, action string) error {
	if auth.ReadOnly {
		return NewError(OperationForbidden, "read-only masterKey isn't allowed to perform the %s operation.", action)
	}
	if auth.Restricted && !auth.Master && (class == ClassUser || class == ClassSession || class == ClassRole) {
		// The REST guide's rule for restricted sessions; the reference
		// records the flag but does not enforce it.
		return NewError(OperationForbidden, "A restricted session cannot %s %s objects.", action, class)
	}
	// Deleting an installation is the master key's only, as are the
	// classes of masterOnlyClass.
	if !auth.Master && (masterOnlyClass(class) || class == ClassInstallation && action == "delete") {
		return errMasterOnlyClass()
	}
	return nil
}

// errMasterOnlyClass refuses clients the classes only the master key may
// read or write (job statuses, hooks, config...), as the reference does.
func errMasterOnlyClass() error { return NewError(OperationForbidden, "Permission denied") }

// writePerms is the ACL identity writes are checked against.
func (a Auth) writePerms() []string { return a.readPerms() }
