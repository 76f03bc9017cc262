package httpapi

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parsego/parse"
)

// params returns a find's or get's parameters: the JSON body's (the
// JavaScript SDK sends them there), overridden by the query string's, as
// the reference merges them.
func (c *call) params() map[string]any {
	if c.query == nil {
		return c.in.body
	}
	if c.in.body == nil {
		return c.query
	}
	for k, v := range c.query {
		c.in.body[k] = v
	}
	return c.in.body
}

// find answers a query: {"results":[...]}, plus "count" when asked.
func (h *handler) find(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if c.in.arrayLen > 0 {
		return b, parse.NewError(parse.InvalidQuery, "Invalid parameter for query: 0")
	}
	q, err := h.app.DecodeQuery(c.route.class, c.params())
	if err != nil {
		return b, err
	}
	b = append(b, `{"results":[`...)
	if b, err = q.AppendFind(ctx, b); err != nil {
		return b, err
	}
	return appendCount(ctx, q, append(b, ']'))
}

// appendCount ends a find's answer: "count" when asked, and the closing
// brace.
func appendCount(ctx context.Context, q *parse.Query, b []byte) ([]byte, error) {
	if q.CountRequested() {
		count, err := q.Count(ctx)
		if err != nil {
			return b, err
		}
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, count, 10)
	}
	return append(b, '}'), nil
}

// get answers one object by id.
func (h *handler) get(ctx context.Context, c *call, b []byte) ([]byte, error) {
	q, err := h.getQuery(c)
	if err != nil {
		return b, err
	}
	o, err := q.Get(ctx, c.route.id)
	if err != nil {
		return b, err
	}
	return o.AppendJSON(b), nil
}

// getQuery is the query of a get: only the parameters that shape one
// object are allowed, as the reference's handleGet.
func (h *handler) getQuery(c *call) (*parse.Query, error) {
	if c.in.arrayLen > 0 {
		return nil, errImproperParameter()
	}
	q := h.app.Query(c.route.class)
	for k, v := range c.params() {
		switch k {
		case "keys", "include", "excludeKeys":
			if v == nil {
				continue
			}
			switch s := jsString(v); k {
			case "keys":
				q.Keys(s)
			case "include":
				q.Include(s)
			default:
				q.ExcludeKeys(s)
			}
		case "readPreference", "includeReadPreference", "subqueryReadPreference":
			// Accepted and ignored: they tune MongoDB replicas.
		default:
			return nil, errImproperParameter()
		}
	}
	return q, nil
}

func errImproperParameter() error {
	return parse.NewError(parse.InvalidQuery, "Improper encode of parameter")
}

// jsString is JavaScript's String(v) for the values a list parameter
// takes: a string, or an array of them joined by commas.
func jsString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = jsString(e)
		}
		return strings.Join(parts, ",")
	case float64:
		return string(parse.AppendJSON(nil, x))
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	return "[object Object]"
}

// writeFields decodes a write's body: typed values ({"__type":...}) and
// operators ({"__op":...}) into their Go forms, in place.
func writeFields(in input) (map[string]any, error) {
	if in.arrayLen > 0 {
		return nil, parse.NewError(parse.InvalidKeyName, "Invalid field name: 0.")
	}
	for k, v := range in.body {
		switch v.(type) {
		case map[string]any, []any:
			d, err := parse.DecodeValue(v, true)
			if err != nil {
				return nil, err
			}
			in.body[k] = d
		}
	}
	return in.body, nil
}

// create answers 201 with a Location and {"objectId","createdAt",...}.
func (h *handler) create(ctx context.Context, c *call, b []byte) ([]byte, error) {
	fields, err := writeFields(c.in)
	if err != nil {
		return b, err
	}
	if c.route.class == parse.ClassInstallation {
		// Save normalizes fields in place (a lowercased installationId),
		// and the reference's answer leaves out what it normalized.
		o, created, err := h.app.Installations.Save(ctx, fields)
		if err != nil {
			return b, err
		}
		if !created {
			// A known device was updated: 200 and no Location.
			return appendSaved(b, fields, nil, o, false), nil
		}
		c.status = http.StatusCreated
		c.location = h.location(c.route.class, o.ID)
		return appendSaved(b, fields, nil, o, true), nil
	}
	sent := maps.Clone(fields)
	o, err := h.app.Objects.Create(ctx, c.route.class, fields)
	if err != nil {
		return b, err
	}
	c.status = http.StatusCreated
	c.location = h.location(c.route.class, o.ID)
	return appendSaved(b, sent, fields, o, true), nil
}

// location is a created object's URL: /users/<id> for users, as the
// reference, /classes/<class>/<id> for every other class.
func (h *handler) location(class, id string) string {
	if class == parse.ClassUser {
		return h.cfg.PublicServerURL + "/users/" + id
	}
	return h.cfg.PublicServerURL + "/classes/" + class + "/" + id
}

// update answers {"updatedAt",...}.
func (h *handler) update(ctx context.Context, c *call, b []byte) ([]byte, error) {
	fields, err := writeFields(c.in)
	if err != nil {
		return b, err
	}
	sent := maps.Clone(fields)
	o, err := h.app.Objects.Update(ctx, c.route.class, c.route.id, fields)
	if err != nil {
		return b, err
	}
	return appendSaved(b, sent, fields, o, false), nil
}

// delete answers {}.
func (h *handler) delete(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if err := h.app.Objects.Delete(ctx, c.route.class, c.route.id); err != nil {
		return b, err
	}
	return append(b, "{}"...), nil
}

// appendSaved appends the answer to a write: {"objectId","createdAt"} for a
// create, {"updatedAt"} for an update, plus every field whose saved value
// the client could not know from what it sent (see computedFields) and
// every field a beforeSave trigger set: written is the fields map the App
// wrote, which the trigger changed in place (nil: the same as sent).
// Create, update and batch all answer through it.
func appendSaved(b []byte, sent, written map[string]any, saved *parse.Object, created bool) []byte {
	if created {
		b = append(b, `{"objectId":`...)
		b = parse.AppendJSON(b, saved.ID)
		b = append(b, `,"createdAt":"`...)
		b = parse.AppendDate(b, saved.CreatedAt)
	} else {
		b = append(b, `{"updatedAt":"`...)
		b = parse.AppendDate(b, saved.UpdatedAt)
	}
	b = append(b, '"')
	var stack [8]string
	keys := computedFields(stack[:0], sent, saved, created)
	for k, v := range written {
		if old, ok := sent[k]; ok && sameSent(old, v) {
			continue
		}
		if _, ok := saved.Fields[k]; ok && !slices.Contains(keys, k) {
			keys = append(keys, k)
			slices.Sort(keys)
		}
	}
	for _, k := range keys {
		b = append(b, ',')
		b = parse.AppendJSON(b, k)
		b = append(b, ':')
		b = parse.AppendJSON(b, saved.Fields[k])
	}
	return append(b, '}')
}

// computedFields returns, sorted, the top-level fields a write's answer
// carries, as the reference's response diff does:
//   - fields sent as Increment, Add, AddUnique or Remove: their results (for
//     a dot path "a.b", the whole field "a");
//   - fields sent as values the saved object holds differently;
//   - on create, fields the client didn't send that the object has (schema
//     defaults), except the Relation placeholders every relation field of
//     the class shows.
//
// Delete and relation operators, nulls, and the fields the server owns
// (objectId, createdAt, updatedAt, ACL) are never echoed.
func computedFields(keys []string, sent map[string]any, saved *parse.Object, created bool) []string {
	for k, v := range sent {
		switch k {
		case "objectId", "createdAt", "updatedAt", "ACL":
			continue
		}
		top := k
		if i := strings.IndexByte(k, '.'); i >= 0 {
			top = k[:i]
		}
		cur, ok := saved.Fields[top]
		if !ok {
			continue
		}
		if op, isOp := v.(*parse.Op); isOp {
			switch op.Kind {
			case parse.OpIncrement, parse.OpAdd, parse.OpAddUnique, parse.OpRemove:
				keys = appendNew(keys, top)
			}
			continue
		}
		if top == k && v != nil && !sameValue(v, cur) {
			keys = appendNew(keys, top)
		}
	}
	if created {
		for k, v := range saved.Fields {
			if _, ok := sent[k]; ok {
				continue
			}
			if _, isRelation := v.(parse.Relation); isRelation {
				continue
			}
			keys = appendNew(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// sameSent reports whether a beforeSave trigger left a value sent as it
// was: the same operator, or the same value.
func sameSent(a, b any) bool {
	if op, ok := a.(*parse.Op); ok {
		return op == b
	}
	return sameValue(a, b)
}

func appendNew(keys []string, k string) []string {
	if slices.Contains(keys, k) {
		return keys
	}
	return append(keys, k)
}

// sameValue reports whether a value sent and a value saved are the same
// Parse value. A File is its name: the URL is the server's to compute.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case parse.Pointer:
		y, ok := b.(parse.Pointer)
		return ok && x == y
	case *parse.Object:
		y, ok := b.(parse.Pointer)
		return ok && x != nil && x.Pointer() == y
	case parse.Relation:
		y, ok := b.(parse.Relation)
		return ok && x == y
	case parse.GeoPoint:
		y, ok := b.(parse.GeoPoint)
		return ok && x == y
	case parse.File:
		y, ok := b.(parse.File)
		return ok && x.Name == y.Name
	case parse.Bytes:
		y, ok := b.(parse.Bytes)
		return ok && bytes.Equal(x, y)
	case parse.Polygon:
		y, ok := b.(parse.Polygon)
		return ok && slices.Equal(x.Coordinates, y.Coordinates)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, e := range x {
			f, ok := y[k]
			if !ok || !sameValue(e, f) {
				return false
			}
		}
		return true
	}
	return false
}
