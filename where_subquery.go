package parse

import (
	"context"
	"slices"
	"strings"

	"github.com/parsego/parse/storage"
)

// Relational constraints ($inQuery, $notInQuery, $select, $dontSelect, and
// equality, $in, $ne, $nin on Relation fields) need what decodeWhere does
// not see: the caller (a subquery reads with the caller's ACL identity and
// class rules) and the schema (to know a field is a Relation). Query.build
// resolves them first with resolveRelational, which replaces their operands
// in a copy of the where document by resolvedConstraint values holding the
// store conditions; decodeConstraint then takes those as they are.

// resolvedConstraint is a constraint resolved before decoding.
type resolvedConstraint struct{ conds []storage.Cond }

// subqueryOps are the operators whose operand is another class's query.
var subqueryOps = map[string]bool{"$inQuery": true, "$notInQuery": true, "$select": true, "$dontSelect": true}

// resolveRelational returns a copy of where (of class) with its relational
// constraints resolved; where itself is left unchanged.
func (q *Query) resolveRelational(ctx context.Context, class string, where map[string]any) (map[string]any, error) {
	cl, err := q.app.schema.get(ctx, class)
	if err != nil {
		return nil, q.app.storeError(err)
	}
	return q.resolveIn(ctx, cl, where)
}

func (q *Query) resolveIn(ctx context.Context, cl *storage.Class, where map[string]any) (map[string]any, error) {
	var out map[string]any
	set := func(k string, v any) {
		if out == nil {
			out = make(map[string]any, len(where))
			for k, v := range where {
				out[k] = v
			}
		}
		out[k] = v
	}
	for key, v := range where {
		switch key {
		case "$or", "$and", "$nor":
			list, ok := v.([]any)
			if !ok {
				continue // decodeWhere reports it
			}
			var copied []any
			for i, e := range list {
				m, ok := e.(map[string]any)
				if !ok {
					continue
				}
				r, err := q.resolveIn(ctx, cl, m)
				if err != nil {
					return nil, err
				}
				if r != nil {
					if copied == nil {
						copied = append([]any(nil), list...)
					}
					copied[i] = r
				}
			}
			if copied != nil {
				set(key, copied)
			}
			continue
		}
		if len(key) > 0 && key[0] == '$' || !validKeyPath(key) {
			continue
		}
		if cl != nil {
			if f, ok := cl.Fields[key]; ok && f.Type == "Relation" {
				r, err := relationConstraint(cl.Name, key, v)
				if err != nil {
					return nil, err
				}
				if r != nil {
					set(key, *r)
					continue
				}
			}
		}
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		var ops map[string]any
		for op, arg := range m {
			if !subqueryOps[op] {
				continue
			}
			c, err := q.subquery(ctx, key, op, arg, notArray(cl, key, op))
			if err != nil {
				return nil, err
			}
			if in, ok := c.(storage.InQuery); ok && cl != nil && cl.Fields[key].Type == "Relation" {
				// The objects whose relation links to one the inner query finds.
				c = storage.RelationHas{Relation: storage.Relation{OwningClass: cl.Name, Field: key}, Related: &in, Not: in.Not}
			}
			if ops == nil {
				ops = make(map[string]any, len(m))
				for k, v := range m {
					ops[k] = v
				}
			}
			ops[op] = resolvedConstraint{conds: []storage.Cond{c}}
		}
		if ops != nil {
			set(key, ops)
		}
	}
	return out, nil
}

// notArray reports whether the schema of cl says field never holds an
// array: a Pointer for $inQuery, anything but an Array for $select.
func notArray(cl *storage.Class, field, op string) bool {
	switch field {
	case "objectId", "createdAt", "updatedAt":
		return true
	}
	if cl == nil {
		return false
	}
	f, ok := cl.Fields[field]
	if !ok {
		return false
	}
	if op == "$inQuery" || op == "$notInQuery" {
		return f.Type == "Pointer"
	}
	return f.Type != "Array" && f.Type != "Object"
}

// subquery builds the condition of one $inQuery, $notInQuery, $select or
// $dontSelect on field. The inner query runs with the caller's identity and
// the class rules of _Session and _User (a client's sessions are its own;
// _User's protected fields can't be queried or selected).
func (q *Query) subquery(ctx context.Context, field, op string, arg any, notArray bool) (storage.Cond, error) {
	if sub, ok := arg.(subqueryArg); ok {
		return q.innerCond(ctx, field, op, sub.q.clone(), sub.q.class, sub.key, notArray)
	}
	improper := NewError(InvalidQuery, "improper usage of %s", op)
	m, ok := arg.(map[string]any)
	if !ok {
		return nil, improper
	}
	var class, key string
	var where map[string]any
	switch op {
	case "$inQuery", "$notInQuery":
		class, _ = m["className"].(string)
		where, ok = m["where"].(map[string]any)
		if class == "" || !ok {
			return nil, improper
		}
	default:
		query, ok := m["query"].(map[string]any)
		key, _ = m["key"].(string)
		if !ok || key == "" || len(m) != 2 {
			return nil, improper
		}
		class, _ = query["className"].(string)
		if class == "" {
			return nil, improper
		}
		switch w := query["where"].(type) {
		case nil:
		case map[string]any:
			where = w
		default:
			return nil, improper
		}
		if !validKeyPath(key) {
			return nil, NewError(InvalidKeyName, "Invalid key name: %s", key)
		}
	}
	inner := q.app.Query(class)
	if where != nil {
		inner.Where(where)
	}
	return q.innerCond(ctx, field, op, inner, class, key, notArray)
}

// innerCond builds the condition of a subquery from its inner query.
func (q *Query) innerCond(ctx context.Context, field, op string, inner *Query, class, key string, notArray bool) (storage.Cond, error) {
	if !q.app.validClassName(class) {
		return nil, NewError(InvalidClassName, "Invalid class name: %s", class)
	}
	if err := inner.restrict(ctx, "find"); err != nil {
		return nil, err
	}
	if top, _, _ := strings.Cut(key, "."); key != "" && slices.Contains(inner.hidden, top) {
		return nil, NewError(OperationForbidden, "This user is not allowed to query %s on class %s", top, class)
	}
	sq, err := inner.build(ctx)
	if err != nil {
		return nil, err
	}
	switch op {
	case "$inQuery", "$notInQuery":
		return storage.InQuery{Field: field, Class: class, Where: sq.Where, ReadPerm: sq.ReadPerm, Not: op == "$notInQuery", NotArray: notArray}, nil
	}
	return storage.Select{Field: field, Class: class, Where: sq.Where, Key: key, ReadPerm: sq.ReadPerm, Not: op == "$dontSelect", NotArray: notArray}, nil
}

// relationConstraint decodes equality, $eq, $ne, $in and $nin with Pointers
// on a Relation field: the objects whose relation links (or, for $ne and
// $nin, does not link) to the given objects. Other operators are left to
// decodeConstraint (nil result).
func relationConstraint(class, field string, v any) (*resolvedConstraint, error) {
	rel := storage.Relation{OwningClass: class, Field: field}
	ids := func(op string, vals ...any) ([]string, error) {
		out := make([]string, 0, len(vals))
		for _, e := range vals {
			d, err := DecodeValue(e, false)
			if err != nil {
				return nil, err
			}
			switch p := d.(type) {
			case Pointer:
				out = append(out, p.ObjectID)
			case *Object:
				out = append(out, p.ID)
			default:
				return nil, NewError(InvalidQuery, "bad %s value on a relation field: a Pointer is required", op)
			}
		}
		return out, nil
	}
	m, isMap := v.(map[string]any)
	if !isMap || !hasOperator(m) {
		list, err := ids("equality", v)
		if err != nil {
			return nil, err
		}
		return &resolvedConstraint{conds: []storage.Cond{storage.RelationHas{Relation: rel, RelatedIDs: list}}}, nil
	}
	r := &resolvedConstraint{}
	for _, op := range sortedKeys(m) {
		var vals []any
		switch op {
		case "$eq", "$ne":
			vals = []any{m[op]}
		case "$in", "$nin":
			list, ok := m[op].([]any)
			if !ok {
				return nil, NewError(InvalidQuery, "bad %s value", op)
			}
			vals = list
		default:
			return nil, nil
		}
		list, err := ids(op, vals...)
		if err != nil {
			return nil, err
		}
		r.conds = append(r.conds, storage.RelationHas{Relation: rel, RelatedIDs: list, Not: op == "$ne" || op == "$nin"})
	}
	return r, nil
}

// decodeContainedBy decodes $containedBy: an array of values.
func decodeContainedBy(field string, arg any) (storage.Cond, error) {
	if _, ok := arg.([]any); !ok {
		return nil, NewError(InvalidJSON, "bad $containedBy: should be an array")
	}
	vals, err := whereValues(field, "$containedBy", arg)
	if err != nil {
		return nil, err
	}
	return storage.ContainedBy{Field: field, Values: vals}, nil
}

// subqueryArg is the operand of a subquery operator built in Go: the inner
// query and, for $select and $dontSelect, the key.
type subqueryArg struct {
	q   *Query
	key string
}

// clone copies a query so that applying the class rules for one caller
// leaves the original usable by another.
func (q *Query) clone() *Query {
	c := *q
	c.where = slices.Clone(q.where)
	c.raw = slices.Clone(q.raw)
	c.restricted = false // the class rules apply for each caller
	return &c
}

func (q *Query) subqueryOp(field, op string, inner *Query, key string) *Query {
	if inner == nil || inner.app != q.app {
		return q.fail(NewError(InvalidQuery, "improper usage of %s", op))
	}
	if (op == "$select" || op == "$dontSelect") && !validKeyPath(key) {
		return q.fail(NewError(InvalidKeyName, "Invalid key name: %s", key))
	}
	return q.Where(map[string]any{field: map[string]any{op: subqueryArg{q: inner, key: key}}})
}

// MatchesQuery requires field, a Pointer or an array of Pointers, to point
// to an object that inner finds ($inQuery). inner runs as the caller, in the
// same database statement; its order, limit, skip and keys are ignored.
func (q *Query) MatchesQuery(field string, inner *Query) *Query {
	return q.subqueryOp(field, "$inQuery", inner, "")
}

// DoesNotMatchQuery requires field to be set and point to no object that
// inner finds ($notInQuery); when inner finds nothing, every object matches.
func (q *Query) DoesNotMatchQuery(field string, inner *Query) *Query {
	return q.subqueryOp(field, "$notInQuery", inner, "")
}

// MatchesKeyInQuery requires field to equal the key field of an object that
// inner finds ($select).
func (q *Query) MatchesKeyInQuery(field, key string, inner *Query) *Query {
	return q.subqueryOp(field, "$select", inner, key)
}

// DoesNotMatchKeyInQuery requires field to be set and equal the key field
// of no object that inner finds ($dontSelect); when inner finds nothing,
// every object matches.
func (q *Query) DoesNotMatchKeyInQuery(field, key string, inner *Query) *Query {
	return q.subqueryOp(field, "$dontSelect", inner, key)
}

// ContainedBy requires every element of the array field to be one of
// values ($containedBy); an object lacking the field matches.
func (q *Query) ContainedBy(field string, values ...any) *Query {
	if values == nil {
		values = []any{}
	}
	return q.Where(map[string]any{field: map[string]any{"$containedBy": values}})
}
