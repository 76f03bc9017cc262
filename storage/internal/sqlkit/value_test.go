package sqlkit

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/parsego/parse/storage"
)

func TestValueOf(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 10e6, time.UTC)
	tests := []struct {
		in      any
		kind    int
		json    string
		num     float64
		tagged  bool
		pointer *[2]string
		iso     string
		date    bool
	}{
		{in: nil, kind: KindNull, json: "null"},
		{in: true, kind: KindBool, json: "true"},
		{in: 1.5, kind: KindNumber, json: "1.5", num: 1.5},
		{in: int64(1) << 60, kind: KindNumber, json: "1152921504606846976", num: 1 << 60},
		{in: 7, kind: KindNumber, json: "7", num: 7},
		{in: json.Number("2e3"), kind: KindNumber, json: "2e3", num: 2000},
		{in: "x", kind: KindString, json: `"x"`},
		{in: t0, kind: KindObject, json: `{"__type":"Date","iso":"2024-05-06T07:08:09.010Z"}`, tagged: true, iso: "2024-05-06T07:08:09.010Z", date: true},
		{in: json.RawMessage(` {"__type":"Date","iso":"2024-05-06T07:08:09.010Z"} `), kind: KindObject,
			json: `{"__type":"Date","iso":"2024-05-06T07:08:09.010Z"}`, tagged: true, iso: "2024-05-06T07:08:09.010Z", date: true},
		{in: json.RawMessage(`{"__type":"Date","iso":"2024-05-06T07:08:09.010Z","x":1}`), kind: KindObject,
			json: `{"__type":"Date","iso":"2024-05-06T07:08:09.010Z","x":1}`, date: true},
		{in: json.RawMessage(`{"__type":"Pointer","className":"A","objectId":"b"}`), kind: KindObject,
			json: `{"__type":"Pointer","className":"A","objectId":"b"}`, tagged: true, pointer: &[2]string{"A", "b"}},
		{in: json.RawMessage(`{"__type":"Pointer","className":"A"}`), kind: KindObject, json: `{"__type":"Pointer","className":"A"}`},
		{in: json.RawMessage(`[1,{"a":2}]`), kind: KindArray, json: `[1,{"a":2}]`},
	}
	for _, tc := range tests {
		v, err := ValueOf(tc.in)
		if err != nil {
			t.Fatalf("ValueOf(%v): %v", tc.in, err)
		}
		if v.Kind != tc.kind || string(v.JSON) != tc.json || v.Num != tc.num || v.Tagged != tc.tagged || v.ISO != tc.iso || v.Date != tc.date ||
			(v.Pointer == nil) != (tc.pointer == nil) || v.Pointer != nil && *v.Pointer != *tc.pointer {
			t.Errorf("ValueOf(%v) = %+v", tc.in, v)
		}
		if tc.date && !v.Time.Equal(t0) {
			t.Errorf("ValueOf(%v).Time = %v, want %v", tc.in, v.Time, t0)
		}
	}
}

func TestValueOfInvalid(t *testing.T) {
	t.Parallel()
	for _, in := range []any{json.RawMessage(`1e400`), json.RawMessage(`{`), json.RawMessage(`1 2`), struct{}{}} {
		if _, err := ValueOf(in); !errors.Is(err, storage.ErrInvalidQuery) {
			t.Errorf("ValueOf(%v) = %v, want ErrInvalidQuery", in, err)
		}
	}
}

func TestResolveField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		field  string
		column string
		segs   int
		ok     bool
	}{
		{"objectId", "objectId", 0, true},
		{"updatedAt", "updatedAt", 0, true},
		{"a", "", 1, true},
		{"a.b_1", "", 2, true},
		{"a.", "", 0, false},
		{"1a", "", 0, false},
		{"a-b", "", 0, false},
		{"a'); DROP", "", 0, false},
	}
	for _, tc := range tests {
		got, err := ResolveField(tc.field)
		if (err == nil) != tc.ok || got.Column != tc.column || len(got.Segs) != tc.segs {
			t.Errorf("ResolveField(%q) = %+v, %v", tc.field, got, err)
		}
		if !tc.ok && !errors.Is(err, storage.ErrInvalidQuery) {
			t.Errorf("ResolveField(%q) error %v, want ErrInvalidQuery", tc.field, err)
		}
	}
}
