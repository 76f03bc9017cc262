package parse_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parsego/parse"
)

func TestFunctions(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	app.Functions.Define("echo", func(ctx context.Context, req parse.FunctionRequest) (any, error) { return req.Params, nil })
	app.Functions.Define("isMaster", func(ctx context.Context, req parse.FunctionRequest) (any, error) { return req.Auth.Master, nil })
	app.Functions.Define("fail", func(context.Context, parse.FunctionRequest) (any, error) {
		return nil, parse.NewError(parse.ValidationError, "no")
	})
	app.Functions.Define("crash", func(context.Context, parse.FunctionRequest) (any, error) { return nil, errors.New("boom") })
	app.Functions.Define("count", func(context.Context, parse.FunctionRequest) (any, error) { return 3, nil })
	obj := &parse.Object{ClassName: "Thing", ID: "abcdefghij", Fields: map[string]any{"n": 1}}
	app.Functions.Define("object", func(context.Context, parse.FunctionRequest) (any, error) {
		return map[string]any{"one": obj, "list": []*parse.Object{obj}, "n": int64(2)}, nil
	})

	tests := []struct {
		ctx    context.Context
		name   string
		params map[string]any
		want   string
		code   int
	}{
		{ctx, "echo", map[string]any{"a": 1.0}, `{"a":1}`, 0},
		{ctx, "isMaster", nil, `true`, 0},
		{parse.WithAuth(ctx, parse.Auth{}), "isMaster", nil, `false`, 0},
		{ctx, "count", nil, `3`, 0},
		// Objects are sent whole, as the reference encodes a Parse.Object.
		{ctx, "object", nil, `{"list":[{"__type":"Object","className":"Thing","objectId":"abcdefghij","n":1}],"n":2,` +
			`"one":{"__type":"Object","className":"Thing","objectId":"abcdefghij","n":1}}`, 0},
		{ctx, "fail", nil, "", parse.ValidationError},
		{ctx, "crash", nil, "", parse.ScriptFailed},
		{ctx, "nope", nil, "", parse.ScriptFailed},
	}
	for _, tt := range tests {
		got, err := app.Functions.Run(tt.ctx, tt.name, tt.params)
		if code := parse.ErrorCode(err); code != tt.code {
			t.Errorf("%s: error %v, want code %d", tt.name, err, tt.code)
			continue
		}
		if err == nil && string(parse.AppendJSON(nil, got)) != tt.want {
			t.Errorf("%s = %s, want %s", tt.name, parse.AppendJSON(nil, got), tt.want)
		}
	}
	if names := app.Functions.Names(); len(names) != 6 || names[0] != "count" {
		t.Errorf("Names() = %v", names)
	}
}

func TestFunctionValidation(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	ok := func(context.Context, parse.FunctionRequest) (any, error) { return "ran", nil }
	app.Functions.Define("members", ok, parse.Validation{RequireUser: true})
	app.Functions.Define("admin", ok, parse.Validation{RequireMaster: true})
	app.Functions.Define("typed", ok, parse.Validation{Params: map[string]parse.Param{
		"name": {Required: true, Type: "string"}, "n": {Type: "number"}, "tags": {Type: "array"},
	}})
	app.Functions.Define("context", func(_ context.Context, req parse.FunctionRequest) (any, error) {
		return req.Request.Context["k"], nil
	})
	client := parse.WithAuth(ctx, parse.Auth{})
	user := parse.WithAuth(ctx, parse.Auth{User: &parse.Object{ClassName: parse.ClassUser, ID: "u1"}})
	tests := []struct {
		ctx    context.Context
		name   string
		params map[string]any
		msg    string // "" when the call runs
	}{
		{client, "members", nil, "Validation failed. Please login to continue."},
		{user, "members", nil, ""},
		{ctx, "members", nil, ""}, // the master key passes every check
		{user, "admin", nil, "Validation failed. Master key is required to complete this request."},
		{ctx, "admin", nil, ""},
		{client, "typed", map[string]any{}, "Validation failed. Please specify data for name."},
		{client, "typed", map[string]any{"name": 1.0}, "Validation failed. Invalid type for name. Expected: string"},
		{client, "typed", map[string]any{"name": "x", "n": "1"}, "Validation failed. Invalid type for n. Expected: number"},
		{client, "typed", map[string]any{"name": "x", "tags": map[string]any{}}, "Validation failed. Invalid type for tags. Expected: array"},
		{client, "typed", map[string]any{"name": "x", "n": 2.0, "tags": []any{}}, ""},
	}
	for _, tt := range tests {
		res, err := app.Functions.Run(tt.ctx, tt.name, tt.params)
		switch {
		case tt.msg == "" && (err != nil || res != "ran"):
			t.Errorf("%s %v: %v, %v", tt.name, tt.params, res, err)
		case tt.msg != "":
			var pe *parse.Error
			if !errors.As(err, &pe) || pe.Code != parse.ValidationError || pe.Message != tt.msg {
				t.Errorf("%s %v: %v, want 142 %q", tt.name, tt.params, err, tt.msg)
			}
		}
	}
	withCtx := parse.WithRequestInfo(ctx, parse.RequestInfo{Context: map[string]any{"k": "v"}})
	if res, err := app.Functions.Run(withCtx, "context", nil); err != nil || res != "v" {
		t.Errorf("context: %v, %v", res, err)
	}
}
