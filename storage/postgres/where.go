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
	"github.com/parsego/parse/storage/internal/sqlkit"
)

// condBuilder translates storage.Cond into SQL on one class's table.
type condBuilder struct {
	s       *Store
	missing map[string]bool     // join tables known not to exist
	nums    map[string]bool     // fields with a number column (numcols.go)
	strs    map[string]strIndex // String fields with an index of their own (numcols.go)
}

func (b *condBuilder) build(c storage.Cond) (sqlkit.Frag, error) {
	switch c := c.(type) {
	case nil:
		return sqlkit.True, nil
	case storage.And:
		return b.list("AND", c)
	case storage.Or:
		return b.list("OR", c)
	case storage.Nor:
		f, err := b.list("OR", c)
		return sqlkit.Not(f), err
	case storage.Cmp:
		return b.cmp(c, false)
	case storage.In:
		t, err := sqlkit.ResolveField(c.Field)
		if err != nil {
			return sqlkit.Frag{}, err
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
	return sqlkit.Frag{}, fmt.Errorf("postgres: condition %T: %w", c, storage.ErrUnsupported)
}

func (b *condBuilder) list(op string, cs []storage.Cond) (sqlkit.Frag, error) {
	parts := make([]sqlkit.Frag, 0, len(cs))
	var closed map[int]bool
	if op == "AND" {
		closed = closedRanges(cs)
	}
	for i, c := range cs {
		var f sqlkit.Frag
		var err error
		if closed[i] {
			f, err = b.cmp(c.(storage.Cmp), true)
		} else {
			f, err = b.build(c)
		}
		if err != nil {
			return sqlkit.Frag{}, err
		}
		parts = append(parts, f)
	}
	return sqlkit.Join(op, parts), nil
}

// targetJSON returns the field's JSON value: "data"->$a->$b. Path segments are
// bind parameters; with PostgreSQL's custom plans an expression index on
// ("data"->'f') still matches.
func targetJSON(t sqlkit.Target) (string, []any) {
	var b strings.Builder
	b.WriteString(`"data"`)
	args := make([]any, len(t.Segs))
	for i, seg := range t.Segs {
		b.WriteString("->?::text")
		args[i] = seg
	}
	return b.String(), args
}

// targetText returns the field's value as text ("data"->$a->>$b).
func targetText(t sqlkit.Target) (string, []any) {
	var b strings.Builder
	b.WriteString(`"data"`)
	args := make([]any, len(t.Segs))
	for i, seg := range t.Segs {
		if i == len(t.Segs)-1 {
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

// cmp is one comparison; closed marks a bound of a closed range (see
// closedRanges).
func (b *condBuilder) cmp(c storage.Cmp, closed bool) (sqlkit.Frag, error) {
	t, err := sqlkit.ResolveField(c.Field)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	switch c.Op {
	case storage.Eq:
		return b.eqAny(t, []any{c.Value})
	case storage.Ne:
		f, err := b.eqAny(t, []any{c.Value})
		return sqlkit.Not(f), err
	case storage.Lt, storage.Lte, storage.Gt, storage.Gte:
		return b.compare(t, c.Op, c.Value, closed)
	}
	return sqlkit.Frag{}, fmt.Errorf("postgres: comparison %d: %w", c.Op, storage.ErrUnsupported)
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
//
// A String field with an index of its own is compared with the index's
// expression, which the btree answers with far less work than the GIN index
// and the jsonpath recheck: its values are strings (or null), so equality
// has no array to look into.
func (b *condBuilder) eqAny(t sqlkit.Target, vals []any) (sqlkit.Frag, error) {
	if t.Column != "" {
		return eqColumn(t.Column, vals)
	}
	if len(t.Segs) == 1 && b.strs[t.Segs[0]] != 0 {
		return eqIndexed(t, vals, b.strs[t.Segs[0]])
	}
	var path strings.Builder
	var docs, exact, elems []string
	var hasNull bool
	field := jsonpathField(t.Segs)
	for _, v := range vals {
		jv, err := sqlkit.ValueOf(v)
		if err != nil {
			return sqlkit.Frag{}, err
		}
		if jv.Kind == sqlkit.KindNull {
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
		docs = append(docs, string(wrapPath(t.Segs, jv.JSON)))
		exact = append(exact, string(jv.JSON))
		if jv.Kind != sqlkit.KindArray {
			docs = append(docs, string(wrapPath(t.Segs, append(append([]byte{'['}, jv.JSON...), ']'))))
			elems = append(elems, string(jv.JSON))
		}
	}
	var parts []sqlkit.Frag
	if path.Len() > 0 {
		parts = append(parts, sqlkit.Frag{SQL: `"data" @@ ?::jsonpath`, Args: []any{path.String()}})
	}
	if len(docs) > 0 {
		x, xargs := targetJSON(t)
		args := append([]any{docs}, xargs...)
		args = append(args, exact)
		args = append(args, xargs...)
		args = append(args, elems)
		parts = append(parts, sqlkit.Frag{
			SQL: `("data" @> ANY(?::text[]::jsonb[]) AND (` + x + ` = ANY(?::text[]::jsonb[]) OR ` +
				b.s.nsq + `.parsego_array_has_any(` + x + `, ?::text[]::jsonb[])))`,
			Args: args,
		})
	}
	if hasNull {
		parts = append(parts, isNull(t))
	}
	return sqlkit.Join("OR", parts), nil
}

// eqIndexed is eqAny on a String field with an index of its own: the
// values compared with the index's expression, the field's name written
// into the text so that the planner matches it. On a unique index's text
// (->>) only strings can match: a number 1 must not equal the string "1".
func eqIndexed(t sqlkit.Target, vals []any, ix strIndex) (sqlkit.Frag, error) {
	name := sqlkit.QuoteLiteral(t.Segs[0])
	x, cast := `("data" -> `+name+`)`, "jsonb"
	if ix == textIndex {
		x, cast = `("data" ->> `+name+`)`, "text"
	}
	var keys []string
	var hasNull bool
	for _, v := range vals {
		jv, err := sqlkit.ValueOf(v)
		if err != nil {
			return sqlkit.Frag{}, err
		}
		switch {
		case jv.Kind == sqlkit.KindNull:
			hasNull = true
		case ix == jsonIndex:
			keys = append(keys, string(jv.JSON))
		case jv.Kind == sqlkit.KindString:
			keys = append(keys, jv.Str)
		}
	}
	var parts []sqlkit.Frag
	switch len(keys) {
	case 0:
	case 1:
		parts = append(parts, sqlkit.Frag{SQL: x + ` = ?::` + cast, Args: []any{keys[0]}})
	default:
		parts = append(parts, sqlkit.Frag{SQL: x + ` = ANY(?::text[]::` + cast + `[])`, Args: []any{keys}})
	}
	if hasNull {
		parts = append(parts, isNull(t))
	}
	return sqlkit.Join("OR", parts), nil
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
func jsonpathEq(field string, jv sqlkit.Value) (string, bool) {
	if !jsonpathable(jv) {
		return "", false
	}
	switch jv.Kind {
	case sqlkit.KindString, sqlkit.KindBool:
		return field + " == " + string(jv.JSON), true
	case sqlkit.KindNumber:
		f, _ := strconv.ParseFloat(string(jv.JSON), 64)
		return field + " == " + strconv.FormatFloat(f, 'g', -1, 64), true
	case sqlkit.KindObject:
		var m map[string]string
		if json.Unmarshal(jv.JSON, &m) != nil {
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
func jsonpathable(jv sqlkit.Value) bool {
	switch jv.Kind {
	case sqlkit.KindString, sqlkit.KindBool:
		return true
	case sqlkit.KindNumber:
		f, err := strconv.ParseFloat(string(jv.JSON), 64)
		return err == nil && !math.IsInf(f, 0)
	case sqlkit.KindObject:
		return jv.Tagged
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
		jv, err := sqlkit.ValueOf(v)
		if err != nil || !jsonpathable(jv) && jv.Kind != sqlkit.KindNull {
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
func notIn(t sqlkit.Target, f sqlkit.Frag) sqlkit.Frag {
	if t.Column != "" || f.SQL == "FALSE" {
		return sqlkit.Not(f)
	}
	return sqlkit.Join("AND", []sqlkit.Frag{present(t), sqlkit.Not(f)})
}

// present holds when the field is present and not null.
func present(t sqlkit.Target) sqlkit.Frag {
	x, args := targetJSON(t)
	return sqlkit.Frag{SQL: "jsonb_typeof(" + x + ") <> 'null'", Args: args}
}

// isNull holds when the field is missing or null.
func isNull(t sqlkit.Target) sqlkit.Frag {
	x, args := targetJSON(t)
	return sqlkit.Frag{SQL: "COALESCE(jsonb_typeof(" + x + "), 'null') = 'null'", Args: args}
}

// eqColumn compares objectId (with strings) or createdAt/updatedAt (with
// Dates); values of other types never match, and neither does null since
// the columns are never null.
func eqColumn(col string, vals []any) (sqlkit.Frag, error) {
	var strs []string
	var times []time.Time
	for _, v := range vals {
		jv, err := sqlkit.ValueOf(v)
		if err != nil {
			return sqlkit.Frag{}, err
		}
		switch {
		case col == "objectId" && jv.Kind == sqlkit.KindString:
			strs = append(strs, jv.Str)
		case col != "objectId" && jv.Date:
			times = append(times, jv.Time)
		}
	}
	switch {
	case len(strs) > 0:
		return sqlkit.Frag{SQL: `"objectId" = ANY(?::text[])`, Args: []any{strs}}, nil
	case len(times) > 0:
		return sqlkit.Frag{SQL: quoteIdent(col) + ` = ANY(?::timestamptz[])`, Args: []any{times}}, nil
	}
	return sqlkit.False, nil
}

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
		jv, err := sqlkit.ValueOf(cmp.Value)
		if err != nil || jv.Date || jv.Kind != sqlkit.KindNumber && jv.Kind != sqlkit.KindString && jv.Kind != sqlkit.KindBool {
			continue
		}
		if t, err := sqlkit.ResolveField(cmp.Field); err != nil || t.Column != "" {
			continue
		}
		if byKey == nil {
			byKey = map[string]*bounds{}
		}
		key := cmp.Field + "\x00" + strconv.Itoa(jv.Kind)
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
func (b *condBuilder) compare(t sqlkit.Target, op storage.CmpOp, v any, closed bool) (sqlkit.Frag, error) {
	jv, err := sqlkit.ValueOf(v)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	sqlOp := sqlkit.CmpOps[op]
	if t.Column != "" {
		switch {
		case t.Column == "objectId" && jv.Kind == sqlkit.KindString:
			return sqlkit.Frag{SQL: `"objectId" ` + sqlOp + ` ?`, Args: []any{jv.Str}}, nil
		case t.Column != "objectId" && jv.Date:
			return sqlkit.Frag{SQL: quoteIdent(t.Column) + " " + sqlOp + " ?::timestamptz", Args: []any{jv.Time}}, nil
		}
		return sqlkit.False, nil
	}
	if f, ok := b.numberCompare(t, op, jv); ok {
		return f, nil
	}
	x, xargs := targetJSON(t)
	if jv.Date {
		return sqlkit.Frag{
			SQL:  "(" + x + `->>'__type' = 'Date' AND (` + x + `->>'iso') COLLATE "C" ` + sqlOp + " ?::text)",
			Args: append(append(xargs, xargs...), jv.Time.UTC().Format(sqlkit.ISOMillis)),
		}, nil
	}
	if closed {
		return sqlkit.Frag{SQL: x + " " + sqlOp + " ?::jsonb", Args: append(xargs, string(jv.JSON))}, nil
	}
	var typ string
	switch jv.Kind {
	case sqlkit.KindNumber:
		typ = "number"
	case sqlkit.KindString:
		typ = "string"
	case sqlkit.KindBool:
		typ = "boolean"
	default:
		return sqlkit.Frag{}, fmt.Errorf("postgres: %s with %s: %w", op, jv.JSON, storage.ErrInvalidQuery)
	}
	return sqlkit.Frag{
		SQL:  "(jsonb_typeof(" + x + ") = '" + typ + "' AND " + x + " " + sqlOp + " ?::jsonb)",
		Args: append(append(xargs, xargs...), string(jv.JSON)),
	}, nil
}

// numberCompare compares a field that has a number column with a number:
// the column holds only the field's numbers, so no type test is needed.
func (b *condBuilder) numberCompare(t sqlkit.Target, op storage.CmpOp, jv sqlkit.Value) (sqlkit.Frag, bool) {
	if jv.Kind != sqlkit.KindNumber || len(t.Segs) != 1 || !b.nums[t.Segs[0]] {
		return sqlkit.Frag{}, false
	}
	field := t.Segs[0]
	f, err := strconv.ParseFloat(string(jv.JSON), 64)
	if err != nil {
		return sqlkit.Frag{}, false
	}
	return sqlkit.Frag{SQL: quoteIdent(numberColumn(field)) + " " + sqlkit.CmpOps[op] + " ?::float8", Args: []any{f}}, true
}

func (b *condBuilder) exists(c storage.Exists) (sqlkit.Frag, error) {
	t, err := sqlkit.ResolveField(c.Field)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	if t.Column != "" {
		if c.Exists {
			return sqlkit.True, nil
		}
		return sqlkit.False, nil
	}
	if !c.Exists {
		return isNull(t), nil
	}
	return present(t), nil
}

// all holds when the array field contains every value: one containment
// document {"f":[v1,v2,...]} (GIN), then an exact element test when a value
// is structured. An empty All matches nothing, as on MongoDB.
func (b *condBuilder) all(c storage.All) (sqlkit.Frag, error) {
	t, err := sqlkit.ResolveField(c.Field)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	if t.Column != "" || len(c.Values) == 0 {
		return sqlkit.False, nil
	}
	var arr bytes.Buffer
	var exact []string
	structured := false
	arr.WriteByte('[')
	for i, v := range c.Values {
		jv, err := sqlkit.ValueOf(v)
		if err != nil {
			return sqlkit.Frag{}, err
		}
		if i > 0 {
			arr.WriteByte(',')
		}
		arr.Write(jv.JSON)
		exact = append(exact, string(jv.JSON))
		if jv.Kind == sqlkit.KindArray || jv.Kind == sqlkit.KindObject && !jv.Tagged {
			structured = true
		}
	}
	arr.WriteByte(']')
	f := sqlkit.Frag{SQL: `"data" @> ?::jsonb`, Args: []any{string(wrapPath(t.Segs, arr.Bytes()))}}
	if structured {
		x, xargs := targetJSON(t)
		f = sqlkit.Frag{
			SQL:  `("data" @> ?::jsonb AND ` + b.s.nsq + `.parsego_array_has_all(` + x + `, ?::text[]::jsonb[]))`,
			Args: append(append(f.Args, xargs...), exact),
		}
	}
	return f, nil
}

func (b *condBuilder) regex(c storage.Regex) (sqlkit.Frag, error) {
	t, err := sqlkit.ResolveField(c.Field)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	pattern, err := translateRegex(c.Pattern, c.Options)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	switch t.Column {
	case "objectId":
		return sqlkit.Frag{SQL: `"objectId" ~ ?::text`, Args: []any{pattern}}, nil
	case "":
	default:
		return sqlkit.False, nil
	}
	x, xargs := targetJSON(t)
	tx, targs := targetText(t)
	return sqlkit.Frag{
		SQL:  "(jsonb_typeof(" + x + ") = 'string' AND " + tx + " ~ ?::text)",
		Args: append(append(xargs, targs...), pattern),
	}, nil
}

func (b *condBuilder) relatedTo(c storage.RelatedTo) (sqlkit.Frag, error) {
	r := c.Relation
	if err := checkRelation(r); err != nil {
		return sqlkit.Frag{}, err
	}
	jt := sqlkit.JoinName(r.Field, r.OwningClass)
	if b.missing[jt] {
		return sqlkit.False, nil
	}
	return sqlkit.Frag{
		SQL:  `"objectId" IN (SELECT "relatedId" FROM ` + b.s.nsq + "." + quoteIdent(jt) + ` WHERE "owningId" = ?::text)`,
		Args: []any{r.OwningID},
	}, nil
}
