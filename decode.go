package parse

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/parsego/parse/internal/jsonx"
	"github.com/parsego/parse/storage"
)

// This file converts between the values callers give and the store keeps:
// Go values normalized on the way in, stored documents decoded on the way
// out.

// normalize converts Go values to the types fields hold: ints to float64,
// a nested map's and slice's elements recursively, an *Object to a Pointer
// to it (fields store pointers); a Go value with no Parse type is an error.
func normalize(v any) (any, error) { return normalizeValue(v, false) }

// normalizeResult is normalize for a cloud function's result, where
// objects stay whole: the reference sends a returned Parse.Object in full
// ({"__type":"Object",...}), not as a pointer.
func normalizeResult(v any) (any, error) { return normalizeValue(v, true) }

func normalizeValue(v any, keepObjects bool) (any, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int8:
		return float64(x), nil
	case int16:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case uint8:
		return float64(x), nil
	case uint16:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float32:
		return float64(x), nil
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	case []*Object:
		out := make([]any, len(x))
		for i, o := range x {
			out[i], _ = normalizeValue(o, keepObjects)
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalizeValue(e, keepObjects)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalizeValue(e, keepObjects)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case *Object:
		switch {
		case x == nil:
			return nil, nil
		case keepObjects:
			return x, nil
		}
		return x.Pointer(), nil
	case time.Time:
		return x.UTC().Truncate(time.Millisecond), nil
	case *Op:
		if x == nil {
			return nil, nil
		}
		objs, err := normalizeValue(x.Objects, keepObjects)
		if err != nil {
			return nil, err
		}
		if x.Objects == nil {
			objs = []any(nil)
		}
		return &Op{Kind: x.Kind, Amount: x.Amount, Objects: objs.([]any)}, nil
	}
	if t, _ := typeOf(v); strings.HasPrefix(t, "unsupported") {
		return nil, NewError(IncorrectType, "%s", t)
	}
	return v, nil
}

// checkNestedKeys rejects keys with '$' or '.' inside nested objects: the
// store could not tell them from operators and paths.
func checkNestedKeys(v any) error {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.ContainsAny(k, "$.") {
				return NewError(InvalidNestedKey, "Nested keys should not contain the '$' or '.' characters")
			}
			if err := checkNestedKeys(e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := checkNestedKeys(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func toACL(v any) (ACL, error) {
	switch x := v.(type) {
	case ACL:
		return x, nil
	case map[string]any:
		return DecodeACL(x)
	}
	return nil, NewError(InvalidACL, "ACL must be an object")
}

// uniqueIf drops repeated values (compared by their encoding) when unique.
func uniqueIf(unique bool, objs []any) []any {
	if !unique {
		return objs
	}
	seen := map[string]bool{}
	out := make([]any, 0, len(objs))
	for _, o := range objs {
		key := string(appendStored(nil, o))
		if !seen[key] {
			seen[key] = true
			out = append(out, o)
		}
	}
	return out
}

// appendStoredFields encodes an object's fields as the store's document.
func appendStoredFields(b []byte, fields map[string]any) []byte {
	return appendMap(b, fields, true)
}

// decodeStored turns a stored object into an Object, with file URLs and
// relation placeholders filled in and internal fields left out.
func (a *App) decodeStored(class string, so storage.Object) (*Object, error) {
	cl, err := a.schema.get(context.Background(), class)
	if err != nil {
		return nil, a.storeError(err)
	}
	return a.decodeStoredWith(cl, class, so)
}

func (a *App) decodeStoredWith(cl *storage.Class, class string, so storage.Object) (*Object, error) {
	o := &Object{
		ClassName: class, ID: so.ID, CreatedAt: so.CreatedAt.UTC(), UpdatedAt: so.UpdatedAt.UTC(),
		ACL: aclFromPerms(so.ReadPerm, so.WritePerm),
	}
	corrupt := func(err error) error {
		return &Error{Code: InternalServerError, Message: "corrupt stored object", Err: err}
	}
	o.Fields = map[string]any{}
	if len(so.Data) > 0 {
		raw, err := jsonx.Decode(so.Data)
		if err != nil {
			return nil, corrupt(err)
		}
		doc, ok := raw.(map[string]any)
		if !ok {
			return nil, corrupt(errors.New("stored data is not an object"))
		}
		for k, v := range doc {
			if strings.HasPrefix(k, "_") {
				delete(doc, k) // internal fields (password hashes, tokens) stay in the store
				continue
			}
			if doc[k], err = decodeStoredValue(v); err != nil {
				return nil, corrupt(err)
			}
		}
		o.Fields = doc
	}
	a.fillFileURLs(o.Fields)
	addRelationFields(o, cl)
	return o, nil
}

// appendStoredJSON appends a stored object of a plain class (see
// Query.plain) in REST encoding. Its document is copied as it is, unless it
// holds a File, which decoding gives its URL: those objects are decoded and
// encoded. A plain class has no internal fields to drop: field names start
// with a letter, and only the system classes store "_" fields. rels are the
// class's Relation members (relationMembers), the same for every object.
func (a *App) appendStoredJSON(b []byte, cl *storage.Class, class string, so storage.Object, rels []byte) ([]byte, error) {
	data := bytes.TrimSpace(so.Data)
	if len(data) < 2 || data[0] != '{' || data[len(data)-1] != '}' ||
		bytes.Contains(data, []byte(`"File"`)) {
		o, err := a.decodeStoredWith(cl, class, so)
		if err != nil {
			return b, err
		}
		return o.AppendJSON(b), nil
	}
	b = append(b, `{"objectId":`...)
	b = appendString(b, so.ID)
	b = append(b, `,"createdAt":"`...)
	b = AppendDate(b, so.CreatedAt)
	b = append(b, `","updatedAt":"`...)
	b = AppendDate(b, so.UpdatedAt)
	b = append(b, '"')
	if members := bytes.TrimSpace(data[1 : len(data)-1]); len(members) > 0 {
		b = append(b, ',')
		b = append(b, members...)
	}
	b = append(b, rels...)
	if acl := aclFromPerms(so.ReadPerm, so.WritePerm); acl != nil {
		b = append(b, `,"ACL":`...)
		b = acl.appendJSON(b)
	}
	return append(b, '}'), nil
}

// relationMembers is what every object of a class shows for its Relation
// fields, which are not stored in its document: `,"name":{"__type":
// "Relation","className":...}` for each, in name order.
func relationMembers(cl *storage.Class) []byte {
	if cl == nil {
		return nil
	}
	var b []byte
	for _, name := range sortedKeys(cl.Fields) {
		if f := cl.Fields[name]; f.Type == "Relation" {
			b = append(b, ',')
			b = appendString(b, name)
			b = append(b, ':')
			b = appendValue(b, Relation{ClassName: f.TargetClass}, false)
		}
	}
	return b
}

// decodeStoredValue turns a decoded stored value into its typed form, reusing
// the maps and slices the JSON decoder made: this is the read path of every
// object, so it must not copy what it doesn't change.
func decodeStoredValue(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if t, ok := x["__type"]; ok {
			return decodeTyped(t, x)
		}
		for k, e := range x {
			d, err := decodeStoredValue(e)
			if err != nil {
				return nil, err
			}
			x[k] = d
		}
	case []any:
		for i, e := range x {
			d, err := decodeStoredValue(e)
			if err != nil {
				return nil, err
			}
			x[i] = d
		}
	}
	return v, nil
}

// addRelationFields shows every relation field of the class as its
// Relation descriptor, as the reference does on every read.
func addRelationFields(o *Object, cl *storage.Class) {
	if cl == nil {
		return
	}
	for name, f := range cl.Fields {
		if f.Type == "Relation" {
			o.Fields[name] = Relation{ClassName: f.TargetClass}
		}
	}
}

// fillFileURLs sets the URL of every File among the fields.
func (a *App) fillFileURLs(fields map[string]any) {
	for k, v := range fields {
		if f, ok := v.(File); ok {
			f.URL = a.FileURL(f.Name)
			fields[k] = f
		}
	}
}

// FileURL is the public URL of a stored file; the name is escaped as the
// reference escapes it (encodeURIComponent).
func (a *App) FileURL(name string) string {
	return a.cfg.PublicServerURL + "/files/" + a.cfg.AppID + "/" + encodeURIComponent(name)
}
