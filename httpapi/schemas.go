package httpapi

import (
	"context"
	"slices"

	"github.com/parsego/parse"
)

// The schemas API is the master key's only: anyone else gets the
// reference's sanitized 403 {"error":"Permission denied"}.

// schemas answers GET /schemas: {"results":[schema...]}.
func (h *handler) schemas(ctx context.Context, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master {
		return b, errPermissionDenied()
	}
	list, err := h.app.Schemas.All(ctx)
	if err != nil {
		return b, err
	}
	b = append(b, `{"results":[`...)
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSchema(b, s)
	}
	return append(b, "]}"...), nil
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

// schemaWrite stands for POST, PUT and DELETE on /schemas until the App
// can change schemas: the key check answers as the reference, then the
// route answers as unknown.
func (h *handler) schemaWrite(ctx context.Context, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master {
		return b, errPermissionDenied()
	}
	return b, errUnrouted
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
