package parse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// DefaultWebhookTimeout bounds a webhook call when Config.WebhookTimeout
// is not set.
const DefaultWebhookTimeout = 30 * time.Second

// maxWebhookResponse caps what is read of a webhook's answer.
const maxWebhookResponse = 16 << 20

// callFunction calls a function webhook and returns its success value.
func (s *Hooks) callFunction(ctx context.Context, url, name string, params map[string]any) (any, error) {
	body := s.requestBody(ctx)
	body["functionName"] = jsonOf(name)
	body["params"] = json.RawMessage(AppendJSON(nil, plainDates(params)))
	res, err := s.post(ctx, url, body)
	if err != nil {
		return nil, err
	}
	v, err := DecodeValue(res, false)
	if err != nil {
		return nil, &Error{Code: ScriptFailed, Message: "invalid webhook response", Err: err}
	}
	return v, nil
}

// callTrigger calls a trigger webhook with req's object (and original).
// A beforeSave webhook answers the object to save: every field of it that
// differs from what is being written is written too, as the reference
// takes it (on an update, the unchanged fields of the original it echoes
// are written again, and show in the answer).
func (s *Hooks) callTrigger(ctx context.Context, url, class string, req *TriggerRequest) error {
	body := s.requestBody(ctx)
	body["triggerName"] = jsonOf(string(req.Trigger))
	if req.Object != nil {
		obj := req.Object
		if req.Trigger == TriggerBeforeSave && req.Original != nil {
			// The object as it will be: the original with the values written.
			merged := *req.Original
			merged.Fields = make(map[string]any, len(obj.Fields)+len(req.Original.Fields))
			for k, v := range req.Original.Fields {
				merged.Fields[k] = v
			}
			for k, v := range obj.Fields {
				merged.Fields[k] = v
			}
			obj = &merged
		}
		body["object"] = objectJSON(class, obj)
	}
	if req.Original != nil {
		body["original"] = objectJSON(class, req.Original)
	}
	res, err := s.post(ctx, url, body)
	if err != nil || req.Trigger != TriggerBeforeSave {
		return err
	}
	changed, ok := res.(map[string]any)
	if !ok {
		return nil
	}
	var written map[string]any
	if err := json.Unmarshal(AppendJSON(nil, req.Object.Fields), &written); err != nil {
		return err
	}
	for k, v := range changed {
		switch k {
		case "className", "createdAt", "updatedAt", "objectId":
			continue
		}
		if old, ok := written[k]; ok && reflect.DeepEqual(old, v) {
			continue
		}
		d, err := DecodeValue(v, true)
		if err != nil {
			return &Error{Code: ScriptFailed, Message: "invalid webhook response", Err: err}
		}
		if _, ok := d.(Relation); ok {
			continue // a relation field echoed back: its links are not a value
		}
		req.Object.Fields[k] = d
	}
	return nil
}

// requestBody is what every webhook call carries: the caller and the
// request, as the reference sends them.
func (s *Hooks) requestBody(ctx context.Context) map[string]json.RawMessage {
	auth, info := AuthFrom(ctx), RequestInfoFrom(ctx)
	body := map[string]json.RawMessage{
		"master":     jsonOf(auth.Master),
		"isReadOnly": jsonOf(auth.ReadOnly),
		"ip":         jsonOf(info.IP),
		"log":        json.RawMessage("{}"),
	}
	headers := make(map[string]string, len(info.Headers))
	for k, v := range info.Headers {
		k = strings.ToLower(k)
		switch k {
		case "x-parse-master-key", "x-parse-maintenance-key", "authorization":
			// The reference forwards them; a secret never leaves the server.
			continue
		}
		headers[k] = strings.Join(v, ", ")
	}
	body["headers"] = jsonOf(headers)
	body["context"] = jsonOf(info.Context)
	if info.Context == nil {
		body["context"] = json.RawMessage("{}")
	}
	if auth.InstallationID != "" {
		body["installationId"] = jsonOf(auth.InstallationID)
	}
	if auth.User != nil {
		var user map[string]json.RawMessage
		if json.Unmarshal(auth.User.AppendJSON(nil), &user) == nil {
			if auth.SessionToken != "" {
				user["sessionToken"] = jsonOf(auth.SessionToken)
			}
			body["user"] = jsonOf(user)
		}
	}
	return body
}

// post sends a webhook request and returns the success value of its
// answer ({"success": value}). An {"error": ...} answer, a failure to
// reach the webhook, a timeout and an answer that is not JSON are all 141.
func (s *Hooks) post(ctx context.Context, url string, body map[string]json.RawMessage) (any, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, &Error{Code: ScriptFailed, Message: "invalid webhook URL", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if key := s.app.cfg.WebhookKey; key != "" {
		req.Header.Set("X-Parse-Webhook-Key", key)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, &Error{Code: ScriptFailed, Message: "webhook timed out", Err: err}
		}
		return nil, &Error{Code: ScriptFailed, Message: "webhook failed", Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxWebhookResponse))
	if err != nil {
		return nil, &Error{Code: ScriptFailed, Message: "webhook failed", Err: err}
	}
	var answer struct {
		Success any `json:"success"`
		Error   any `json:"error"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, &Error{Code: ScriptFailed, Message: "Malformed response from the webhook", Err: err}
	}
	if answer.Error != nil {
		return nil, NewError(ScriptFailed, "%s", webhookMessage(answer.Error))
	}
	return answer.Success, nil
}

// webhookMessage is the message of a webhook's error: a string, or an
// object's message or error.
func webhookMessage(e any) string {
	switch x := e.(type) {
	case string:
		return x
	case map[string]any:
		for _, k := range []string{"message", "error"} {
			if s, ok := x[k].(string); ok {
				return s
			}
		}
	}
	return string(jsonOf(e))
}

// objectJSON is o in REST encoding with its className, as webhooks get
// objects.
func objectJSON(class string, o *Object) json.RawMessage {
	b := append([]byte(`{"className":`), AppendJSON(nil, class)...)
	rest := o.AppendJSON(nil)
	if len(rest) > 2 {
		b = append(b, ',')
	}
	return append(b, rest[1:]...)
}

func jsonOf(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// plainDates replaces Dates by their ISO strings, as a webhook's params
// reach it from the reference (JSON.stringify of a JavaScript Date).
func plainDates(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(dateFormat)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plainDates(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainDates(e)
		}
		return out
	}
	return v
}
