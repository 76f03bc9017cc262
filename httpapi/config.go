package httpapi

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/parsego/parse"
)

// getConfig answers GET /config: {"params":{...},"masterKeyOnly":{...}},
// or {"params":{}} before any parameter was saved, as the reference.
func (h *handler) getConfig(ctx context.Context, b []byte) ([]byte, error) {
	cfg, err := h.app.Params.Get(ctx)
	if err != nil {
		return b, err
	}
	b = append(b, `{"params":`...)
	b = parse.AppendJSON(b, cfg.Params)
	if cfg.MasterKeyOnly != nil {
		b = append(b, `,"masterKeyOnly":{`...)
		for i, k := range slices.Sorted(maps.Keys(cfg.MasterKeyOnly)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = parse.AppendJSON(b, k)
			b = append(b, ':')
			b = strconv.AppendBool(b, cfg.MasterKeyOnly[k])
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// putConfig answers PUT /config {"params":{...},"masterKeyOnly":{...}}
// with {"result":true}. Without the master key it is the reference's
// sanitized 403, before the body is looked at.
func (h *handler) putConfig(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master {
		return b, errPermissionDenied()
	}
	params, ok := c.in.body["params"].(map[string]any)
	if !ok && c.in.body["params"] != nil {
		return b, parse.NewError(parse.InvalidJSON, "params must be an object")
	}
	for k, v := range params {
		d, err := parse.DecodeValue(v, true)
		if err != nil {
			return b, err
		}
		params[k] = d
	}
	var flags map[string]bool
	switch mk := c.in.body["masterKeyOnly"].(type) {
	case nil:
	case map[string]any:
		flags = make(map[string]bool, len(mk))
		for k, v := range mk {
			on, ok := v.(bool)
			// {"__op":"Delete"}, as Parse Dashboard sends it with a
			// deleted parameter, clears the flag.
			if op, isOp := v.(map[string]any); isOp && len(op) == 1 && op["__op"] == "Delete" {
				ok = true
			}
			if !ok && v != nil {
				return b, parse.NewError(parse.IncorrectType, "masterKeyOnly.%s must be a boolean", k)
			}
			flags[k] = on
		}
	default:
		return b, parse.NewError(parse.InvalidJSON, "masterKeyOnly must be an object")
	}
	if err := h.app.Params.Update(ctx, params, flags); err != nil {
		return b, err
	}
	return append(b, `{"result":true}`...), nil
}
