package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/parsego/parse"
)

// event answers POST /events/{name} (AppOpened and custom events) with
// {}: {"dimensions":{"key":"value",...},"at":{"__type":"Date",...}}, both
// optional. The first eight dimensions, in the order sent, are kept.
func (h *handler) event(ctx context.Context, c *call, b []byte) ([]byte, error) {
	var at time.Time
	switch v := c.in.body["at"].(type) {
	case nil:
	case string:
		t, err := parse.ParseDate(v)
		if err != nil {
			return b, parse.NewError(parse.IncorrectType, "at must be a date")
		}
		at = t
	default:
		t, err := parse.DecodeValue(v, false)
		if _, ok := t.(time.Time); !ok || err != nil {
			return b, parse.NewError(parse.IncorrectType, "at must be a date")
		}
		at = t.(time.Time)
	}
	var dims []parse.Dimension
	switch v := c.in.body["dimensions"].(type) {
	case nil:
	case map[string]any:
		for _, k := range dimensionOrder(c.in.raw, v) {
			s, ok := v[k].(string)
			if !ok {
				return b, parse.NewError(parse.IncorrectType, "Dimension values must be strings: %s", k)
			}
			dims = append(dims, parse.Dimension{Key: k, Value: s})
		}
	default:
		return b, parse.NewError(parse.InvalidJSON, "dimensions must be an object")
	}
	if err := h.app.Analytics.Track(ctx, c.route.class, at, dims...); err != nil {
		return b, err
	}
	return append(b, "{}"...), nil
}

// dimensionOrder returns the keys of dims in the order the raw body sent
// them; without a raw body (a batch item) or when it can't be read, in
// sorted order.
func dimensionOrder(raw []byte, dims map[string]any) []string {
	if keys := objectKeys(raw, "dimensions"); len(keys) == len(dims) {
		return keys
	}
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// objectKeys returns the keys, in order and without repeats, of the object
// under field in a JSON object document, nil when there is none.
func objectKeys(raw []byte, field string) []string {
	if len(raw) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil
		}
		if t != field {
			var skip json.RawMessage
			if d.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		if t, err := d.Token(); err != nil || t != json.Delim('{') {
			return nil
		}
		var keys []string
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return nil
			}
			var skip json.RawMessage
			if d.Decode(&skip) != nil {
				return nil
			}
			if !slices.Contains(keys, k.(string)) {
				keys = append(keys, k.(string))
			}
		}
		return keys
	}
	return nil
}
