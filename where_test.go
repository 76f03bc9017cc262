package parse

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/parsego/parse/storage"
)

func TestDecodeWhere(t *testing.T) {
	t.Parallel()
	when := time.Date(2011, 8, 21, 18, 2, 52, 249e6, time.UTC)
	tests := []struct {
		where string
		want  storage.Cond
	}{
		{`{"score":1337}`, storage.Cmp{Field: "score", Op: storage.Eq, Value: 1337.0}},
		{`{"a.b":"x"}`, storage.Cmp{Field: "a.b", Op: storage.Eq, Value: "x"}},
		{`{"score":{"$gte":10,"$lt":20}}`, storage.And{
			storage.Cmp{Field: "score", Op: storage.Gte, Value: 10.0},
			storage.Cmp{Field: "score", Op: storage.Lt, Value: 20.0},
		}},
		{`{"when":{"$gt":{"__type":"Date","iso":"2011-08-21T18:02:52.249Z"}}}`, storage.Cmp{Field: "when", Op: storage.Gt, Value: when}},
		{`{"owner":{"__type":"Pointer","className":"_User","objectId":"u1"}}`, storage.Cmp{Field: "owner", Op: storage.Eq,
			Value: json.RawMessage(`{"__type":"Pointer","className":"_User","objectId":"u1"}`)}},
		{`{"tag":{"$in":["a","b"]}}`, storage.In{Field: "tag", Values: []any{"a", "b"}}},
		{`{"tag":{"$nin":[]}}`, storage.In{Field: "tag", Values: []any{}, Not: true}},
		{`{"tag":{"$exists":false}}`, storage.Exists{Field: "tag"}},
		{`{"tags":{"$all":[1,2]}}`, storage.All{Field: "tags", Values: []any{1.0, 2.0}}},
		{`{"name":{"$regex":"^\\Qa.b\\E","$options":"i"}}`, storage.Regex{Field: "name", Pattern: `^a\.b`, Options: "i"}},
		{`{"$or":[{"a":1},{"b":2}]}`, storage.Or{
			storage.Cmp{Field: "a", Op: storage.Eq, Value: 1.0},
			storage.Cmp{Field: "b", Op: storage.Eq, Value: 2.0},
		}},
		{`{"$relatedTo":{"object":{"__type":"Pointer","className":"Post","objectId":"p1"},"key":"tags"}}`,
			storage.RelatedTo{Relation: storage.Relation{OwningClass: "Post", Field: "tags", OwningID: "p1"}}},
	}
	for _, tt := range tests {
		var w map[string]any
		if err := json.Unmarshal([]byte(tt.where), &w); err != nil {
			t.Fatal(err)
		}
		got, err := decodeWhere(w)
		if err != nil {
			t.Errorf("%s: %v", tt.where, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", tt.where, got, tt.want)
		}
	}
}

func TestDecodeWhereErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		where string
		code  int
	}{
		{`{"bad-key":1}`, InvalidKeyName},
		{`{"a":{"$bogus":1}}`, OperationForbidden},
		{`{"a":{"$size":1}}`, OperationForbidden},
		{`{"a":{"$in":1}}`, InvalidJSON},
		{`{"a":{"$nin":"x"}}`, InvalidJSON},
		{`{"a":{"$all":{}}}`, InvalidJSON},
		{`{"a":{"$regex":5}}`, InvalidQuery},
		{`{"a":{"$regex":"x","$options":1}}`, InvalidQuery},
		{`{"a":{"$regex":"[x"}}`, InvalidQuery},
		{`{"a":{"$lt":{"__type":"Date","iso":"nope"}}}`, IncorrectType},
		{`{"a":{"$exists":"yes"}}`, InvalidQuery},
		{`{"a":{"$regex":"(","$options":""}}`, InvalidQuery},
		{`{"a":{"$regex":"x","$options":"q"}}`, InvalidQuery},
		{`{"$or":[]}`, InvalidQuery},
		{`{"$or":[1]}`, InvalidQuery},
		{`{"$relatedTo":{"object":1,"key":"k"}}`, InvalidQuery},
	}
	for _, tt := range tests {
		var w map[string]any
		if err := json.Unmarshal([]byte(tt.where), &w); err != nil {
			t.Fatal(err)
		}
		if _, err := decodeWhere(w); ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want code %d", tt.where, err, tt.code)
		}
	}
}

func TestWhereParam(t *testing.T) {
	t.Parallel()
	if _, err := whereParam("{score:1"); ErrorCode(err) != InvalidJSON {
		t.Errorf("non-JSON where: %v, want 107", err)
	}
	if _, err := whereParam([]any{1.0}); ErrorCode(err) != InvalidKeyName {
		t.Errorf("array where: %v, want 105", err)
	}
	w, err := whereParam(`{"a":1}`)
	if err != nil || w["a"] != 1.0 {
		t.Errorf("string where: %v %v", w, err)
	}
}

func TestIsName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"a": true, "GameScore": true, "ok_field": true, "camelCase2": true, "Z9_": true,
		"": false, "_private": false, "1abc": false, "bl ng": false, "bl!ng": false, "bad-name": false,
		"a.b": false, "é": false, "a\x00": false,
	} {
		if got := isName(name); got != want {
			t.Errorf("isName(%q) = %v, want %v", name, got, want)
		}
	}
}
