package parse

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/parsego/parse/storage"
)

// decodeWhere turns a REST where document into a store condition.
func decodeWhere(where map[string]any) (storage.Cond, error) {
	conds := make(storage.And, 0, len(where))
	for _, key := range sortedKeys(where) {
		v := where[key]
		switch key {
		case "$or", "$and", "$nor":
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				return nil, NewError(InvalidQuery, "Bad %s format - use an array of at least 1 value.", key)
			}
			subs := make([]storage.Cond, len(list))
			for i, e := range list {
				m, ok := e.(map[string]any)
				if !ok {
					return nil, NewError(InvalidQuery, "Bad %s format - use an array of objects.", key)
				}
				c, err := decodeWhere(m)
				if err != nil {
					return nil, err
				}
				subs[i] = c
			}
			switch key {
			case "$or":
				conds = append(conds, storage.Or(subs))
			case "$and":
				conds = append(conds, storage.And(subs))
			default:
				conds = append(conds, storage.Nor(subs))
			}
		case "$relatedTo":
			c, err := decodeRelatedTo(v)
			if err != nil {
				return nil, err
			}
			conds = append(conds, c)
		default:
			if !validKeyPath(key) {
				return nil, NewError(InvalidKeyName, "Invalid key name: %s", key)
			}
			c, err := decodeConstraint(key, v)
			if err != nil {
				return nil, err
			}
			conds = append(conds, c...)
		}
	}
	if len(conds) == 1 {
		return conds[0], nil
	}
	return conds, nil
}

func decodeRelatedTo(v any) (storage.Cond, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, NewError(InvalidQuery, "bad $relatedTo")
	}
	obj, err := DecodeValue(m["object"], false)
	if err != nil {
		return nil, err
	}
	p, ok := obj.(Pointer)
	key, ok2 := m["key"].(string)
	if !ok || !ok2 || !isName(key) {
		return nil, NewError(InvalidQuery, "bad $relatedTo: object must be a Pointer and key a field name")
	}
	return storage.RelatedTo{Relation: storage.Relation{OwningClass: p.ClassName, Field: key, OwningID: p.ObjectID}}, nil
}

// decodeConstraint decodes the constraint on one field: a value (equality)
// or an object of $ operators.
func decodeConstraint(field string, v any) ([]storage.Cond, error) {
	if r, ok := v.(resolvedConstraint); ok { // see where_subquery.go
		return r.conds, nil
	}
	m, isMap := v.(map[string]any)
	if !isMap || !hasOperator(m) {
		val, err := whereValue(field, v)
		if err != nil {
			return nil, err
		}
		return []storage.Cond{storage.Cmp{Field: field, Op: storage.Eq, Value: val}}, nil
	}
	if err := checkOperands(m); err != nil {
		return nil, err
	}
	var out []storage.Cond
	for _, op := range sortedKeys(m) {
		arg := m[op]
		switch op {
		case "$eq", "$ne", "$lt", "$lte", "$gt", "$gte":
			val, err := whereValue(field, arg)
			if err != nil {
				return nil, err
			}
			cmp := map[string]storage.CmpOp{"$eq": storage.Eq, "$ne": storage.Ne, "$lt": storage.Lt, "$lte": storage.Lte, "$gt": storage.Gt, "$gte": storage.Gte}[op]
			out = append(out, storage.Cmp{Field: field, Op: cmp, Value: val})
		case "$in", "$nin":
			vals, err := whereValues(field, op, arg)
			if err != nil {
				return nil, err
			}
			out = append(out, storage.In{Field: field, Values: vals, Not: op == "$nin"})
		case "$all":
			vals, err := whereValues(field, op, arg)
			if err != nil {
				return nil, err
			}
			out = append(out, storage.All{Field: field, Values: vals})
		case "$exists":
			b, ok := arg.(bool)
			if !ok {
				return nil, NewError(InvalidQuery, "$exists value must be a boolean")
			}
			out = append(out, storage.Exists{Field: field, Exists: b})
		case "$regex":
			pattern, ok := arg.(string)
			if !ok {
				return nil, NewError(InvalidQuery, "$regex should be a string")
			}
			opts, _ := m["$options"].(string)
			if strings.Trim(opts, "imxs") != "" {
				return nil, NewError(InvalidQuery, "Not supported $options value")
			}
			pattern = literalizeQE(pattern)
			if _, err := regexp.Compile(pattern); err != nil {
				return nil, NewError(InvalidQuery, "Invalid regular expression: %s", pattern)
			}
			out = append(out, storage.Regex{Field: field, Pattern: pattern, Options: opts})
		case "$inQuery", "$notInQuery", "$select", "$dontSelect":
			r, ok := arg.(resolvedConstraint) // see where_subquery.go
			if !ok {
				return nil, NewError(InvalidQuery, "improper usage of %s", op)
			}
			out = append(out, r.conds...)
		case "$containedBy":
			c, err := decodeContainedBy(field, arg)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		case "$options":
			if _, ok := m["$regex"]; !ok {
				return nil, NewError(InvalidQuery, "$options requires $regex")
			}
		case "$nearSphere", "$maxDistance", "$maxDistanceInRadians", "$maxDistanceInMiles",
			"$maxDistanceInKilometers", "$within", "$geoWithin", "$geoIntersects": // where_geo.go
			c, err := decodeGeo(field, op, m)
			if err != nil {
				return nil, err
			}
			if c != nil {
				out = append(out, c)
			}
		default:
			return nil, unsupportedConstraint(op, arg)
		}
	}
	return out, nil
}

// checkOperands rejects operands of the wrong type with the reference's
// codes: 107 for a $in, $nin or $all that is not an array (as "bad $in
// value" on both of its adapters), 102 for a $options that is not a string.
func checkOperands(m map[string]any) error {
	for _, op := range []string{"$in", "$nin", "$all"} {
		if v, ok := m[op]; ok {
			if _, isList := v.([]any); !isList {
				return NewError(InvalidJSON, "bad %s value", op)
			}
		}
	}
	if v, ok := m["$options"]; ok {
		if _, isString := v.(string); !isString {
			return NewError(InvalidQuery, "$options value must be a string")
		}
	}
	return nil
}

// unsupportedConstraint is the reference's answer (on PostgreSQL) to an
// operator it does not know: 119.
func unsupportedConstraint(op string, arg any) error {
	b, _ := json.Marshal(map[string]any{op: arg})
	return NewError(OperationForbidden, "Postgres doesn't support this query type yet %s", b)
}

func hasOperator(m map[string]any) bool {
	for k := range m {
		if strings.HasPrefix(k, "$") {
			return true
		}
	}
	return false
}

// literalizeQE turns \Q...\E quoting (which the SDKs' startsWith and
// endsWith send) into escaped literals.
func literalizeQE(p string) string {
	for {
		i := strings.Index(p, `\Q`)
		if i < 0 {
			return p
		}
		rest := p[i+2:]
		j := strings.Index(rest, `\E`)
		if j < 0 {
			return p[:i] + regexp.QuoteMeta(rest)
		}
		p = p[:i] + regexp.QuoteMeta(rest[:j]) + rest[j+2:]
	}
}

func whereValues(field, op string, arg any) ([]any, error) {
	list, ok := arg.([]any)
	if !ok {
		return nil, NewError(InvalidQuery, "bad %s value", op)
	}
	out := make([]any, len(list))
	for i, e := range list {
		v, err := whereValue(field, e)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// whereValue converts a constraint's value to the store's value types.
func whereValue(field string, v any) (any, error) {
	d, err := DecodeValue(v, false)
	if err != nil {
		return nil, err
	}
	switch x := d.(type) {
	case nil, bool, float64, string:
		return x, nil
	case time.Time:
		return x, nil
	case *Object:
		return json.RawMessage(appendStored(nil, x.Pointer())), nil
	}
	if field == "createdAt" || field == "updatedAt" {
		return nil, NewError(InvalidQuery, "bad value for %s", field)
	}
	return json.RawMessage(appendStored(nil, d)), nil
}
