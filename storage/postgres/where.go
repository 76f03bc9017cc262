package postgres

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parsego/parse/storage"
)

// frag is a piece of SQL with "?" placeholders and their arguments; the root
// statement's builder numbers them.
type frag struct {
	sql  string
	args []any
}

func (f frag) ToSql() (string, []any, error) { return f.sql, f.args, nil }

var (
	fragTrue  = frag{sql: "TRUE"}
	fragFalse = frag{sql: "FALSE"}
)

// not negates f. Conditions are built so that in a positive context an SQL
// NULL (a missing field) acts as false and index conditions stay sargable;
// under NOT the NULL must become false first, or Ne and Nor would not match
// objects lacking the field.
func not(f frag) frag {
	switch f.sql {
	case "TRUE":
		return fragFalse
	case "FALSE":
		return fragTrue
	}
	return frag{sql: "NOT COALESCE(" + f.sql + ", FALSE)", args: f.args}
}

// join combines conditions with AND or OR, simplifying constants.
func join(op string, parts []frag) frag {
	absorbing, neutral := fragFalse, fragTrue // AND
	if op == "OR" {
		absorbing, neutral = fragTrue, fragFalse
	}
	var keep []frag
	for _, p := range parts {
		switch p.sql {
		case absorbing.sql:
			return absorbing
		case neutral.sql:
			continue
		}
		keep = append(keep, p)
	}
	switch len(keep) {
	case 0:
		return neutral
	case 1:
		return keep[0]
	}
	var b strings.Builder
	var args []any
	b.WriteByte('(')
	for i, p := range keep {
		if i > 0 {
			b.WriteString(" " + op + " ")
		}
		b.WriteString(p.sql)
		args = append(args, p.args...)
	}
	b.WriteByte(')')
	return frag{sql: b.String(), args: args}
}

// condBuilder translates storage.Cond into SQL on one class's table.
type condBuilder struct {
	s       *Store
	missing map[string]bool // join tables known not to exist
	nums    map[string]bool // fields with a number column (numcols.go)
}

// collectJoins appends the join tables c's RelatedTo conditions read.
func collectJoins(c storage.Cond, out []string) []string {
	switch c := c.(type) {
	case storage.And:
		for _, x := range c {
			out = collectJoins(x, out)
		}
	case storage.Or:
		for _, x := range c {
			out = collectJoins(x, out)
		}
	case storage.Nor:
		for _, x := range c {
			out = collectJoins(x, out)
		}
	case storage.RelatedTo:
		if checkRelation(c.Relation) == nil {
			out = append(out, joinName(c.Relation.Field, c.Relation.OwningClass))
		}
	case storage.InQuery, storage.Select, storage.RelationHas:
		out = collectSubqueryTables(c, out)
	}
	return out
}

func (b *condBuilder) build(c storage.Cond) (frag, error) {
	switch c := c.(type) {
	case nil:
		return fragTrue, nil
	case storage.And:
		return b.list("AND", c)
	case storage.Or:
		return b.list("OR", c)
	case storage.Nor:
		f, err := b.list("OR", c)
		return not(f), err
	case storage.Cmp:
		return b.cmp(c, false)
	case storage.In:
		t, err := resolveField(c.Field)
		if err != nil {
			return frag{}, err
		}
		f, err := b.eqAny(t, c.Values)
		if c.Not {
			f = notIn(t, f)
		}
		return f, err
	case storage.Exists:
		return b.exists(c)
	case storage.All:
		return b.all(c)
	case storage.Regex:
		return b.regex(c)
	case storage.RelatedTo:
		return b.relatedTo(c)
	case storage.Near: // geo conditions: geo.go
		return b.near(c)
	case storage.WithinBox:
		return b.withinBox(c)
	case storage.WithinPolygon:
		return b.withinPolygon(c)
	case storage.WithinCenterSphere:
		return b.withinCenterSphere(c)
	case storage.IntersectsPoint:
		return b.intersectsPoint(c)
	case storage.InQuery:
		return b.inQuery(c)
	case storage.Select:
		return b.selectCond(c)
	case storage.ContainedBy:
		return b.containedBy(c)
	case storage.RelationHas:
		return b.relationHas(c)
	}
	return frag{}, fmt.Errorf("postgres: condition %T: %w", c, storage.ErrUnsupported)
}

func (b *condBuilder) list(op string, cs []storage.Cond) (frag, error) {
	parts := make([]frag, 0, len(cs))
	var closed map[int]bool
	if op == "AND" {
		closed = closedRanges(cs)
	}
	for i, c := range cs {
		var f frag
		var err error
		if closed[i] {
			f, err = b.cmp(c.(storage.Cmp), true)
		} else {
			f, err = b.build(c)
		}
		if err != nil {
			return frag{}, err
		}
		parts = append(parts, f)
	}
	return join(op, parts), nil
}

// target is where a condition's field lives: a column, or a path in data.
type target struct {
	column string   // "objectId", "createdAt", "updatedAt"; "" for data
	segs   []string // the path in data
}

func resolveField(field string) (target, error) {
	switch field {
	case "objectId", "createdAt", "updatedAt":
		return target{column: field}, nil
	}
	segs, err := splitPath(field)
	if err != nil {
		return target{}, err
	}
	return target{segs: segs}, nil
}

// json returns the field's JSON value: "data"->$a->$b. Path segments are
// bind parameters; with PostgreSQL's custom plans an expression index on
// ("data"->'f') still matches.
func (t target) json() (string, []any) {
	var b strings.Builder
	b.WriteString(`"data"`)
	args := make([]any, len(t.segs))
	for i, seg := range t.segs {
		b.WriteString("->?::text")
		args[i] = seg
	}
	return b.String(), args
}

// text returns the field's value as text ("data"->$a->>$b).
func (t target) text() (string, []any) {
	var b strings.Builder
	b.WriteString(`"data"`)
	args := make([]any, len(t.segs))
	for i, seg := range t.segs {
		if i == len(t.segs)-1 {
			b.WriteString("->>?::text")
		} else {
			b.WriteString("->?::text")
		}
		args[i] = seg
	}
	return b.String(), args
}

// wrapPath nests a JSON value in objects along the path: {"a":{"b":v}},
// the containment document of a condition on a.b.
func wrapPath(segs []string, v []byte) []byte {
	var b bytes.Buffer
	for _, seg := range segs {
		b.WriteString(`{"`)
		b.WriteString(seg) // a validated identifier: nothing to escape
		b.WriteString(`":`)
	}
	b.Write(v)
	for range segs {
		b.WriteByte('}')
	}
	return b.Bytes()
}

// value kinds.
const (
	kindNull = iota
	kindNumber
	kindString
	kindBool
	kindObject // including Dates
	kindArray
)

// jsonValue is a condition value in storage encoding.
type jsonValue struct {
	kind int
	json []byte
	time time.Time // for Dates
	str  string    // for strings
	date bool
	// tagged: a Pointer or a Date, whose storage encoding has a fixed set
	// of keys, so that containment of one in a stored value of the same
	// type is equality and needs no exact check.
	tagged bool
}

const isoMillis = "2006-01-02T15:04:05.000Z"

func dateJSON(t time.Time) []byte {
	return []byte(`{"__type":"Date","iso":"` + t.UTC().Format(isoMillis) + `"}`)
}

func toJSONValue(v any) (jsonValue, error) {
	switch x := v.(type) {
	case nil:
		return jsonValue{kind: kindNull, json: []byte("null")}, nil
	case bool:
		return jsonValue{kind: kindBool, json: []byte(strconv.FormatBool(x))}, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return jsonValue{}, fmt.Errorf("postgres: condition value %v: %w", x, storage.ErrInvalidQuery)
		}
		b, _ := json.Marshal(x)
		return jsonValue{kind: kindNumber, json: b}, nil
	case float32:
		return toJSONValue(float64(x))
	case int:
		return jsonValue{kind: kindNumber, json: []byte(strconv.Itoa(x))}, nil
	case int64:
		return jsonValue{kind: kindNumber, json: []byte(strconv.FormatInt(x, 10))}, nil
	case json.Number:
		return toJSONValue(json.RawMessage(x))
	case string:
		b, _ := json.Marshal(x)
		return jsonValue{kind: kindString, json: b, str: x}, nil
	case time.Time:
		return jsonValue{kind: kindObject, json: dateJSON(x), time: x, date: true, tagged: true}, nil
	case json.RawMessage:
		return rawValue(x)
	}
	return jsonValue{}, fmt.Errorf("postgres: condition value of type %T: %w", v, storage.ErrInvalidQuery)
}

func rawValue(raw json.RawMessage) (jsonValue, error) {
	raw = bytes.TrimSpace(raw)
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return jsonValue{}, fmt.Errorf("postgres: condition value %s: %w", raw, storage.ErrInvalidQuery)
	}
	switch x := v.(type) {
	case nil:
		return jsonValue{kind: kindNull, json: []byte("null")}, nil
	case bool:
		return jsonValue{kind: kindBool, json: raw}, nil
	case float64:
		return jsonValue{kind: kindNumber, json: raw}, nil
	case string:
		return jsonValue{kind: kindString, json: raw, str: x}, nil
	case []any:
		return jsonValue{kind: kindArray, json: raw}, nil
	case map[string]any:
		jv := jsonValue{kind: kindObject, json: raw}
		switch x["__type"] {
		case "Pointer":
			_, c := x["className"].(string)
			_, o := x["objectId"].(string)
			jv.tagged = c && o && len(x) == 3
		case "Date":
			_, iso := x["iso"].(string)
			jv.tagged = iso && len(x) == 2
		}
		// A Date in storage encoding compares like a time.Time.
		if x["__type"] == "Date" {
			if iso, ok := x["iso"].(string); ok {
				if t, err := time.Parse(time.RFC3339Nano, iso); err == nil {
					jv.time, jv.date = t, true
				}
			}
		}
		return jv, nil
	}
	return jsonValue{}, fmt.Errorf("postgres: condition value %s: %w", raw, storage.ErrInvalidQuery)
}

// cmp is one comparison; closed marks a bound of a closed range (see
// closedRanges).
func (b *condBuilder) cmp(c storage.Cmp, closed bool) (frag, error) {
	t, err := resolveField(c.Field)
	if err != nil {
		return frag{}, err
	}
	switch c.Op {
	case storage.Eq:
		return b.eqAny(t, []any{c.Value})
	case storage.Ne:
		f, err := b.eqAny(t, []any{c.Value})
		return not(f), err
	case storage.Lt, storage.Lte, storage.Gt, storage.Gte:
		return b.compare(t, c.Op, c.Value, closed)
	}
	return frag{}, fmt.Errorf("postgres: comparison %d: %w", c.Op, storage.ErrUnsupported)
}

// eqAny holds when the field equals one of vals, an array field also
// matching when it holds one of them as an element (an array value only
// matches the whole array). Scalars, Pointers and Dates go into one jsonpath
// predicate, `"data" @@ '$."f" == "a" || exists($."f" ? (@."objectId" == "x"
// && ...))'`, which the GIN index answers with one probe per value; lax mode
// unwraps an array field, which gives the element match. (Containment
// documents under ANY made the planner give up the index for long $in
// lists.) Stored Pointers and Dates have exactly the keys of the value, so
// matching every key is equality. Other objects and arrays are containment
// documents {"f":v} and {"f":[v]} followed by an exact comparison, since
// containment is only a superset test for them.
func (b *condBuilder) eqAny(t target, vals []any) (frag, error) {
	if t.column != "" {
		return eqColumn(t.column, vals)
	}
	var path strings.Builder
	var docs, exact, elems []string
	var hasNull bool
	field := jsonpathField(t.segs)
	for _, v := range vals {
		jv, err := toJSONValue(v)
		if err != nil {
			return frag{}, err
		}
		if jv.kind == kindNull {
			hasNull = true
			continue
		}
		if pred, ok := jsonpathEq(field, jv); ok {
			if path.Len() > 0 {
				path.WriteString(" || ")
			}
			path.WriteString(pred)
			continue
		}
		docs = append(docs, string(wrapPath(t.segs, jv.json)))
		exact = append(exact, string(jv.json))
		if jv.kind != kindArray {
			docs = append(docs, string(wrapPath(t.segs, append(append([]byte{'['}, jv.json...), ']'))))
			elems = append(elems, string(jv.json))
		}
	}
	var parts []frag
	if path.Len() > 0 {
		parts = append(parts, frag{sql: `"data" @@ ?::jsonpath`, args: []any{path.String()}})
	}
	if len(docs) > 0 {
		x, xargs := t.json()
		args := append([]any{docs}, xargs...)
		args = append(args, exact)
		args = append(args, xargs...)
		args = append(args, elems)
		parts = append(parts, frag{
			sql: `("data" @> ANY(?::text[]::jsonb[]) AND (` + x + ` = ANY(?::text[]::jsonb[]) OR ` +
				b.s.nsq + `.parsego_array_has_any(` + x + `, ?::text[]::jsonb[])))`,
			args: args,
		})
	}
	if hasNull {
		parts = append(parts, isNull(t))
	}
	return join("OR", parts), nil
}

// jsonpathField is the jsonpath of a field: $."a"."b".
func jsonpathField(segs []string) string {
	var b strings.Builder
	b.WriteByte('$')
	for _, seg := range segs {
		b.WriteByte('.')
		b.Write(jsonString(seg))
	}
	return b.String()
}

// jsonpathEq returns the jsonpath predicate "field equals jv" for a scalar,
// a Pointer or a Date; ok is false for other values. Literals are JSON,
// whose string escapes jsonpath shares; numbers are rewritten in Go's
// shortest form, which the jsonpath grammar takes whatever spelling the
// client sent.
func jsonpathEq(field string, jv jsonValue) (string, bool) {
	if !jsonpathable(jv) {
		return "", false
	}
	switch jv.kind {
	case kindString, kindBool:
		return field + " == " + string(jv.json), true
	case kindNumber:
		f, _ := strconv.ParseFloat(string(jv.json), 64)
		return field + " == " + strconv.FormatFloat(f, 'g', -1, 64), true
	case kindObject:
		var m map[string]string
		if json.Unmarshal(jv.json, &m) != nil {
			return "", false
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		b.WriteString("exists(" + field + " ? (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(" && ")
			}
			b.WriteString("@.")
			b.Write(jsonString(k))
			b.WriteString(" == ")
			b.Write(jsonString(m[k]))
		}
		b.WriteString("))")
		return b.String(), true
	}
	return "", false
}

// jsonpathable reports whether jsonpathEq takes jv: a string, boolean,
// finite number, Pointer or Date.
func jsonpathable(jv jsonValue) bool {
	switch jv.kind {
	case kindString, kindBool:
		return true
	case kindNumber:
		f, err := strconv.ParseFloat(string(jv.json), 64)
		return err == nil && !math.IsInf(f, 0)
	case kindObject:
		return jv.tagged
	}
	return false
}

// equalitiesOnly reports whether c is equalities and Ins (or nothing) of
// values jsonpathable or null, whose plan does not depend on their values:
// each is one jsonpath test that the GIN index answers (see eqAny), or a
// test on a column. Ranges are not: a narrow one and a wide one want
// different plans; nor are containment documents under ANY, whose generic
// plan is a scan.
func equalitiesOnly(c storage.Cond) bool {
	switch c := c.(type) {
	case nil:
		return true
	case storage.And:
		for _, x := range c {
			if !equalitiesOnly(x) {
				return false
			}
		}
		return true
	case storage.Cmp:
		return c.Op == storage.Eq && jsonpathValues([]any{c.Value})
	case storage.In:
		return !c.Not && jsonpathValues(c.Values)
	}
	return false
}

func jsonpathValues(vals []any) bool {
	for _, v := range vals {
		jv, err := toJSONValue(v)
		if err != nil || !jsonpathable(jv) && jv.kind != kindNull {
			return false
		}
	}
	return true
}

// jsonString is s as a JSON string literal.
func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// notIn negates the In condition f on t: the field must be present, as
// for the reference's NOT IN (a missing field is SQL NULL there). An empty
// In (FALSE) negates to TRUE, which holds for every object.
func notIn(t target, f frag) frag {
	if t.column != "" || f.sql == "FALSE" {
		return not(f)
	}
	x, args := t.json()
	present := frag{sql: "jsonb_typeof(" + x + ") <> 'null'", args: args}
	return join("AND", []frag{present, not(f)})
}

// isNull holds when the field is missing or null.
func isNull(t target) frag {
	x, args := t.json()
	return frag{sql: "COALESCE(jsonb_typeof(" + x + "), 'null') = 'null'", args: args}
}

// eqColumn compares objectId (with strings) or createdAt/updatedAt (with
// Dates); values of other types never match, and neither does null since
// the columns are never null.
func eqColumn(col string, vals []any) (frag, error) {
	var strs []string
	var times []time.Time
	for _, v := range vals {
		jv, err := toJSONValue(v)
		if err != nil {
			return frag{}, err
		}
		switch {
		case col == "objectId" && jv.kind == kindString:
			strs = append(strs, jv.str)
		case col != "objectId" && jv.date:
			times = append(times, jv.time)
		}
	}
	switch {
	case len(strs) > 0:
		return frag{sql: `"objectId" = ANY(?::text[])`, args: []any{strs}}, nil
	case len(times) > 0:
		return frag{sql: quoteIdent(col) + ` = ANY(?::timestamptz[])`, args: []any{times}}, nil
	}
	return fragFalse, nil
}

var cmpOps = map[storage.CmpOp]string{storage.Lt: "<", storage.Lte: "<=", storage.Gt: ">", storage.Gte: ">="}

// closedRanges returns the indexes of the comparisons among cs that bound a
// data path from below and from above with values of one JSON type (not
// Dates). jsonb orders values by type first, so such a pair only holds for
// values of that type and needs no jsonb_typeof test, which the planner
// can't estimate: without it, a range with an order on its field walks the
// field's index in order instead of sorting every match.
func closedRanges(cs []storage.Cond) map[int]bool {
	type bounds struct{ lower, upper []int }
	var byKey map[string]*bounds
	for i, c := range cs {
		cmp, ok := c.(storage.Cmp)
		if !ok || cmp.Op < storage.Lt || cmp.Op > storage.Gte {
			continue
		}
		jv, err := toJSONValue(cmp.Value)
		if err != nil || jv.date || jv.kind != kindNumber && jv.kind != kindString && jv.kind != kindBool {
			continue
		}
		if t, err := resolveField(cmp.Field); err != nil || t.column != "" {
			continue
		}
		if byKey == nil {
			byKey = map[string]*bounds{}
		}
		key := cmp.Field + "\x00" + strconv.Itoa(jv.kind)
		bd := byKey[key]
		if bd == nil {
			bd = &bounds{}
			byKey[key] = bd
		}
		if cmp.Op == storage.Gt || cmp.Op == storage.Gte {
			bd.lower = append(bd.lower, i)
		} else {
			bd.upper = append(bd.upper, i)
		}
	}
	var out map[int]bool
	for _, bd := range byKey {
		if len(bd.lower) == 0 || len(bd.upper) == 0 {
			continue
		}
		if out == nil {
			out = map[int]bool{}
		}
		for _, i := range append(bd.lower, bd.upper...) {
			out[i] = true
		}
	}
	return out
}

// compare is Lt, Lte, Gt, Gte: values of the same type only. Numbers,
// strings and booleans compare as jsonb (which a btree index on ("data"->'f')
// serves), Dates by their ISO strings (a fixed-width UTC format, so byte
// order is time order). A bound of a closed range needs no type test.
func (b *condBuilder) compare(t target, op storage.CmpOp, v any, closed bool) (frag, error) {
	jv, err := toJSONValue(v)
	if err != nil {
		return frag{}, err
	}
	sqlOp := cmpOps[op]
	if t.column != "" {
		switch {
		case t.column == "objectId" && jv.kind == kindString:
			return frag{sql: `"objectId" ` + sqlOp + ` ?`, args: []any{jv.str}}, nil
		case t.column != "objectId" && jv.date:
			return frag{sql: quoteIdent(t.column) + " " + sqlOp + " ?::timestamptz", args: []any{jv.time}}, nil
		}
		return fragFalse, nil
	}
	if f, ok := b.numberCompare(t, op, jv); ok {
		return f, nil
	}
	x, xargs := t.json()
	if jv.date {
		return frag{
			sql:  "(" + x + `->>'__type' = 'Date' AND (` + x + `->>'iso') COLLATE "C" ` + sqlOp + " ?::text)",
			args: append(append(xargs, xargs...), jv.time.UTC().Format(isoMillis)),
		}, nil
	}
	if closed {
		return frag{sql: x + " " + sqlOp + " ?::jsonb", args: append(xargs, string(jv.json))}, nil
	}
	var typ string
	switch jv.kind {
	case kindNumber:
		typ = "number"
	case kindString:
		typ = "string"
	case kindBool:
		typ = "boolean"
	default:
		return frag{}, fmt.Errorf("postgres: %s with %s: %w", op, jv.json, storage.ErrInvalidQuery)
	}
	return frag{
		sql:  "(jsonb_typeof(" + x + ") = '" + typ + "' AND " + x + " " + sqlOp + " ?::jsonb)",
		args: append(append(xargs, xargs...), string(jv.json)),
	}, nil
}

// numberCompare compares a field that has a number column with a number:
// the column holds only the field's numbers, so no type test is needed.
func (b *condBuilder) numberCompare(t target, op storage.CmpOp, jv jsonValue) (frag, bool) {
	if jv.kind != kindNumber || len(t.segs) != 1 || !b.nums[t.segs[0]] {
		return frag{}, false
	}
	field := t.segs[0]
	f, err := strconv.ParseFloat(string(jv.json), 64)
	if err != nil {
		return frag{}, false
	}
	return frag{sql: quoteIdent(numberColumn(field)) + " " + cmpOps[op] + " ?::float8", args: []any{f}}, true
}

func (b *condBuilder) exists(c storage.Exists) (frag, error) {
	t, err := resolveField(c.Field)
	if err != nil {
		return frag{}, err
	}
	if t.column != "" {
		if c.Exists {
			return fragTrue, nil
		}
		return fragFalse, nil
	}
	if !c.Exists {
		return isNull(t), nil
	}
	x, args := t.json()
	return frag{sql: "jsonb_typeof(" + x + ") <> 'null'", args: args}, nil
}

// all holds when the array field contains every value: one containment
// document {"f":[v1,v2,...]} (GIN), then an exact element test when a value
// is structured. An empty All matches nothing, as on MongoDB.
func (b *condBuilder) all(c storage.All) (frag, error) {
	t, err := resolveField(c.Field)
	if err != nil {
		return frag{}, err
	}
	if t.column != "" || len(c.Values) == 0 {
		return fragFalse, nil
	}
	var arr bytes.Buffer
	var exact []string
	structured := false
	arr.WriteByte('[')
	for i, v := range c.Values {
		jv, err := toJSONValue(v)
		if err != nil {
			return frag{}, err
		}
		if i > 0 {
			arr.WriteByte(',')
		}
		arr.Write(jv.json)
		exact = append(exact, string(jv.json))
		if jv.kind == kindArray || jv.kind == kindObject && !jv.tagged {
			structured = true
		}
	}
	arr.WriteByte(']')
	f := frag{sql: `"data" @> ?::jsonb`, args: []any{string(wrapPath(t.segs, arr.Bytes()))}}
	if structured {
		x, xargs := t.json()
		f = frag{
			sql:  `("data" @> ?::jsonb AND ` + b.s.nsq + `.parsego_array_has_all(` + x + `, ?::text[]::jsonb[]))`,
			args: append(append(f.args, xargs...), exact),
		}
	}
	return f, nil
}

func (b *condBuilder) regex(c storage.Regex) (frag, error) {
	t, err := resolveField(c.Field)
	if err != nil {
		return frag{}, err
	}
	pattern, err := translateRegex(c.Pattern, c.Options)
	if err != nil {
		return frag{}, err
	}
	switch t.column {
	case "objectId":
		return frag{sql: `"objectId" ~ ?::text`, args: []any{pattern}}, nil
	case "":
	default:
		return fragFalse, nil
	}
	x, xargs := t.json()
	tx, targs := t.text()
	return frag{
		sql:  "(jsonb_typeof(" + x + ") = 'string' AND " + tx + " ~ ?::text)",
		args: append(append(xargs, targs...), pattern),
	}, nil
}

func (b *condBuilder) relatedTo(c storage.RelatedTo) (frag, error) {
	r := c.Relation
	if err := checkRelation(r); err != nil {
		return frag{}, err
	}
	jt := joinName(r.Field, r.OwningClass)
	if b.missing[jt] {
		return fragFalse, nil
	}
	return frag{
		sql:  `"objectId" IN (SELECT "relatedId" FROM ` + b.s.nsq + "." + quoteIdent(jt) + ` WHERE "owningId" = ?::text)`,
		args: []any{r.OwningID},
	}, nil
}
