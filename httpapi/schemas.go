package httpapi

import (
	"context"
	"encoding/json"
	"maps"
	"slices"

	"github.com/parsego/parse"
)

// The schemas API is the master key's only: anyone else gets the
// reference's sanitized 403 {"error":"Permission denied"}, before the body
// is looked at. The read-only master key reads; the App refuses its writes.

// schemas answers GET /schemas: {"results":[schema...]}.
func (h *handler) schemas(ctx context.Context, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master {
		return b, errPermissionDenied()
	}
	list, err := h.app.Schemas.All(ctx)
	if err != nil {
		return b, err
	}
	b = appendArray(append(b, `{"results":`...), list, appendSchema)
	return append(b, '}'), nil
}

// schema answers GET /schemas/{class}.
func (h *handler) schema(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master {
		return b, errPermissionDenied()
	}
	s, err := h.app.Schemas.Get(ctx, c.route.class)
	if err != nil {
		return b, err
	}
	return appendSchema(b, s), nil
}

// schemaCreate answers POST /schemas and POST /schemas/{class} with the
// new schema (200, not 201). The class is the path's or, without one, the
// body's className; both given must agree (103).
func (h *handler) schemaCreate(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master {
		return b, errPermissionDenied()
	}
	class, err := schemaClassName(c)
	if err != nil {
		return b, err
	}
	if class == "" {
		path := "/schemas"
		if c.route.class != "" {
			path += "/" + c.route.class
		}
		return b, parse.NewError(parse.MissingRequiredField, "POST %s needs a class name.", path)
	}
	fields, deleted, err := decodeSchemaFields(c.in.body["fields"])
	if err != nil {
		return b, err
	}
	for name := range deleted {
		// A Delete op names no type: it is a field without one.
		fields[name] = parse.Field{}
	}
	s, err := h.app.Schemas.Create(ctx, parse.ClassSchema{
		ClassName:             class,
		Fields:                fields,
		ClassLevelPermissions: rawParam(c.in.body, "classLevelPermissions"),
		Indexes:               decodeSchemaIndexes(c.in.body["indexes"]),
	})
	if err != nil {
		return b, err
	}
	return appendSchema(b, s), nil
}

// schemaUpdate answers PUT /schemas/{class} with the schema afterwards.
// Fields and indexes given as {"__op":"Delete"} are dropped.
func (h *handler) schemaUpdate(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master {
		return b, errPermissionDenied()
	}
	if _, err := schemaClassName(c); err != nil {
		return b, err
	}
	fields, deleted, err := decodeSchemaFields(c.in.body["fields"])
	if err != nil {
		return b, err
	}
	u := parse.SchemaUpdate{
		Fields:                fields,
		ClassLevelPermissions: rawParam(c.in.body, "classLevelPermissions"),
	}
	for _, name := range slices.Sorted(maps.Keys(deleted)) {
		u.DeleteFields = append(u.DeleteFields, name)
	}
	for name, keys := range decodeSchemaIndexes(c.in.body["indexes"]) {
		if keys["__op"] == "Delete" {
			u.DropIndexes = append(u.DropIndexes, name)
			continue
		}
		if u.Indexes == nil {
			u.Indexes = map[string]map[string]any{}
		}
		u.Indexes[name] = keys
	}
	s, err := h.app.Schemas.Update(ctx, c.route.class, u)
	if err != nil {
		return b, err
	}
	return appendSchema(b, s), nil
}

// schemaDelete answers DELETE /schemas/{class}: {} (also for a class that
// doesn't exist), 255 while the class has objects.
func (h *handler) schemaDelete(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master {
		return b, errPermissionDenied()
	}
	if err := h.app.Schemas.Delete(ctx, c.route.class, false); err != nil {
		return b, err
	}
	return append(b, "{}"...), nil
}

// purge answers DELETE /purge/{class}: every object deleted, {}.
func (h *handler) purge(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master {
		return b, errPermissionDenied()
	}
	if err := h.app.Schemas.Purge(ctx, c.route.class); err != nil {
		return b, err
	}
	return append(b, "{}"...), nil
}

// schemaClassName returns the class a schema write is about: the path's,
// else the body's className (as JavaScript prints it). A body className
// that differs from the path's is 103.
func schemaClassName(c *call) (string, error) {
	v, ok := c.in.body["className"]
	var body string
	if ok && truthy(v) {
		body = jsValueString(v)
	}
	if c.route.class != "" && body != "" && body != c.route.class {
		return "", parse.NewError(parse.InvalidClassName, "Class name mismatch between %s and %s.", body, c.route.class)
	}
	if c.route.class != "" {
		return c.route.class, nil
	}
	return body, nil
}

// decodeSchemaFields decodes the fields of a schema body: the fields to
// add, and those given as {"__op":"Delete"}. A value that is not a field
// definition becomes a field without a type, which the App refuses as the
// reference does (107 for a new field, 255 for an existing one).
func decodeSchemaFields(v any) (map[string]parse.Field, map[string]bool, error) {
	fields, deleted := map[string]parse.Field{}, map[string]bool{}
	var m map[string]any
	switch x := v.(type) {
	case map[string]any:
		m = x
	case string:
		// The reference walks the keys of whatever it is given: "0" first.
		if x != "" {
			return nil, nil, parse.NewError(parse.InvalidKeyName, "invalid field name: 0")
		}
		return fields, deleted, nil
	case []any:
		if len(x) > 0 {
			return nil, nil, parse.NewError(parse.InvalidKeyName, "invalid field name: 0")
		}
		return fields, deleted, nil
	default:
		return fields, deleted, nil
	}
	for name, def := range m {
		d, ok := def.(map[string]any)
		if !ok {
			fields[name] = parse.Field{}
			continue
		}
		if d["__op"] == "Delete" {
			deleted[name] = true
			continue
		}
		var f parse.Field
		if t, ok := d["type"].(string); ok {
			f.Type = t
		}
		switch t := d["targetClass"].(type) {
		case nil:
		case string:
			f.TargetClass = t
		default:
			return nil, nil, parse.NewError(parse.InvalidJSON, "invalid JSON")
		}
		f.Required = truthy(d["required"])
		if dv, ok := d["defaultValue"]; ok {
			f.DefaultValue = json.RawMessage(parse.AppendJSON(nil, dv))
		}
		fields[name] = f
	}
	return fields, deleted, nil
}

// decodeSchemaIndexes decodes the indexes of a schema body, by name. A
// value that is not an object is an index without keys.
func decodeSchemaIndexes(v any) map[string]map[string]any {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil
	}
	out := make(map[string]map[string]any, len(m))
	for name, keys := range m {
		k, _ := keys.(map[string]any)
		if k == nil {
			k = map[string]any{}
		}
		out[name] = k
	}
	return out
}

// rawParam returns a body value as JSON, nil when the body lacks it.
func rawParam(body map[string]any, key string) json.RawMessage {
	v, ok := body[key]
	if !ok {
		return nil
	}
	return json.RawMessage(parse.AppendJSON(nil, v))
}

// jsValueString is JavaScript's String() of a scalar JSON value.
func jsValueString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(parse.AppendJSON(nil, v))
}

// appendSchema encodes a class schema as the schemas API shows it.
func appendSchema(b []byte, s *parse.ClassSchema) []byte {
	b = append(b, `{"className":`...)
	b = parse.AppendJSON(b, s.ClassName)
	b = append(b, `,"fields":{`...)
	names := make([]string, 0, len(s.Fields))
	for name := range s.Fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		f := s.Fields[name]
		b = parse.AppendJSON(b, name)
		b = append(b, `:{"type":`...)
		b = parse.AppendJSON(b, f.Type)
		if f.TargetClass != "" {
			b = append(b, `,"targetClass":`...)
			b = parse.AppendJSON(b, f.TargetClass)
		}
		if f.Required {
			b = append(b, `,"required":true`...)
		}
		if len(f.DefaultValue) > 0 {
			b = append(b, `,"defaultValue":`...)
			b = append(b, f.DefaultValue...)
		}
		b = append(b, '}')
	}
	b = append(b, `},"classLevelPermissions":`...)
	if len(s.ClassLevelPermissions) > 0 {
		b = append(b, s.ClassLevelPermissions...)
	} else {
		b = append(b, "{}"...)
	}
	if len(s.Indexes) > 0 {
		b = append(b, `,"indexes":{`...)
		names = names[:0]
		for name := range s.Indexes {
			names = append(names, name)
		}
		slices.Sort(names)
		for i, name := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = parse.AppendJSON(b, name)
			b = append(b, ':')
			b = parse.AppendJSON(b, map[string]any(s.Indexes[name]))
		}
		b = append(b, '}')
	}
	return append(b, '}')
}
