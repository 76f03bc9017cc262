package parse

import (
	"encoding/base64"
	"fmt"
	"math"
	"time"
)

// The values an Object's fields hold, beside JSON's own (nil, bool, float64,
// string, []any, map[string]any):
//   - time.Time: a Date ({"__type":"Date","iso":...})
//   - Pointer, Relation, File, GeoPoint, Polygon, Bytes
//   - *Object: an included object ({"__type":"Object",...})
//   - ACL, under the "ACL" key only
//   - *Op: an update operator, in values given to Create and Update only.

// Pointer refers to another object.
type Pointer struct {
	ClassName string
	ObjectID  string
}

// Relation describes a relation field: the class its objects belong to. The
// related objects live in the store's join table, not in the field.
type Relation struct {
	ClassName string
}

// File refers to a stored file. Name is the stored name; URL is computed by
// the App when the object is read.
type File struct {
	Name string
	URL  string
}

// GeoPoint is a position in degrees.
type GeoPoint struct {
	Latitude  float64
	Longitude float64
}

// Polygon is a closed ring of [latitude, longitude] pairs.
type Polygon struct {
	Coordinates [][2]float64
}

// Bytes is binary data, base64 on the wire.
type Bytes []byte

// OpKind names an update operator.
type OpKind string

// The update operators of the REST API.
const (
	OpIncrement      OpKind = "Increment"
	OpAdd            OpKind = "Add"
	OpAddUnique      OpKind = "AddUnique"
	OpRemove         OpKind = "Remove"
	OpDelete         OpKind = "Delete"
	OpAddRelation    OpKind = "AddRelation"
	OpRemoveRelation OpKind = "RemoveRelation"
)

// Op is an update operator on one field: {"__op": "Increment", "amount": 1}.
// Amount is used by Increment; Objects by the array and relation operators
// (Pointers for the relation ones).
type Op struct {
	Kind    OpKind
	Amount  float64
	Objects []any
}

// Increment returns an Increment operator.
func Increment(amount float64) *Op { return &Op{Kind: OpIncrement, Amount: amount} }

// Add returns an Add operator appending objects to an array.
func Add(objects ...any) *Op { return &Op{Kind: OpAdd, Objects: objects} }

// AddUnique returns an AddUnique operator.
func AddUnique(objects ...any) *Op { return &Op{Kind: OpAddUnique, Objects: objects} }

// Remove returns a Remove operator.
func Remove(objects ...any) *Op { return &Op{Kind: OpRemove, Objects: objects} }

// Delete returns the Delete operator, which removes a field.
func Delete() *Op { return &Op{Kind: OpDelete} }

// AddRelation returns an AddRelation operator.
func AddRelation(targets ...Pointer) *Op {
	return &Op{Kind: OpAddRelation, Objects: pointersToAny(targets)}
}

// RemoveRelation returns a RemoveRelation operator.
func RemoveRelation(targets ...Pointer) *Op {
	return &Op{Kind: OpRemoveRelation, Objects: pointersToAny(targets)}
}

func pointersToAny(ps []Pointer) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// dateFormat is the one date format of the wire: UTC, milliseconds.
const dateFormat = "2006-01-02T15:04:05.000Z"

// FormatDate formats t as the REST API does.
func FormatDate(t time.Time) string { return string(AppendDate(nil, t)) }

// AppendDate appends t in the REST API's date format. Every object read
// formats two dates, so the common case is written digit by digit: a
// fifth of time.Format's cost.
func AppendDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, dateFormat)
	}
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1e6, 3)
	return append(b, 'Z')
}

// appendDigits appends n (non-negative) zero-padded to width digits.
func appendDigits(b []byte, n, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		d := n
		for range i {
			d /= 10
		}
		b = append(b, byte('0'+d%10))
	}
	return b
}

// DecodeValue turns a value decoded from REST JSON (by encoding/json into
// any) into its typed form: {"__type": ...} objects become Pointer, Date
// (time.Time) and the other types, {"__op": ...} becomes *Op when ops is
// true, and nested objects and arrays are decoded recursively. It reports
// malformed typed values as an *Error.
func DecodeValue(v any, ops bool) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if t, ok := v["__type"]; ok {
			return decodeTyped(t, v)
		}
		if op, ok := v["__op"]; ok && ops {
			return decodeOp(op, v)
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			d, err := DecodeValue(e, false)
			if err != nil {
				return nil, err
			}
			out[k] = d
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			d, err := DecodeValue(e, false)
			if err != nil {
				return nil, err
			}
			out[i] = d
		}
		return out, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, NewError(InvalidJSON, "invalid number")
		}
		return v, nil
	case int:
		return float64(v), nil
	case int64:
		return float64(v), nil
	}
	return v, nil
}

func decodeTyped(t any, v map[string]any) (any, error) {
	str := func(k string) (string, bool) { s, ok := v[k].(string); return s, ok }
	num := func(k string) (float64, bool) { f, ok := v[k].(float64); return f, ok }
	switch t {
	case "Date":
		iso, ok := str("iso")
		if !ok {
			return nil, NewError(IncorrectType, "invalid Date: iso must be a string")
		}
		d, err := ParseDate(iso)
		if err != nil {
			return nil, err
		}
		return d, nil
	case "Pointer":
		c, ok1 := str("className")
		id, ok2 := str("objectId")
		if !ok1 || !ok2 || c == "" {
			return nil, NewError(InvalidPointer, "invalid Pointer: className and objectId must be strings")
		}
		return Pointer{ClassName: c, ObjectID: id}, nil
	case "Relation":
		c, ok := str("className")
		if !ok {
			return nil, NewError(IncorrectType, "invalid Relation: className must be a string")
		}
		return Relation{ClassName: c}, nil
	case "File":
		name, ok := str("name")
		if !ok || name == "" {
			return nil, NewError(IncorrectType, "invalid File: name must be a string")
		}
		url, _ := str("url")
		return File{Name: name, URL: url}, nil
	case "GeoPoint":
		lat, ok1 := num("latitude")
		lng, ok2 := num("longitude")
		if !ok1 || !ok2 {
			return nil, NewError(IncorrectType, "invalid GeoPoint: latitude and longitude must be numbers")
		}
		g := GeoPoint{Latitude: lat, Longitude: lng}
		return g, g.Validate()
	case "Polygon":
		return decodePolygon(v["coordinates"])
	case "Bytes":
		s, ok := str("base64")
		if !ok {
			return nil, NewError(IncorrectType, "invalid Bytes: base64 must be a string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, NewError(IncorrectType, "invalid Bytes: bad base64")
		}
		return Bytes(b), nil
	case "Object":
		c, _ := str("className")
		o := &Object{ClassName: c, Fields: map[string]any{}}
		for k, e := range v {
			switch k {
			case "__type", "className":
				continue
			case "objectId":
				o.ID, _ = e.(string)
				continue
			case "createdAt", "updatedAt":
				if s, ok := e.(string); ok {
					if d, err := ParseDate(s); err == nil {
						if k == "createdAt" {
							o.CreatedAt = d
						} else {
							o.UpdatedAt = d
						}
						continue
					}
				}
			case "ACL":
				acl, err := DecodeACL(e)
				if err != nil {
					return nil, err
				}
				o.ACL = acl
				continue
			}
			d, err := DecodeValue(e, false)
			if err != nil {
				return nil, err
			}
			o.Fields[k] = d
		}
		return o, nil
	}
	return nil, NewError(IncorrectType, "invalid __type: %v", t)
}

func decodePolygon(c any) (any, error) {
	pts, ok := c.([]any)
	if !ok || len(pts) < 3 {
		return nil, NewError(IncorrectType, "Polygon must have at least 3 values")
	}
	p := Polygon{Coordinates: make([][2]float64, 0, len(pts)+1)}
	for _, e := range pts {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			return nil, NewError(IncorrectType, "invalid Polygon: coordinates must be [latitude, longitude] pairs")
		}
		lat, ok1 := pair[0].(float64)
		lng, ok2 := pair[1].(float64)
		if !ok1 || !ok2 {
			return nil, NewError(IncorrectType, "invalid Polygon: coordinates must be numbers")
		}
		if err := (GeoPoint{Latitude: lat, Longitude: lng}).Validate(); err != nil {
			return nil, err
		}
		p.Coordinates = append(p.Coordinates, [2]float64{lat, lng})
	}
	// The ring is closed, as the reference stores it.
	if first, last := p.Coordinates[0], p.Coordinates[len(p.Coordinates)-1]; first != last {
		p.Coordinates = append(p.Coordinates, first)
	}
	return p, nil
}

func decodeOp(op any, v map[string]any) (any, error) {
	kind, _ := op.(string)
	switch OpKind(kind) {
	case OpIncrement:
		amount, ok := v["amount"].(float64)
		if !ok {
			return nil, NewError(InvalidJSON, "incrementing must provide a number")
		}
		return &Op{Kind: OpIncrement, Amount: amount}, nil
	case OpAdd, OpAddUnique, OpRemove, OpAddRelation, OpRemoveRelation:
		objs, ok := v["objects"].([]any)
		if !ok {
			return nil, NewError(InvalidJSON, "objects to %s must be an array", kind)
		}
		decoded, err := DecodeValue(objs, false)
		if err != nil {
			return nil, err
		}
		return &Op{Kind: OpKind(kind), Objects: decoded.([]any)}, nil
	case OpDelete:
		return &Op{Kind: OpDelete}, nil
	case "Batch":
		// A Batch of AddRelation and RemoveRelation on one field: the JS SDK
		// sends it when a relation gains and loses members in one save.
		list, ok := v["ops"].([]any)
		if !ok {
			return nil, NewError(InvalidJSON, "Batch ops must be an array")
		}
		var add, remove []any
		for _, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, NewError(InvalidJSON, "Batch ops must be operators")
			}
			d, err := decodeOp(m["__op"], m)
			if err != nil {
				return nil, err
			}
			switch o := d.(*Op); o.Kind {
			case OpAddRelation:
				add = append(add, o.Objects...)
			case OpRemoveRelation:
				remove = append(remove, o.Objects...)
			default:
				return nil, NewError(InvalidJSON, "Batch ops must be relation operators")
			}
		}
		return &Op{Kind: "Batch", Objects: []any{&Op{Kind: OpAddRelation, Objects: add}, &Op{Kind: OpRemoveRelation, Objects: remove}}}, nil
	}
	return nil, NewError(CommandUnavailable, "The %v operator is not supported yet.", op)
}

// ParseDate parses an ISO 8601 date as clients send it.
func ParseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), nil
		}
	}
	return time.Time{}, NewError(IncorrectType, "invalid date: %q", s)
}

// Validate reports a latitude outside [-90, 90] or a longitude outside
// [-180, 180] as Parse does.
func (g GeoPoint) Validate() error {
	switch {
	case g.Latitude < -90:
		return NewError(InvalidJSON, "GeoPoint latitude out of bounds: %v < -90.0.", g.Latitude)
	case g.Latitude > 90:
		return NewError(InvalidJSON, "GeoPoint latitude out of bounds: %v > 90.0.", g.Latitude)
	case g.Longitude < -180:
		return NewError(InvalidJSON, "GeoPoint longitude out of bounds: %v < -180.0.", g.Longitude)
	case g.Longitude > 180:
		return NewError(InvalidJSON, "GeoPoint longitude out of bounds: %v > 180.0.", g.Longitude)
	}
	return nil
}

// typeOf is the schema type of a field value, "" for nil; Pointer and
// Relation carry their target class. A Go value with no Parse type gets a
// description that no schema type matches.
func typeOf(v any) (t, target string) {
	switch v := v.(type) {
	case nil:
		return "", ""
	case string:
		return "String", ""
	case float64, int, int64:
		return "Number", ""
	case bool:
		return "Boolean", ""
	case time.Time:
		return "Date", ""
	case Pointer:
		return "Pointer", v.ClassName
	case *Object:
		return "Pointer", v.ClassName
	case Relation:
		return "Relation", v.ClassName
	case File:
		return "File", ""
	case GeoPoint:
		return "GeoPoint", ""
	case Polygon:
		return "Polygon", ""
	case Bytes, []byte:
		return "Bytes", ""
	case []any:
		return "Array", ""
	case map[string]any:
		return "Object", ""
	case ACL:
		return "ACL", ""
	}
	return fmt.Sprintf("unsupported Go type %T", v), ""
}
