package parse

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends v in Parse's REST encoding. It is the encoder of every
// response body: faster than encoding/json on these values and free of its
// HTML escaping, which JavaScript servers don't do.
func AppendJSON(b []byte, v any) []byte { return appendValue(b, v, false) }

// appendStored appends v in storage encoding: the REST encoding with Files
// reduced to their name, since URLs depend on the server that serves them.
func appendStored(b []byte, v any) []byte { return appendValue(b, v, true) }

func appendValue(b []byte, v any, stored bool) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case float64:
		return appendFloat(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case bool:
		return strconv.AppendBool(b, v)
	case time.Time:
		b = append(b, `{"__type":"Date","iso":"`...)
		b = AppendDate(b, v)
		return append(b, `"}`...)
	case Pointer:
		b = append(b, `{"__type":"Pointer","className":`...)
		b = appendString(b, v.ClassName)
		b = append(b, `,"objectId":`...)
		b = appendString(b, v.ObjectID)
		return append(b, '}')
	case Relation:
		b = append(b, `{"__type":"Relation","className":`...)
		b = appendString(b, v.ClassName)
		return append(b, '}')
	case File:
		b = append(b, `{"__type":"File","name":`...)
		b = appendString(b, v.Name)
		if !stored && v.URL != "" {
			b = append(b, `,"url":`...)
			b = appendString(b, v.URL)
		}
		return append(b, '}')
	case GeoPoint:
		b = append(b, `{"__type":"GeoPoint","latitude":`...)
		b = appendFloat(b, v.Latitude)
		b = append(b, `,"longitude":`...)
		b = appendFloat(b, v.Longitude)
		return append(b, '}')
	case Polygon:
		b = append(b, `{"__type":"Polygon","coordinates":[`...)
		for i, c := range v.Coordinates {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendFloat(b, c[0])
			b = append(b, ',')
			b = appendFloat(b, c[1])
			b = append(b, ']')
		}
		return append(b, "]}"...)
	case Bytes:
		b = append(b, `{"__type":"Bytes","base64":"`...)
		b = base64.StdEncoding.AppendEncode(b, v)
		return append(b, `"}`...)
	case []byte:
		return appendValue(b, Bytes(v), stored)
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e, stored)
		}
		return append(b, ']')
	case map[string]any:
		return appendMap(b, v, stored)
	case *Object:
		if v == nil {
			return append(b, "null"...)
		}
		return v.appendJSON(b, true)
	case ACL:
		return v.appendJSON(b)
	case *Op:
		return v.appendJSON(b)
	}
	// Unknown Go values are rejected before they are stored; encode null
	// rather than panic if one slips into a response.
	return append(b, "null"...)
}

func appendMap(b []byte, m map[string]any, stored bool) []byte {
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendValue(b, m[k], stored)
	}
	return append(b, '}')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (o *Op) appendJSON(b []byte) []byte {
	b = append(b, `{"__op":`...)
	b = appendString(b, string(o.Kind))
	switch o.Kind {
	case OpIncrement:
		b = append(b, `,"amount":`...)
		b = appendFloat(b, o.Amount)
	case OpDelete:
	default:
		b = append(b, `,"objects":`...)
		b = appendValue(b, o.Objects, false)
	}
	return append(b, '}')
}

// appendFloat formats a number as JavaScript's JSON.stringify does.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		// Go writes e-07 and e+21; JavaScript writes e-7 and e+21.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping what JSON requires and
// replacing invalid UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
