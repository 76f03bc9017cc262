package parse

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/parsego/parse/storage"
)

// Query finds objects of one class. Build it with App.Query and its
// chainable methods, or from the REST wire form with App.DecodeQuery; both
// end in the same model. The first error met while building is returned by
// Find, Count and Get.
//
//	scores, err := app.Query("GameScore").EqualTo("playerName", "Sean").Order("-score").Limit(20).Find(ctx)
type Query struct {
	app   *App
	class string
	where storage.And
	raw   []map[string]any // REST where documents, decoded at run time with the schema
	order []storage.Sort
	limit int // -1: the default limit
	skip  int
	count bool

	keys        []string // nil: every field
	excludeKeys []string
	include     []string
	err         error

	// anyReader skips the ACL check: a class rule restricted the query
	// instead (a client's sessions are its own). restricted records that
	// the class rules were applied.
	anyReader, restricted bool
	// allowed are the operations whose class-level permission passed.
	allowed []string
	// hidden are the class's fields protected from the caller (see
	// restrict); userHidden, the "userField:" sets that apply to the
	// objects pointing to the caller (objectHidden).
	hidden     []string
	userHidden map[string][]string
	// triggered records that the beforeFind trigger ran.
	triggered bool
}

// Query starts a query on class.
func (a *App) Query(class string) *Query { return &Query{app: a, class: class, limit: -1} }

// Class returns the queried class.
func (q *Query) Class() string { return q.class }

func (q *Query) fail(err error) *Query {
	if q.err == nil {
		q.err = err
	}
	return q
}

// Where adds constraints in the REST API's where syntax
// ({"score": {"$gte": 1000}, "cheatMode": false}).
func (q *Query) Where(where map[string]any) *Query {
	q.raw = append(q.raw, where)
	return q
}

// EqualTo requires field to equal value (or, for an array field, to contain it).
func (q *Query) EqualTo(field string, value any) *Query {
	return q.Where(map[string]any{field: map[string]any{"$eq": value}})
}

// NotEqualTo requires field to differ from value.
func (q *Query) NotEqualTo(field string, value any) *Query {
	return q.Where(map[string]any{field: map[string]any{"$ne": value}})
}

// LessThan requires field < value.
func (q *Query) LessThan(field string, value any) *Query {
	return q.Where(map[string]any{field: map[string]any{"$lt": value}})
}

// LessThanOrEqualTo requires field <= value.
func (q *Query) LessThanOrEqualTo(field string, value any) *Query {
	return q.Where(map[string]any{field: map[string]any{"$lte": value}})
}

// GreaterThan requires field > value.
func (q *Query) GreaterThan(field string, value any) *Query {
	return q.Where(map[string]any{field: map[string]any{"$gt": value}})
}

// GreaterThanOrEqualTo requires field >= value.
func (q *Query) GreaterThanOrEqualTo(field string, value any) *Query {
	return q.Where(map[string]any{field: map[string]any{"$gte": value}})
}

// ContainedIn requires field to equal one of values.
func (q *Query) ContainedIn(field string, values ...any) *Query {
	return q.Where(map[string]any{field: map[string]any{"$in": values}})
}

// NotContainedIn requires field to equal none of values.
func (q *Query) NotContainedIn(field string, values ...any) *Query {
	return q.Where(map[string]any{field: map[string]any{"$nin": values}})
}

// Exists requires field to be set.
func (q *Query) Exists(field string) *Query {
	return q.Where(map[string]any{field: map[string]any{"$exists": true}})
}

// DoesNotExist requires field to be unset.
func (q *Query) DoesNotExist(field string) *Query {
	return q.Where(map[string]any{field: map[string]any{"$exists": false}})
}

// Order sets the sort order: field names, "-" for descending, several in
// one comma-separated string or as several arguments.
func (q *Query) Order(fields ...string) *Query {
	q.order = nil
	for _, f := range fields {
		for _, name := range strings.Split(f, ",") {
			name = strings.TrimSpace(name)
			desc := strings.HasPrefix(name, "-")
			name = strings.TrimPrefix(name, "-")
			if name == "" || name == "$score" {
				continue
			}
			if !validKeyPath(name) {
				return q.fail(NewError(InvalidKeyName, "Invalid field name: %s.", name))
			}
			q.order = append(q.order, storage.Sort{Field: name, Desc: desc})
		}
	}
	return q
}

// Limit caps the number of results (default 100; 0 returns none, for a
// count alone).
func (q *Query) Limit(n int) *Query {
	if n < 0 {
		return q.fail(NewError(InvalidQuery, "Invalid limit: %d", n))
	}
	q.limit = n
	return q
}

// Skip skips the first n results.
func (q *Query) Skip(n int) *Query {
	if n < 0 {
		return q.fail(NewError(InvalidQuery, "Invalid skip: %d", n))
	}
	q.skip = n
	return q
}

// Keys restricts results to these fields (objectId, createdAt, updatedAt
// and ACL always come). A dot path "author.name" includes author with only
// its name.
func (q *Query) Keys(fields ...string) *Query {
	q.keys = append(q.keys, splitList(fields)...)
	if q.keys == nil {
		q.keys = []string{}
	}
	return q
}

// ExcludeKeys leaves these fields out of results.
func (q *Query) ExcludeKeys(fields ...string) *Query {
	q.excludeKeys = append(q.excludeKeys, splitList(fields)...)
	return q
}

// Include replaces the pointers at these paths ("author", "post.author")
// with the objects they point to.
func (q *Query) Include(paths ...string) *Query {
	q.include = append(q.include, splitList(paths)...)
	return q
}

// WithCount makes the REST find also report the total count.
func (q *Query) WithCount(count bool) *Query {
	q.count = count
	return q
}

// CountRequested reports whether the query asked for a count.
func (q *Query) CountRequested() bool { return q.count }

func splitList(list []string) []string {
	var out []string
	for _, s := range list {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// build turns the query into the store's form, decoding REST where
// documents against the class's schema.
func (q *Query) build(ctx context.Context) (storage.Query, error) {
	if q.err != nil {
		return storage.Query{}, q.err
	}
	where := slices.Clone(q.where)
	for _, raw := range q.raw {
		if r, err := q.resolveRelational(ctx, q.class, raw); err != nil { // see where_subquery.go
			return storage.Query{}, err
		} else if r != nil {
			raw = r
		}
		c, err := decodeWhere(raw)
		if err != nil {
			return storage.Query{}, err
		}
		where = append(where, c)
	}
	sq := storage.Query{ReadPerm: AuthFrom(ctx).readPerms(), Order: q.order, Skip: q.skip}
	if q.anyReader {
		sq.ReadPerm = nil
	}
	switch len(where) {
	case 0:
	case 1:
		sq.Where = where[0]
	default:
		sq.Where = where
	}
	sq.Limit = q.limit
	if q.limit < 0 {
		sq.Limit = q.app.cfg.Limits.DefaultQueryLimit
	}
	if max := q.app.cfg.Limits.MaxQueryLimit; max > 0 && sq.Limit > max {
		sq.Limit = max
	}
	return sq, nil
}

// Find runs the query.
func (q *Query) Find(ctx context.Context) ([]*Object, error) {
	cl, rows, err := q.rows(ctx)
	if err != nil {
		return nil, err
	}
	objs, err := q.objects(ctx, cl, rows)
	if err != nil {
		return nil, err
	}
	return q.afterFind(ctx, objs)
}

// beforeFind runs the class's beforeFind trigger on q, once.
func (q *Query) beforeFind(ctx context.Context) error {
	if q.triggered || q.err != nil {
		return q.err
	}
	q.triggered = true
	return q.app.Triggers.run(ctx, TriggerBeforeFind, q.class, &TriggerRequest{Query: q})
}

// afterFind runs the class's afterFind trigger on results and returns
// the results it leaves.
func (q *Query) afterFind(ctx context.Context, objs []*Object) ([]*Object, error) {
	if !q.app.Triggers.exists(ctx, TriggerAfterFind, q.class) {
		return objs, nil
	}
	req := &TriggerRequest{Objects: objs}
	if err := q.app.Triggers.run(ctx, TriggerAfterFind, q.class, req); err != nil {
		return nil, err
	}
	return req.Objects, nil
}

// objects decodes the rows q found and applies its include, keys and the
// class rules.
func (q *Query) objects(ctx context.Context, cl *storage.Class, rows []storage.Object) ([]*Object, error) {
	out := make([]*Object, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = q.app.decodeStoredWith(cl, q.class, r); err != nil {
			return nil, err
		}
	}
	return out, q.finish(ctx, out)
}

// AppendFind runs the query and appends its results to b in REST encoding,
// separated by commas: the elements of a JSON array, as Find's objects
// would encode. It is the wire's find: where a stored document is already
// its own REST encoding (a plain class, no keys or include, no Files, no
// protected fields), it is copied into b without being decoded.
func (q *Query) AppendFind(ctx context.Context, b []byte) ([]byte, error) {
	cl, rows, err := q.rows(ctx)
	if err != nil {
		return b, err
	}
	// Known only now: rows applied the class rules.
	if !q.plain() || q.app.Triggers.exists(ctx, TriggerAfterFind, q.class) {
		objs, err := q.objects(ctx, cl, rows)
		if err == nil {
			objs, err = q.afterFind(ctx, objs)
		}
		if err != nil {
			return b, err
		}
		for i, o := range objs {
			if i > 0 {
				b = append(b, ',')
			}
			b = o.AppendJSON(b)
		}
		return b, nil
	}
	rels := relationMembers(cl)
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = q.app.appendStoredJSON(b, cl, q.class, r, rels); err != nil {
			return b, err
		}
	}
	return b, nil
}

// plain reports whether q's results are its stored objects unchanged:
// nothing to include, project or hide, and no class rule that rewrites
// what is read (the system classes).
func (q *Query) plain() bool {
	return q.keys == nil && len(q.include) == 0 && len(q.excludeKeys) == 0 && len(q.hidden) == 0 && len(q.userHidden) == 0 &&
		!strings.HasPrefix(q.class, "_")
}

// rows runs q in the store and returns its rows with the class's schema.
func (q *Query) rows(ctx context.Context) (*storage.Class, []storage.Object, error) {
	if err := q.beforeFind(ctx); err != nil {
		return nil, nil, err
	}
	if err := q.restrict(ctx, "find"); err != nil {
		return nil, nil, err
	}
	if q.class == classFile {
		return nil, []storage.Object{}, nil // internal: no class of the API (filemodel.go)
	}
	sq, err := q.build(ctx)
	if err != nil {
		return nil, nil, err
	}
	if sq.Limit == 0 && q.limit == 0 {
		return nil, []storage.Object{}, nil
	}
	a := q.app
	cl, err := a.schema.get(ctx, q.class)
	if err != nil {
		return nil, nil, a.storeError(err)
	}
	rows, err := a.storeFor(ctx).Find(ctx, q.class, sq)
	if err != nil {
		return nil, nil, a.storeError(err)
	}
	return cl, rows, nil
}

// Count returns how many objects match, ignoring limit and skip.
func (q *Query) Count(ctx context.Context) (int64, error) {
	if err := q.beforeFind(ctx); err != nil {
		return 0, err
	}
	if err := q.restrict(ctx, "count"); err != nil {
		return 0, err
	}
	if q.class == classFile {
		return 0, nil // internal: no class of the API (filemodel.go)
	}
	sq, err := q.build(ctx)
	if err != nil {
		return 0, err
	}
	n, err := q.app.storeFor(ctx).Count(ctx, q.class, sq)
	return n, q.app.storeError(err)
}

// Get returns the object with the given ID if the query's caller may read
// it; 101 otherwise. Keys and Include apply.
func (q *Query) Get(ctx context.Context, id string) (*Object, error) {
	if q.err != nil {
		return nil, q.err
	}
	a := q.app
	if !a.validClassName(q.class) {
		return nil, NewError(ObjectNotFound, "Object not found.")
	}
	if err := q.beforeFind(ctx); err != nil {
		return nil, err
	}
	if err := q.restrict(ctx, "get"); err != nil {
		return nil, err
	}
	cl, err := a.schema.get(ctx, q.class)
	if err != nil {
		return nil, a.storeError(err)
	}
	var row storage.Object
	if len(q.raw) == 0 && len(q.where) == 0 {
		row, err = a.storeFor(ctx).Get(ctx, q.class, id, AuthFrom(ctx).readPerms())
	} else {
		row, err = q.getWhere(ctx, id)
	}
	if err != nil {
		return nil, a.storeError(err)
	}
	o, err := a.decodeStoredWith(cl, q.class, row)
	if err != nil {
		return nil, err
	}
	if err := q.finish(ctx, []*Object{o}); err != nil {
		return nil, err
	}
	objs, err := q.afterFind(ctx, []*Object{o})
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 || objs[0] == nil {
		return nil, NewError(ObjectNotFound, "Object not found.")
	}
	o = objs[0]
	addOwnSessionToken(AuthFrom(ctx), o)
	return o, nil
}

func (q *Query) getWhere(ctx context.Context, id string) (storage.Object, error) {
	sq, err := q.build(ctx)
	if err != nil {
		return storage.Object{}, err
	}
	sq.Where = storage.And{storage.Cmp{Field: "objectId", Op: storage.Eq, Value: id}, sq.Where}
	sq.Limit, sq.Skip, sq.Order = 1, 0, nil
	rows, err := q.app.storeFor(ctx).Find(ctx, q.class, sq)
	if err != nil {
		return storage.Object{}, err
	}
	if len(rows) == 0 {
		return storage.Object{}, storage.ErrNotFound
	}
	return rows[0], nil
}

// finish applies include, keys and excludeKeys to results.
func (q *Query) finish(ctx context.Context, objs []*Object) error {
	include := slices.Clone(q.include)
	// keys=a.b implies include=a, as the reference does.
	for _, k := range q.keys {
		if i := strings.LastIndex(k, "."); i > 0 {
			include = append(include, k[:i])
		}
	}
	keys := q.keys
	if keys != nil && slices.Contains(include, "*") {
		// The fields "*" includes are kept by keys, as the reference does.
		keys = append(slices.Clone(keys), pointerFields(objs)...)
	}
	if err := q.app.include(ctx, objs, include); err != nil {
		return err
	}
	q.afterRead(AuthFrom(ctx), objs)
	if keys != nil {
		for _, o := range objs {
			project(o, keys)
		}
	}
	for _, o := range objs {
		for _, k := range q.excludeKeys {
			exclude(o, k)
		}
	}
	return nil
}

// exclude removes the field at path from o; a dot path reaches into
// included objects (alone or in an array) only, as the reference does:
// "o.x" leaves a plain object's x alone.
func exclude(o *Object, path string) {
	top, rest, nested := strings.Cut(path, ".")
	if !nested {
		delete(o.Fields, path)
		return
	}
	switch v := o.Fields[top].(type) {
	case *Object:
		exclude(v, rest)
	case []any:
		for _, e := range v {
			if inc, ok := e.(*Object); ok {
				exclude(inc, rest)
			}
		}
	}
}

// project keeps only the listed keys of o (dot paths apply to included
// objects).
func project(o *Object, keys []string) {
	keep := map[string][]string{}
	for _, k := range keys {
		top, rest, _ := strings.Cut(k, ".")
		keep[top] = append(keep[top], rest)
	}
	for name, v := range o.Fields {
		sub, ok := keep[name]
		if _, relation := v.(Relation); !ok && !relation {
			// Relation fields stay: the reference shows them on every read.
			delete(o.Fields, name)
			continue
		}
		var nested []string
		for _, s := range sub {
			if s == "" {
				nested = nil
				break
			}
			nested = append(nested, s)
		}
		if nested == nil {
			continue
		}
		switch inc := v.(type) {
		case *Object:
			project(inc, nested)
		case []any: // an array of included objects
			for _, e := range inc {
				if o, ok := e.(*Object); ok {
					project(o, nested)
				}
			}
		}
	}
}

// include replaces pointers at the given paths by the objects they point
// to, one store query per class and path level. Pointers the caller can't
// read are removed.
func (a *App) include(ctx context.Context, objs []*Object, paths []string) error {
	if len(paths) == 0 || len(objs) == 0 {
		return nil
	}
	if slices.Contains(paths, "*") {
		paths = append(slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return p == "*" }), pointerFields(objs)...)
	}
	// Group the paths by their first segment; deeper segments recurse on
	// the included objects.
	next := map[string][]string{}
	var order []string
	for _, p := range paths {
		top, rest, _ := strings.Cut(p, ".")
		if _, ok := next[top]; !ok {
			order = append(order, top)
			next[top] = nil
		}
		if rest != "" {
			next[top] = append(next[top], rest)
		}
	}
	for _, field := range order {
		// Collect the pointers at this field, by class.
		ids := map[string][]string{}
		for _, o := range objs {
			forEachPointer(o.Fields[field], func(p Pointer) {
				if !slices.Contains(ids[p.ClassName], p.ObjectID) {
					ids[p.ClassName] = append(ids[p.ClassName], p.ObjectID)
				}
			})
		}
		fetched := map[Pointer]*Object{}
		var children []*Object
		for _, class := range sortedKeys(ids) {
			vals := make([]any, len(ids[class]))
			for i, id := range ids[class] {
				vals[i] = id
			}
			got, err := a.Query(class).Limit(len(vals)).inIDs(vals).Find(ctx)
			if err != nil {
				return err
			}
			for _, g := range got {
				fetched[g.Pointer()] = g
				children = append(children, g)
			}
		}
		for _, o := range objs {
			v, ok := o.Fields[field]
			if !ok {
				continue
			}
			if r, keep := replacePointers(v, fetched); keep {
				o.Fields[field] = r
			} else {
				delete(o.Fields, field)
			}
		}
		if err := a.include(ctx, children, next[field]); err != nil {
			return err
		}
	}
	return nil
}

// pointerFields lists the fields of objs holding a Pointer or an array
// with a Pointer: what include=* includes (the reference includes every
// Pointer and Array field).
func pointerFields(objs []*Object) []string {
	var all []string
	for _, o := range objs {
		for k, v := range o.Fields {
			if slices.Contains(all, k) {
				continue
			}
			has := false
			forEachPointer(v, func(Pointer) { has = true })
			if has {
				all = append(all, k)
			}
		}
	}
	slices.Sort(all)
	return all
}

func (q *Query) inIDs(ids []any) *Query {
	q.where = append(q.where, storage.In{Field: "objectId", Values: ids})
	return q
}

func forEachPointer(v any, fn func(Pointer)) {
	switch v := v.(type) {
	case Pointer:
		fn(v)
	case []any:
		for _, e := range v {
			if p, ok := e.(Pointer); ok {
				fn(p)
			}
		}
	}
}

// replacePointers swaps pointers for fetched objects; a pointer to an
// object that wasn't fetched (missing or unreadable) is dropped.
func replacePointers(v any, fetched map[Pointer]*Object) (any, bool) {
	switch v := v.(type) {
	case Pointer:
		o, ok := fetched[v]
		return o, ok
	case []any:
		out := make([]any, 0, len(v))
		for _, e := range v {
			if p, ok := e.(Pointer); ok {
				if o, ok := fetched[p]; ok {
					out = append(out, o)
				}
				continue
			}
			out = append(out, e)
		}
		return out, true
	}
	return v, true
}

// validKeyPath accepts a field name or a dot path of field names.
func validKeyPath(path string) bool {
	for _, seg := range strings.Split(path, ".") {
		if !isName(seg) {
			return false
		}
	}
	return true
}

// DecodeQuery builds a query from the REST API's parameters: where (an
// object or a JSON string), order, limit, skip, keys, excludeKeys, include,
// count, as decoded from a query string (strings) or a JSON body.
func (a *App) DecodeQuery(class string, params map[string]any) (*Query, error) {
	q := a.Query(class)
	for k, v := range params {
		switch k {
		case "where":
			w, err := whereParam(v)
			if err != nil {
				return nil, err
			}
			if w != nil {
				q.Where(w)
			}
		case "order":
			if s, ok := v.(string); ok {
				q.Order(s)
			}
		case "limit":
			n, err := intParam(k, v)
			if err != nil {
				return nil, err
			}
			q.Limit(n)
		case "skip":
			n, err := intParam(k, v)
			if err != nil {
				return nil, err
			}
			q.Skip(n)
		case "count":
			q.WithCount(truthy(v))
		case "keys":
			q.Keys(listParam(v)...)
		case "excludeKeys":
			q.ExcludeKeys(listParam(v)...)
		case "include":
			q.Include(listParam(v)...)
		case "includeAll":
			if truthy(v) {
				q.Include("*")
			}
		case "readPreference", "includeReadPreference", "subqueryReadPreference", "hint", "explain", "comment", "redirectClassNameForKey":
			// Accepted and ignored: they tune MongoDB.
		default:
			return nil, NewError(InvalidQuery, "Invalid parameter for query: %s", k)
		}
	}
	return q, q.err
}

func whereParam(v any) (map[string]any, error) {
	switch w := v.(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(w) == "" {
			return nil, nil
		}
		var decoded any
		if err := json.Unmarshal([]byte(w), &decoded); err != nil {
			return nil, NewError(InvalidJSON, "where parameter is not valid JSON")
		}
		return whereParam(decoded)
	case map[string]any:
		return w, nil
	case []any:
		if len(w) == 0 {
			return nil, nil
		}
		return nil, NewError(InvalidKeyName, "Invalid key name: 0")
	}
	return nil, NewError(InvalidQuery, "where must be an object")
}

func intParam(name string, v any) (int, error) {
	switch n := v.(type) {
	case float64:
		if n == float64(int(n)) {
			return int(n), nil
		}
	case string:
		var f float64
		if err := json.Unmarshal([]byte(n), &f); err == nil && f == float64(int(f)) {
			return int(f), nil
		}
	}
	return 0, NewError(InvalidQuery, "Invalid %s: %v", name, v)
}

func listParam(v any) []string {
	switch l := v.(type) {
	case string:
		return []string{l}
	case []any:
		var out []string
		for _, e := range l {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != "" && x != "0" && x != "false"
	}
	return v != nil
}
