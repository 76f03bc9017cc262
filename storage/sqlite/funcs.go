package sqlite

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"modernc.org/sqlite"
)

// The Go functions statements call where SQLite's JSON functions can't say
// what a condition or an operator means. They are registered on a driver of
// the package's own (not the process-wide "sqlite" one), built once because
// modernc keeps registered functions for the life of the program.
var sqliteDriver = sync.OnceValue(newDriver)

// connector opens connections on sqliteDriver.
type connector struct{ dsn string }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return sqliteDriver().Open(c.dsn)
}

func (c connector) Driver() driver.Driver { return sqliteDriver() }

func newDriver() *sqlite.Driver {
	d := &sqlite.Driver{}
	re := &regexCache{m: map[string]*regexp.Regexp{}}
	funcs := []struct {
		name string
		n    int32
		fn   func(args []driver.Value) (driver.Value, error)
	}{
		{"parsego_eq", 2, jsonFunc(jsonEqAny)},
		{"parsego_all", 2, jsonFunc(jsonHasAll)},
		{"parsego_contained", 2, jsonFunc(jsonContainedBy)},
		{"parsego_canon", 1, canonFunc},
		{"parsego_regexp", 2, re.match},
		{"parsego_apply", 2, applyFunc},
		{"parsego_distance", 4, distanceFunc},
		{"parsego_in_polygon", 3, inPolygonFunc},
		{"parsego_polygon_has", 3, polygonHasFunc},
	}
	for _, f := range funcs {
		d.MustRegisterDeterministicScalarFunction(f.name, f.n, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			return f.fn(args)
		})
	}
	return d
}

// decodeJSON decodes a JSON text, numbers as json.Number.
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// textArg returns a TEXT (or BLOB) argument; ok is false for NULL.
func textArg(v driver.Value) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}

func floatArg(v driver.Value) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func boolValue(b bool) driver.Value {
	if b {
		return int64(1)
	}
	return int64(0)
}

// jsonFunc adapts a test of a field's JSON value (nil for a missing field,
// as "data" -> path gives SQL NULL) against a JSON array of values.
func jsonFunc(test func(field any, vals []any) bool) func(args []driver.Value) (driver.Value, error) {
	return func(args []driver.Value) (driver.Value, error) {
		var field any = missing{}
		if s, ok := textArg(args[0]); ok {
			v, err := decodeJSON(s)
			if err != nil {
				return nil, err
			}
			field = v
		}
		s, _ := textArg(args[1])
		v, err := decodeJSON(s)
		if err != nil {
			return nil, err
		}
		vals, _ := v.([]any)
		return boolValue(test(field, vals)), nil
	}
}

// canonFunc is parsego_canon(json): the canonical text of a JSON text
// (see canon), NULL for NULL.
func canonFunc(args []driver.Value) (driver.Value, error) {
	s, ok := textArg(args[0])
	if !ok {
		return nil, nil
	}
	v, err := decodeJSON(s)
	if err != nil {
		return nil, err
	}
	return canon(v), nil
}

// missing is a field that is absent, unlike JSON null (nil).
type missing struct{}

// canon is the canonical text of a decoded JSON value: object keys sorted,
// numbers in Go's shortest float form, so that values equal as jsonb
// values are (1 and 1.0 among them) have equal texts.
func canon(v any) string {
	var b strings.Builder
	writeCanon(&b, v)
	return b.String()
}

func writeCanon(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case json.Number:
		if f, err := x.Float64(); err == nil {
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		} else {
			b.WriteString(x.String())
		}
	case string:
		q, _ := json.Marshal(x)
		b.Write(q)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanon(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b.WriteByte(',')
			}
			q, _ := json.Marshal(k)
			b.Write(q)
			b.WriteByte(':')
			writeCanon(b, x[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, x)
	}
}

// jsonEqAny is Cmp Eq's rule: the field equals one of vals, or it is an array
// holding one of the non-array vals as an element.
func jsonEqAny(field any, vals []any) bool {
	if _, ok := field.(missing); ok {
		return false
	}
	f := canon(field)
	arr, isArr := field.([]any)
	for _, v := range vals {
		c := canon(v)
		if c == f {
			return true
		}
		if _, vArr := v.([]any); isArr && !vArr {
			for _, e := range arr {
				if canon(e) == c {
					return true
				}
			}
		}
	}
	return false
}

// jsonHasAll is All's rule: the field is an array holding each of vals.
func jsonHasAll(field any, vals []any) bool {
	arr, ok := field.([]any)
	if !ok || len(vals) == 0 {
		return false
	}
	have := make(map[string]bool, len(arr))
	for _, e := range arr {
		have[canon(e)] = true
	}
	for _, v := range vals {
		if !have[canon(v)] {
			return false
		}
	}
	return true
}

// jsonContainedBy is ContainedBy's rule: no element of the field's array is
// outside vals; anything that is not an array is contained.
func jsonContainedBy(field any, vals []any) bool {
	arr, ok := field.([]any)
	if !ok {
		return true
	}
	allowed := make(map[string]bool, len(vals))
	for _, v := range vals {
		allowed[canon(v)] = true
	}
	for _, e := range arr {
		if !allowed[canon(e)] {
			return false
		}
	}
	return true
}

// regexCache keeps the compiled patterns of recent statements.
type regexCache struct {
	mu sync.Mutex
	m  map[string]*regexp.Regexp
}

// match is parsego_regexp(pattern, value): the pattern is Go syntax, its
// options already spelt as flags (see where.go's regex).
func (c *regexCache) match(args []driver.Value) (driver.Value, error) {
	pattern, _ := textArg(args[0])
	s, ok := textArg(args[1])
	if !ok {
		return nil, nil
	}
	c.mu.Lock()
	re := c.m[pattern]
	c.mu.Unlock()
	if re == nil {
		var err error
		if re, err = regexp.Compile(pattern); err != nil {
			return nil, errors.New(markInvalid + err.Error())
		}
		c.mu.Lock()
		if len(c.m) >= 256 {
			clear(c.m)
		}
		c.m[pattern] = re
		c.mu.Unlock()
	}
	return boolValue(re.MatchString(s)), nil
}

// An operator of parsego_apply's list, as where.go's opsJSON writes it.
type opJSON struct {
	Path  []string        `json:"p"`
	Kind  int             `json:"k"`
	Value json.RawMessage `json:"v,omitempty"`
}

// Update operator kinds, as storage.OpKind numbers them.
const (
	opSet = iota
	opDelete
	opIncrement
	opAdd
	opAddUnique
	opRemove
)

// applyFunc is parsego_apply(doc, ops): the document with the operators
// applied in order, or a type mismatch error.
func applyFunc(args []driver.Value) (driver.Value, error) {
	docText, _ := textArg(args[0])
	opsText, _ := textArg(args[1])
	v, err := decodeJSON(docText)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		doc = map[string]any{}
	}
	var ops []opJSON
	if err := json.Unmarshal([]byte(opsText), &ops); err != nil {
		return nil, err
	}
	for _, op := range ops {
		if err := applyOp(doc, op); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// lookup returns the value at path, missing{} when a part of it is absent
// or not an object.
func lookup(doc map[string]any, path []string) any {
	var cur any = doc
	for _, seg := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return missing{}
		}
		if cur, ok = m[seg]; !ok {
			return missing{}
		}
	}
	return cur
}

// set stores val at path, creating missing or null intermediate objects.
func set(doc map[string]any, path []string, val any) error {
	m := doc
	for i, seg := range path[:len(path)-1] {
		switch next := m[seg].(type) {
		case nil:
			n := map[string]any{}
			m[seg] = n
			m = n
		case map[string]any:
			m = next
		default:
			return fmt.Errorf("%scannot set %s: %s is a %s", markTypeMismatch, strings.Join(path, "."), strings.Join(path[:i+1], "."), jsonTypeName(next))
		}
	}
	m[path[len(path)-1]] = val
	return nil
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// arrayAt returns the array at path: empty when missing or null.
func arrayAt(doc map[string]any, path []string, op string) ([]any, error) {
	switch cur := lookup(doc, path).(type) {
	case missing, nil:
		return []any{}, nil
	case []any:
		return cur, nil
	default:
		return nil, fmt.Errorf("%s%s on %s: the stored value is a %s, not an array", markTypeMismatch, op, strings.Join(path, "."), jsonTypeName(cur))
	}
}

func applyOp(doc map[string]any, op opJSON) error {
	if len(op.Path) == 0 {
		return errors.New(markInvalid + "operator without a field")
	}
	var val any
	if len(op.Value) > 0 {
		v, err := decodeJSON(string(op.Value))
		if err != nil {
			return errors.New(markInvalid + err.Error())
		}
		val = v
	}
	switch op.Kind {
	case opSet:
		return set(doc, op.Path, val)
	case opDelete:
		if m, ok := lookup(doc, op.Path[:len(op.Path)-1]).(map[string]any); ok {
			delete(m, op.Path[len(op.Path)-1])
		}
		return nil
	case opIncrement:
		amount, ok := val.(json.Number)
		if !ok {
			return fmt.Errorf("%sIncrement on %s: the amount is a %s, not a number", markTypeMismatch, strings.Join(op.Path, "."), jsonTypeName(val))
		}
		var cur float64
		switch x := lookup(doc, op.Path).(type) {
		case missing, nil:
		case json.Number:
			cur, _ = x.Float64()
		default:
			return fmt.Errorf("%sIncrement on %s: the stored value is a %s, not a number", markTypeMismatch, strings.Join(op.Path, "."), jsonTypeName(x))
		}
		a, _ := amount.Float64()
		sum, _ := json.Marshal(cur + a)
		return set(doc, op.Path, json.Number(sum))
	case opAdd, opAddUnique, opRemove:
		vals, ok := val.([]any)
		if !ok {
			return errors.New(markInvalid + "array operator without an array")
		}
		name := map[int]string{opAdd: "Add", opAddUnique: "AddUnique", opRemove: "Remove"}[op.Kind]
		cur, err := arrayAt(doc, op.Path, name)
		if err != nil {
			return err
		}
		var out []any
		switch op.Kind {
		case opAdd:
			out = append(slices.Clone(cur), vals...)
		case opAddUnique:
			seen := map[string]bool{}
			out = []any{}
			for _, e := range append(slices.Clone(cur), vals...) {
				if c := canon(e); !seen[c] {
					seen[c] = true
					out = append(out, e)
				}
			}
		case opRemove:
			gone := map[string]bool{}
			for _, v := range vals {
				gone[canon(v)] = true
			}
			out = []any{}
			for _, e := range cur {
				if !gone[canon(e)] {
					out = append(out, e)
				}
			}
		}
		return set(doc, op.Path, out)
	}
	return fmt.Errorf("%soperator %d", markInvalid, op.Kind)
}

// distanceFunc is parsego_distance(lat1, lng1, lat2, lng2): the
// great-circle distance in radians (haversine, clamped as storage/postgres
// computes it), NULL when a coordinate is.
func distanceFunc(args []driver.Value) (driver.Value, error) {
	var c [4]float64
	for i := range c {
		f, ok := floatArg(args[i])
		if !ok {
			return nil, nil
		}
		c[i] = f * math.Pi / 180
	}
	dLat, dLng := c[2]-c[0], c[3]-c[1]
	h := math.Pow(math.Sin(dLat/2), 2) + math.Cos(c[0])*math.Cos(c[2])*math.Pow(math.Sin(dLng/2), 2)
	return 2 * math.Asin(math.Min(1, math.Sqrt(h))), nil
}

// point is a position as (x, y) = (longitude, latitude).
type point struct{ x, y float64 }

// inPolygon reports whether p is inside the polygon or on its boundary,
// planar, as PostgreSQL's point <@ polygon.
func inPolygon(p point, poly []point) bool {
	n := len(poly)
	if n < 3 {
		return false
	}
	inside := false
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a, b := poly[j], poly[i]
		if onSegment(p, a, b) {
			return true
		}
		if (a.y > p.y) != (b.y > p.y) && p.x < (b.x-a.x)*(p.y-a.y)/(b.y-a.y)+a.x {
			inside = !inside
		}
	}
	return inside
}

func onSegment(p, a, b point) bool {
	const eps = 1e-12
	cross := (b.x-a.x)*(p.y-a.y) - (b.y-a.y)*(p.x-a.x)
	if math.Abs(cross) > eps*math.Max(1, math.Abs(b.x-a.x)+math.Abs(b.y-a.y)) {
		return false
	}
	return p.x >= math.Min(a.x, b.x)-eps && p.x <= math.Max(a.x, b.x)+eps &&
		p.y >= math.Min(a.y, b.y)-eps && p.y <= math.Max(a.y, b.y)+eps
}

// inPolygonFunc is parsego_in_polygon(lng, lat, polygon), the polygon a
// JSON array of [lng, lat] pairs.
func inPolygonFunc(args []driver.Value) (driver.Value, error) {
	x, ok1 := floatArg(args[0])
	y, ok2 := floatArg(args[1])
	s, ok3 := textArg(args[2])
	if !ok1 || !ok2 || !ok3 {
		return nil, nil
	}
	var pairs [][2]float64
	if err := json.Unmarshal([]byte(s), &pairs); err != nil {
		return nil, err
	}
	poly := make([]point, len(pairs))
	for i, p := range pairs {
		poly[i] = point{p[0], p[1]}
	}
	return boolValue(inPolygon(point{x, y}, poly)), nil
}

// polygonHasFunc is parsego_polygon_has(field, lng, lat): whether the field
// holds a stored Polygon ({"__type":"Polygon","coordinates":[[lat,lng],
// ...]}) containing the point; NULL for anything that is not a Polygon.
func polygonHasFunc(args []driver.Value) (driver.Value, error) {
	s, ok := textArg(args[0])
	x, ok1 := floatArg(args[1])
	y, ok2 := floatArg(args[2])
	if !ok || !ok1 || !ok2 {
		return nil, nil
	}
	var v struct {
		Type        string      `json:"__type"`
		Coordinates [][]float64 `json:"coordinates"`
	}
	if json.Unmarshal([]byte(s), &v) != nil || v.Type != "Polygon" || len(v.Coordinates) < 3 {
		return nil, nil
	}
	poly := make([]point, len(v.Coordinates))
	for i, c := range v.Coordinates {
		if len(c) < 2 {
			return nil, nil
		}
		poly[i] = point{c[1], c[0]}
	}
	return boolValue(inPolygon(point{x, y}, poly)), nil
}
