package sqlkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/parsego/parse/storage"
)

// Target is where a condition's field lives: a column, or a path in data.
type Target struct {
	Column string   // "objectId", "createdAt", "updatedAt"; "" for data
	Segs   []string // the path in data
}

// ResolveField validates a condition's field and says where it lives.
func ResolveField(field string) (Target, error) {
	switch field {
	case "objectId", "createdAt", "updatedAt":
		return Target{Column: field}, nil
	}
	segs, err := SplitPath(field)
	if err != nil {
		return Target{}, err
	}
	return Target{Segs: segs}, nil
}

// CmpOps are the SQL operators of the range comparisons.
var CmpOps = map[storage.CmpOp]string{storage.Lt: "<", storage.Lte: "<=", storage.Gt: ">", storage.Gte: ">="}

// Value kinds.
const (
	KindNull = iota
	KindNumber
	KindString
	KindBool
	KindObject // including Dates
	KindArray
)

// Value is a condition value in storage encoding, classified.
type Value struct {
	Kind int
	JSON []byte
	Num  float64   // for numbers
	Str  string    // for strings
	Bool bool      // for booleans
	Time time.Time // for Dates
	Date bool
	// Tagged: a Pointer or a Date, whose storage encoding has a fixed set
	// of keys, so that a stored value of the same type equals it when
	// every key does.
	Tagged bool
	// Pointer is a tagged Pointer's className and objectId; ISO a tagged
	// Date's iso.
	Pointer *[2]string
	ISO     string
}

// ISOMillis is the layout of a Date's iso in storage encoding.
const ISOMillis = "2006-01-02T15:04:05.000Z"

// DateJSON is t as a Date in storage encoding.
func DateJSON(t time.Time) []byte {
	return []byte(`{"__type":"Date","iso":"` + t.UTC().Format(ISOMillis) + `"}`)
}

// ValueOf classifies a condition value: a Go scalar, time.Time, or JSON.
func ValueOf(v any) (Value, error) {
	switch x := v.(type) {
	case nil:
		return Value{Kind: KindNull, JSON: []byte("null")}, nil
	case bool:
		return Value{Kind: KindBool, JSON: []byte(strconv.FormatBool(x)), Bool: x}, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return Value{}, fmt.Errorf("condition value %v: %w", x, storage.ErrInvalidQuery)
		}
		b, _ := json.Marshal(x)
		return Value{Kind: KindNumber, JSON: b, Num: x}, nil
	case float32:
		return ValueOf(float64(x))
	case int:
		return Value{Kind: KindNumber, JSON: []byte(strconv.Itoa(x)), Num: float64(x)}, nil
	case int64:
		return Value{Kind: KindNumber, JSON: []byte(strconv.FormatInt(x, 10)), Num: float64(x)}, nil
	case json.Number:
		return ValueOf(json.RawMessage(x))
	case string:
		b, _ := json.Marshal(x)
		return Value{Kind: KindString, JSON: b, Str: x}, nil
	case time.Time:
		return Value{Kind: KindObject, JSON: DateJSON(x), Time: x, Date: true, Tagged: true, ISO: x.UTC().Format(ISOMillis)}, nil
	case json.RawMessage:
		return rawValue(x)
	}
	return Value{}, fmt.Errorf("condition value of type %T: %w", v, storage.ErrInvalidQuery)
}

func rawValue(raw json.RawMessage) (Value, error) {
	raw = bytes.TrimSpace(raw)
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return Value{}, fmt.Errorf("condition value %s: %w", raw, storage.ErrInvalidQuery)
	}
	switch x := v.(type) {
	case nil:
		return Value{Kind: KindNull, JSON: []byte("null")}, nil
	case bool:
		return Value{Kind: KindBool, JSON: raw, Bool: x}, nil
	case float64: // json.Unmarshal rejects a number outside float64
		return Value{Kind: KindNumber, JSON: raw, Num: x}, nil
	case string:
		return Value{Kind: KindString, JSON: raw, Str: x}, nil
	case []any:
		return Value{Kind: KindArray, JSON: raw}, nil
	case map[string]any:
		jv := Value{Kind: KindObject, JSON: raw}
		switch x["__type"] {
		case "Pointer":
			c, ok1 := x["className"].(string)
			o, ok2 := x["objectId"].(string)
			if ok1 && ok2 && len(x) == 3 {
				jv.Tagged, jv.Pointer = true, &[2]string{c, o}
			}
		case "Date":
			// A Date in storage encoding compares like a time.Time.
			if iso, ok := x["iso"].(string); ok {
				if t, err := time.Parse(time.RFC3339Nano, iso); err == nil {
					jv.Time, jv.Date = t, true
				}
				if len(x) == 2 {
					jv.Tagged, jv.ISO = true, iso
				}
			}
		}
		return jv, nil
	}
	return Value{}, fmt.Errorf("condition value %s: %w", raw, storage.ErrInvalidQuery)
}
