package httpapi

import (
	"context"

	"github.com/parsego/parse"
)

// The Hooks API (master key): /hooks/functions[/{name}] and
// /hooks/triggers[/{class}/{trigger}]. Lists are bare arrays; create and
// update answer the hook; PUT with {"__op":"Delete"} deletes and answers
// {}, as the reference (it has no DELETE route).

// hooksList answers GET /hooks/functions and GET /hooks/triggers.
func (h *handler) hooksList(ctx context.Context, c *call, b []byte) ([]byte, error) {
	list, err := h.app.Hooks.Functions(ctx)
	if c.route.id == "triggers" {
		list, err = h.app.Hooks.Triggers(ctx)
	}
	if err != nil {
		return b, err
	}
	return appendArray(b, list, appendHook), nil
}

// hookKey is the hook a /hooks path names: the function in class, or the
// class and trigger in class and id.
func hookKey(rt route) parse.Hook {
	if rt.id == "" {
		return parse.Hook{FunctionName: rt.class}
	}
	return parse.Hook{ClassName: rt.class, TriggerName: rt.id}
}

// hookGet answers GET /hooks/functions/{name} and
// GET /hooks/triggers/{class}/{trigger}.
func (h *handler) hookGet(ctx context.Context, c *call, b []byte) ([]byte, error) {
	hk, err := h.app.Hooks.Get(ctx, hookKey(c.route))
	if err != nil {
		return b, err
	}
	return appendHook(b, hk), nil
}

// hookCreate answers POST /hooks/functions and POST /hooks/triggers.
func (h *handler) hookCreate(ctx context.Context, c *call, b []byte) ([]byte, error) {
	str := func(k string) string { s, _ := c.in.body[k].(string); return s }
	hk := parse.Hook{URL: str("url")}
	if c.route.id == "functions" {
		hk.FunctionName = str("functionName")
		if hk.FunctionName == "" {
			return b, parse.NewError(parse.WebhookError, "invalid hook declaration")
		}
	} else {
		hk.ClassName, hk.TriggerName = str("className"), str("triggerName")
		if hk.ClassName == "" || hk.TriggerName == "" {
			return b, parse.NewError(parse.WebhookError, "invalid hook declaration")
		}
	}
	hk, err := h.app.Hooks.Create(ctx, hk)
	if err != nil {
		return b, err
	}
	return appendHook(b, hk), nil
}

// hookUpdate answers PUT /hooks/functions/{name} and
// PUT /hooks/triggers/{class}/{trigger}: a new url, or a deletion.
func (h *handler) hookUpdate(ctx context.Context, c *call, b []byte) ([]byte, error) {
	hk := hookKey(c.route)
	if op, _ := c.in.body["__op"].(string); op == "Delete" {
		if err := h.app.Hooks.Delete(ctx, hk); err != nil {
			return b, err
		}
		return append(b, "{}"...), nil
	}
	hk.URL, _ = c.in.body["url"].(string)
	hk, err := h.app.Hooks.Update(ctx, hk)
	if err != nil {
		return b, err
	}
	return appendHook(b, hk), nil
}

func appendHook(b []byte, hk parse.Hook) []byte {
	b = append(b, '{')
	if hk.FunctionName != "" {
		b = append(b, `"functionName":`...)
		b = parse.AppendJSON(b, hk.FunctionName)
	} else {
		b = append(b, `"className":`...)
		b = parse.AppendJSON(b, hk.ClassName)
		b = append(b, `,"triggerName":`...)
		b = parse.AppendJSON(b, hk.TriggerName)
	}
	b = append(b, `,"url":`...)
	b = parse.AppendJSON(b, hk.URL)
	if hk.Warning != "" {
		b = append(b, `,"warning":`...)
		b = parse.AppendJSON(b, hk.Warning)
	}
	return append(b, '}')
}
