package parse

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestAppendFloatMatchesJavaScript(t *testing.T) {
	t.Parallel()
	tenth, fifth := 0.1, 0.2 // variables: constant arithmetic would be exact
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {7, "7"}, {-5, "-5"}, {42.5, "42.5"}, {6.5, "6.5"}, {tenth + fifth, "0.30000000000000004"},
		{1e21, "1e+21"}, {1.5e300, "1.5e+300"}, {1e-7, "1e-7"}, {-2.5e-8, "-2.5e-8"}, {1e20, "100000000000000000000"},
		{0.000001, "0.000001"}, {9007199254740993, "9007199254740992"}, {math.NaN(), "null"},
	}
	for _, tt := range tests {
		if got := string(appendFloat(nil, tt.in)); got != tt.want {
			t.Errorf("appendFloat(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendStringEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"line\nbreak\ttab\r", `"line\nbreak\ttab\r"`},
		{"\x01\x1f", `"\u0001\u001f"`},
		{"<html>&", `"<html>&"`}, // no HTML escaping, as JSON.stringify
		{"héllo ✓", `"héllo ✓"`},
		{"bad\xffutf8", `"bad\ufffdutf8"`},
	}
	for _, tt := range tests {
		got := appendString(nil, tt.in)
		if string(got) != tt.want {
			t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("appendString(%q) is not valid JSON: %v", tt.in, err)
		}
	}
}

func TestValueRoundTrip(t *testing.T) {
	t.Parallel()
	when := time.Date(2011, 8, 21, 18, 2, 52, 249e6, time.UTC)
	tests := []struct {
		name   string
		value  any
		rest   string
		stored string
	}{
		{"date", when, `{"__type":"Date","iso":"2011-08-21T18:02:52.249Z"}`, ""},
		{"pointer", Pointer{ClassName: "Team", ObjectID: "abc"}, `{"__type":"Pointer","className":"Team","objectId":"abc"}`, ""},
		{"relation", Relation{ClassName: "Tag"}, `{"__type":"Relation","className":"Tag"}`, ""},
		{"file", File{Name: "f.txt", URL: "http://x/f.txt"}, `{"__type":"File","name":"f.txt","url":"http://x/f.txt"}`, `{"__type":"File","name":"f.txt"}`},
		{"geopoint", GeoPoint{Latitude: 40, Longitude: -30}, `{"__type":"GeoPoint","latitude":40,"longitude":-30}`, ""},
		{"polygon", Polygon{Coordinates: [][2]float64{{0, 0}, {0, 1}, {1, 1}, {0, 0}}}, `{"__type":"Polygon","coordinates":[[0,0],[0,1],[1,1],[0,0]]}`, ""},
		{"bytes", Bytes("This is an encoded string"), `{"__type":"Bytes","base64":"VGhpcyBpcyBhbiBlbmNvZGVkIHN0cmluZw=="}`, ""},
		{"nested", map[string]any{"b": []any{1.0, "two", false, nil}, "a": map[string]any{"k": nil}}, `{"a":{"k":null},"b":[1,"two",false,null]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(AppendJSON(nil, tt.value)); got != tt.rest {
				t.Fatalf("AppendJSON = %s, want %s", got, tt.rest)
			}
			stored := tt.stored
			if stored == "" {
				stored = tt.rest
			}
			if got := string(appendStored(nil, tt.value)); got != stored {
				t.Fatalf("appendStored = %s, want %s", got, stored)
			}
			var raw any
			if err := json.Unmarshal([]byte(tt.rest), &raw); err != nil {
				t.Fatal(err)
			}
			back, err := DecodeValue(raw, false)
			if err != nil {
				t.Fatalf("DecodeValue: %v", err)
			}
			if got := string(AppendJSON(nil, back)); got != tt.rest {
				t.Fatalf("decoded value encodes as %s, want %s", got, tt.rest)
			}
		})
	}
}

func TestDecodeValueRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string
		ops  bool
		code int
	}{
		{"unknown type", `{"__type":"Nope"}`, false, IncorrectType},
		{"date without iso", `{"__type":"Date"}`, false, IncorrectType},
		{"bad date", `{"__type":"Date","iso":"yesterday"}`, false, IncorrectType},
		{"pointer without id", `{"__type":"Pointer","className":"A"}`, false, InvalidPointer},
		{"latitude out of range", `{"__type":"GeoPoint","latitude":91,"longitude":0}`, false, InvalidJSON},
		{"longitude out of range", `{"__type":"GeoPoint","latitude":0,"longitude":-181}`, false, InvalidJSON},
		{"polygon too short", `{"__type":"Polygon","coordinates":[[0,0],[1,1]]}`, false, IncorrectType},
		{"bad base64", `{"__type":"Bytes","base64":"@@"}`, false, IncorrectType},
		{"unknown op", `{"__op":"Nope"}`, true, CommandUnavailable},
		{"increment without amount", `{"__op":"Increment"}`, true, InvalidJSON},
		{"add with non-array", `{"__op":"Add","objects":1}`, true, InvalidJSON},
	}
	for _, tt := range tests {
		var raw any
		if err := json.Unmarshal([]byte(tt.json), &raw); err != nil {
			t.Fatal(err)
		}
		_, err := DecodeValue(raw, tt.ops)
		if code := ErrorCode(err); code != tt.code {
			t.Errorf("%s: code %d (%v), want %d", tt.name, code, err, tt.code)
		}
	}
}

func TestDecodeOps(t *testing.T) {
	t.Parallel()
	var raw any
	json.Unmarshal([]byte(`{"__op":"AddUnique","objects":["a",{"__type":"Pointer","className":"T","objectId":"x"}]}`), &raw)
	v, err := DecodeValue(raw, true)
	if err != nil {
		t.Fatal(err)
	}
	op := v.(*Op)
	if op.Kind != OpAddUnique || len(op.Objects) != 2 || op.Objects[1] != (Pointer{ClassName: "T", ObjectID: "x"}) {
		t.Fatalf("got %#v", op)
	}
	// Operators are only values at the top of a write.
	v, err = DecodeValue(map[string]any{"k": raw}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, isOp := v.(map[string]any)["k"].(*Op); isOp {
		t.Fatal("nested __op decoded as an operator")
	}
}

func TestACLPerms(t *testing.T) {
	t.Parallel()
	var raw any
	json.Unmarshal([]byte(`{"*":{"read":true},"u1":{"read":true,"write":true},"role:Admin":{"write":true}}`), &raw)
	acl, err := DecodeACL(raw)
	if err != nil {
		t.Fatal(err)
	}
	read, write := acl.perms()
	if len(read) != 2 || read[0] != "*" || read[1] != "u1" {
		t.Fatalf("read perms %v, want [* u1]", read)
	}
	if len(write) != 2 || write[0] != "role:Admin" || write[1] != "u1" {
		t.Fatalf("write perms %v, want [role:Admin u1]", write)
	}
	back := aclFromPerms(read, write)
	if got, want := string(back.appendJSON(nil)), `{"*":{"read":true},"role:Admin":{"write":true},"u1":{"read":true,"write":true}}`; got != want {
		t.Fatalf("round trip %s, want %s", got, want)
	}
	if r, w := ACL(nil).perms(); r != nil || w != nil {
		t.Fatal("nil ACL must give nil perms (public)")
	}
	if r, w := (ACL{}).perms(); r == nil || w == nil || len(r)+len(w) != 0 {
		t.Fatal("empty ACL must give empty non-nil perms (master only)")
	}
	for _, bad := range []string{`[]`, `{"u":true}`, `{"u":{"read":"yes"}}`, `{"u":{"delete":true}}`} {
		var v any
		json.Unmarshal([]byte(bad), &v)
		if _, err := DecodeACL(v); ErrorCode(err) != InvalidACL {
			t.Errorf("DecodeACL(%s) = %v, want code %d", bad, err, InvalidACL)
		}
	}
}

func TestNewObjectID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := newObjectID()
		if len(id) != 10 || !isName("a"+id) {
			t.Fatalf("bad objectId %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate objectId %q", id)
		}
		seen[id] = true
	}
}

func TestAppendDate(t *testing.T) {
	t.Parallel()
	tokyo := time.FixedZone("JST", 9*3600)
	for _, tm := range []time.Time{
		time.Date(2026, 11, 24, 1, 2, 3, 456789012, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), // truncated, not rounded
		time.Date(2026, 1, 1, 8, 30, 0, 1000000, tokyo),          // converted to UTC
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), // outside 4 digits: time.Format's answer
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 0),
	} {
		want := tm.UTC().Format("2006-01-02T15:04:05.000Z")
		if got := string(AppendDate([]byte("x"), tm)); got != "x"+want {
			t.Errorf("AppendDate(%v) = %q, want %q", tm, got, "x"+want)
		}
	}
	if got := FormatDate(time.Date(2026, 11, 24, 1, 2, 3, 4000000, time.UTC)); got != "2026-11-24T01:02:03.004Z" {
		t.Errorf("FormatDate = %q", got)
	}
}
