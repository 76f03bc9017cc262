package sqlite

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

// Times are stored as fixed-width UTC text, so that text order is time
// order; Dates in documents keep Parse's millisecond ISO form.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// An ACL list is stored as NULL (public) or as its entries each followed
// by "|", with "%" and "|" inside entries escaped: "|*|role:Admin|". An
// entry is then a substring test, exact whatever the entries hold, which
// costs a fraction of walking a JSON array on every row.
var (
	permEscaper   = strings.NewReplacer("%", "%25", "|", "%7C")
	permUnescaper = strings.NewReplacer("%25", "%", "%7C", "|")
)

// permEntry is one entry as it appears in a stored list.
func permEntry(p string) string { return "|" + permEscaper.Replace(p) + "|" }

func encodePerms(perms []string) any {
	if perms == nil {
		return nil
	}
	var b strings.Builder
	b.WriteByte('|')
	for _, p := range perms {
		b.WriteString(permEscaper.Replace(p))
		b.WriteByte('|')
	}
	return b.String()
}

func decodePerms(s string) ([]string, error) {
	if !strings.HasPrefix(s, "|") || !strings.HasSuffix(s, "|") {
		return nil, fmt.Errorf("sqlite: stored ACL %q: not a list", s)
	}
	perms := []string{}
	if s == "|" {
		return perms, nil
	}
	for _, p := range strings.Split(s[1:len(s)-1], "|") {
		perms = append(perms, permUnescaper.Replace(p))
	}
	return perms, nil
}

// permCheck is the ACL condition on "_rperm" or "_wperm": public (NULL) or
// sharing an entry with perms. nil perms: no check.
func permCheck(col string, perms []string) sqlkit.Frag {
	if perms == nil {
		return sqlkit.True
	}
	parts := []string{col + " IS NULL"}
	args := make([]any, len(perms))
	for i, p := range perms {
		parts = append(parts, "instr("+col+", ?) > 0")
		args[i] = permEntry(p)
	}
	return sqlkit.Frag{SQL: "(" + strings.Join(parts, " OR ") + ")", Args: args}
}

// JSON paths. Segments are validated identifiers, written into the text
// as literals so that expressions match the expression indexes.

func jsonPath(segs []string) string { return "$." + strings.Join(segs, ".") }

func pathLit(segs []string, more ...string) string {
	return sqlkit.QuoteLiteral(jsonPath(append(append([]string{}, segs...), more...)))
}

// extract is the field's SQL value (json_extract: text, number, 0/1 for
// booleans, JSON text for objects and arrays, NULL for null or missing).
func extract(segs []string, more ...string) string {
	return `json_extract("data", ` + pathLit(segs, more...) + `)`
}

// typeOf is the field's JSON type ('text', 'integer', 'real', 'true',
// 'false', 'null', 'object', 'array'), NULL when missing.
func typeOf(segs []string) string { return `json_type("data", ` + pathLit(segs) + `)` }

// rawJSON is the field's JSON text, NULL when missing.
func rawJSON(segs []string) string { return `("data" -> ` + pathLit(segs) + `)` }

// condBuilder translates storage.Cond into SQL on one class's table.
type condBuilder struct {
	missing map[string]bool   // tables known not to exist
	types   map[string]string // the class's field types (scalar)
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
		return b.cmp(c)
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
		return exists(c)
	case storage.All:
		return all(c)
	case storage.Regex:
		return regex(c)
	case storage.RelatedTo:
		return b.relatedTo(c)
	case storage.Near: // geo conditions: geo.go
		return near(c)
	case storage.WithinBox:
		return withinBox(c)
	case storage.WithinPolygon:
		return withinPolygon(c)
	case storage.WithinCenterSphere:
		return withinDistance(c.Field, c.Center, c.Radians, false)
	case storage.IntersectsPoint:
		return intersectsPoint(c)
	case storage.InQuery: // relational conditions: subquery.go
		return b.inQuery(c)
	case storage.Select:
		return b.selectCond(c)
	case storage.ContainedBy:
		return containedBy(c)
	case storage.RelationHas:
		return b.relationHas(c)
	}
	return sqlkit.Frag{}, fmt.Errorf("sqlite: condition %T: %w", c, storage.ErrUnsupported)
}

func (b *condBuilder) list(op string, cs []storage.Cond) (sqlkit.Frag, error) {
	parts := make([]sqlkit.Frag, 0, len(cs))
	for _, c := range cs {
		f, err := b.build(c)
		if err != nil {
			return sqlkit.Frag{}, err
		}
		parts = append(parts, f)
	}
	return sqlkit.Join(op, parts), nil
}

func (b *condBuilder) cmp(c storage.Cmp) (sqlkit.Frag, error) {
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
		return compare(t, c.Op, c.Value)
	}
	return sqlkit.Frag{}, fmt.Errorf("sqlite: comparison %d: %w", c.Op, storage.ErrUnsupported)
}

// jsonList is a JSON array of values, one bind parameter.
func jsonList[T any](vals []T) string {
	b, _ := json.Marshal(vals)
	return string(b)
}

// eqAny holds when the field equals one of vals, an array field also
// matching when it holds one of them as an element (an array value only
// matches the whole array). Strings, numbers and booleans are compared in
// SQL, json_extract first so that an index on the field serves it, and so
// are Pointers and Dates, on their objectId or iso (stored Pointers and
// Dates have exactly the keys of the value, so matching every key is
// equality); other values by JSON equality in Go (parsego_eq). Array
// elements are looked at unless the field is known to hold no array
// (scalar, see condBuilder.scalar), which keeps the index usable.
func (b *condBuilder) eqAny(t sqlkit.Target, vals []any) (sqlkit.Frag, error) {
	if t.Column != "" {
		return eqColumn(t.Column, vals)
	}
	var strs []string
	var nums []float64
	var bools []string
	var tagged, others []json.RawMessage
	var parts []sqlkit.Frag
	hasNull := false
	for _, v := range vals {
		jv, err := sqlkit.ValueOf(v)
		if err != nil {
			return sqlkit.Frag{}, err
		}
		switch {
		case jv.Kind == sqlkit.KindNull:
			hasNull = true
		case jv.Kind == sqlkit.KindString:
			strs = append(strs, jv.Str)
		case jv.Kind == sqlkit.KindNumber:
			nums = append(nums, jv.Num)
		case jv.Kind == sqlkit.KindBool:
			bools = append(bools, sqlkit.QuoteLiteral(strconv.FormatBool(jv.Bool)))
		case jv.Pointer != nil:
			tagged = append(tagged, jv.JSON)
			parts = append(parts, sqlkit.Frag{
				SQL:  "(" + extract(t.Segs, "objectId") + " = ? AND " + extract(t.Segs, "className") + " = ? AND " + extract(t.Segs, "__type") + " = 'Pointer')",
				Args: []any{jv.Pointer[1], jv.Pointer[0]},
			})
		case jv.Date && jv.ISO != "":
			tagged = append(tagged, jv.JSON)
			parts = append(parts, sqlkit.Frag{
				SQL:  "(" + extract(t.Segs, "iso") + " = ? AND " + extract(t.Segs, "__type") + " = 'Date')",
				Args: []any{jv.ISO},
			})
		default:
			others = append(others, jv.JSON)
		}
	}
	x, typ := extract(t.Segs), typeOf(t.Segs)
	var elems []sqlkit.Frag
	in := func(list string, one any, n int) (string, any) {
		if n == 1 {
			return " = ?", one
		}
		return " IN (SELECT value FROM json_each(?))", list
	}
	if len(strs) > 0 {
		op, arg := in(jsonList(strs), strs[0], len(strs))
		parts = append(parts, sqlkit.Frag{SQL: "(" + x + op + " AND " + typ + " = 'text')", Args: []any{arg}})
		elems = append(elems, sqlkit.Frag{SQL: "(e.type = 'text' AND e.value" + op + ")", Args: []any{arg}})
	}
	if len(nums) > 0 {
		op, arg := in(jsonList(nums), nums[0], len(nums))
		parts = append(parts, sqlkit.Frag{SQL: "(" + x + op + " AND " + typ + " IN ('integer', 'real'))", Args: []any{arg}})
		elems = append(elems, sqlkit.Frag{SQL: "(e.type IN ('integer', 'real') AND e.value" + op + ")", Args: []any{arg}})
	}
	if len(bools) > 0 {
		set := strings.Join(bools, ", ")
		parts = append(parts, sqlkit.Frag{SQL: typ + " IN (" + set + ")"})
		elems = append(elems, sqlkit.Frag{SQL: "e.type IN (" + set + ")"})
	}
	if !b.scalar(t) {
		if len(elems) > 0 {
			el := sqlkit.Join("OR", elems)
			parts = append(parts, sqlkit.Frag{
				SQL:  "(" + typ + ` = 'array' AND EXISTS (SELECT 1 FROM json_each("data", ` + pathLit(t.Segs) + `) e WHERE ` + el.SQL + "))",
				Args: el.Args,
			})
		}
		if len(tagged) > 0 {
			parts = append(parts, sqlkit.Frag{SQL: "(" + typ + " = 'array' AND parsego_eq(" + rawJSON(t.Segs) + ", ?))", Args: []any{jsonList(tagged)}})
		}
	}
	if len(others) > 0 {
		parts = append(parts, sqlkit.Frag{SQL: "parsego_eq(" + rawJSON(t.Segs) + ", ?)", Args: []any{jsonList(others)}})
	}
	if hasNull {
		parts = append(parts, isNull(t))
	}
	return sqlkit.Join("OR", parts), nil
}

// scalar reports whether the field is a top-level field of the class whose
// schema type can't hold an array, so that Eq needs no look into array
// elements.
func (b *condBuilder) scalar(t sqlkit.Target) bool {
	if len(t.Segs) != 1 {
		return false
	}
	switch b.types[t.Segs[0]] {
	case "", "Array", "Object":
		return false
	}
	return true
}

// notIn negates the In condition f on t: the field must be present, as
// for the reference's NOT IN. An empty In (FALSE) negates to TRUE.
func notIn(t sqlkit.Target, f sqlkit.Frag) sqlkit.Frag {
	if t.Column != "" || f.SQL == "FALSE" {
		return sqlkit.Not(f)
	}
	return sqlkit.Join("AND", []sqlkit.Frag{present(t), sqlkit.Not(f)})
}

// present holds when the field is present and not null.
func present(t sqlkit.Target) sqlkit.Frag {
	return sqlkit.Frag{SQL: "COALESCE(" + typeOf(t.Segs) + ", 'null') <> 'null'"}
}

// isNull holds when the field is missing or null.
func isNull(t sqlkit.Target) sqlkit.Frag {
	return sqlkit.Frag{SQL: "COALESCE(" + typeOf(t.Segs) + ", 'null') = 'null'"}
}

// eqColumn compares objectId (with strings) or createdAt/updatedAt (with
// Dates); values of other types never match.
func eqColumn(col string, vals []any) (sqlkit.Frag, error) {
	var keys []string
	for _, v := range vals {
		jv, err := sqlkit.ValueOf(v)
		if err != nil {
			return sqlkit.Frag{}, err
		}
		switch {
		case col == "objectId" && jv.Kind == sqlkit.KindString:
			keys = append(keys, jv.Str)
		case col != "objectId" && jv.Date:
			keys = append(keys, formatTime(jv.Time))
		}
	}
	switch len(keys) {
	case 0:
		return sqlkit.False, nil
	case 1:
		return sqlkit.Frag{SQL: quoteIdent(col) + " = ?", Args: []any{keys[0]}}, nil
	}
	return sqlkit.Frag{SQL: quoteIdent(col) + " IN (SELECT value FROM json_each(?))", Args: []any{jsonList(keys)}}, nil
}

// compare is Lt, Lte, Gt, Gte: values of the same type only. Dates compare
// by their ISO strings (a fixed-width UTC format, so byte order is time
// order).
func compare(t sqlkit.Target, op storage.CmpOp, v any) (sqlkit.Frag, error) {
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
			return sqlkit.Frag{SQL: quoteIdent(t.Column) + " " + sqlOp + " ?", Args: []any{formatTime(jv.Time)}}, nil
		}
		return sqlkit.False, nil
	}
	x, typ := extract(t.Segs), typeOf(t.Segs)
	switch {
	case jv.Date:
		return sqlkit.Frag{
			SQL:  "(" + extract(t.Segs, "iso") + " " + sqlOp + " ? AND " + extract(t.Segs, "__type") + " = 'Date')",
			Args: []any{jv.Time.UTC().Format(sqlkit.ISOMillis)},
		}, nil
	case jv.Kind == sqlkit.KindNumber:
		return sqlkit.Frag{SQL: "(" + x + " " + sqlOp + " ? AND " + typ + " IN ('integer', 'real'))", Args: []any{jv.Num}}, nil
	case jv.Kind == sqlkit.KindString:
		return sqlkit.Frag{SQL: "(" + x + " " + sqlOp + " ? AND " + typ + " = 'text')", Args: []any{jv.Str}}, nil
	case jv.Kind == sqlkit.KindBool:
		n := 0
		if jv.Bool {
			n = 1
		}
		return sqlkit.Frag{SQL: "(" + x + " " + sqlOp + " ? AND " + typ + " IN ('true', 'false'))", Args: []any{n}}, nil
	}
	return sqlkit.Frag{}, fmt.Errorf("sqlite: %s with %s: %w", op, jv.JSON, storage.ErrInvalidQuery)
}

func exists(c storage.Exists) (sqlkit.Frag, error) {
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

// all holds when the array field contains every value. An empty All
// matches nothing, as on MongoDB.
func all(c storage.All) (sqlkit.Frag, error) {
	t, err := sqlkit.ResolveField(c.Field)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	vals, err := jsonValues(c.Values)
	if err != nil || t.Column != "" || len(c.Values) == 0 {
		return sqlkit.False, err
	}
	return sqlkit.Frag{SQL: "parsego_all(" + rawJSON(t.Segs) + ", ?)", Args: []any{vals}}, nil
}

// jsonValues is a JSON array of condition values.
func jsonValues(vals []any) (string, error) {
	raws := make([]json.RawMessage, 0, len(vals))
	for _, v := range vals {
		jv, err := sqlkit.ValueOf(v)
		if err != nil {
			return "", err
		}
		raws = append(raws, jv.JSON)
	}
	return jsonList(raws), nil
}

// regex matches with Go's regexp (parsego_regexp), the syntax the contract
// names; the options become flags.
func regex(c storage.Regex) (sqlkit.Frag, error) {
	t, err := sqlkit.ResolveField(c.Field)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	pattern := c.Pattern
	flags := ""
	for _, o := range c.Options {
		switch o {
		case 'i', 'm', 's':
			flags += string(o)
		case 'x':
			pattern = storage.StripExtendedRegex(pattern)
		default:
			return sqlkit.Frag{}, fmt.Errorf("sqlite: regex option %q: %w", o, storage.ErrInvalidQuery)
		}
	}
	if flags != "" {
		pattern = "(?" + flags + ")" + pattern
	}
	if _, err := regexp.Compile(pattern); err != nil {
		return sqlkit.Frag{}, fmt.Errorf("sqlite: regex %q: %v: %w", c.Pattern, err, storage.ErrInvalidQuery)
	}
	switch t.Column {
	case "objectId":
		return sqlkit.Frag{SQL: `parsego_regexp(?, "objectId")`, Args: []any{pattern}}, nil
	case "":
	default:
		return sqlkit.False, nil
	}
	return sqlkit.Frag{SQL: "(" + typeOf(t.Segs) + " = 'text' AND parsego_regexp(?, " + extract(t.Segs) + "))", Args: []any{pattern}}, nil
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
		SQL:  `"objectId" IN (SELECT "relatedId" FROM ` + quoteIdent(jt) + ` WHERE "owningId" = ?)`,
		Args: []any{r.OwningID},
	}, nil
}

// orderBy returns the ORDER BY clause: the columns for objectId, createdAt
// and updatedAt, a Date's ISO string, other values as json_extract gives
// them; missing values last ascending and first descending, as PostgreSQL
// orders them. Unless objectId is a key, rowid (insertion order) ends the
// order as a tiebreaker, in the direction of the last key (see
// storage.Query.Order).
func orderBy(order []storage.Sort) (string, error) {
	if len(order) == 0 {
		return "", nil
	}
	var keys []string
	hasID := false
	for _, o := range order {
		dir := " ASC NULLS LAST"
		if o.Desc {
			dir = " DESC NULLS FIRST"
		}
		t, err := sqlkit.ResolveField(o.Field)
		if err != nil {
			return "", err
		}
		if t.Column != "" {
			keys = append(keys, quoteIdent(t.Column)+dir)
			hasID = hasID || t.Column == "objectId"
			continue
		}
		keys = append(keys, "COALESCE("+extract(t.Segs, "iso")+", "+extract(t.Segs)+")"+dir)
	}
	if !hasID {
		keys = append(keys, tiebreak(order[len(order)-1].Desc))
	}
	return " ORDER BY " + strings.Join(keys, ", "), nil
}

// tiebreak orders objects equal on every sort key by rowid, which SQLite
// assigns in increasing order as rows are inserted (the tables have no
// INTEGER PRIMARY KEY; VACUUM may renumber rowids but keeps their order).
func tiebreak(desc bool) string {
	if desc {
		return "rowid DESC"
	}
	return "rowid ASC"
}
