package parse

import (
	"context"
	"errors"
	"sync"
)

// FunctionRequest is what a cloud function receives.
type FunctionRequest struct {
	// Params are the call's parameters, decoded to field values.
	Params map[string]any
	// Auth is the caller: Master, the session's User, the installation
	// (InstallationID).
	Auth Auth
	// Request is the HTTP request the call came from: its headers, the
	// client's IP and the cloud context it sent.
	Request RequestInfo
}

// Function is a cloud function: its result is sent as {"result": ...}. An
// *Error keeps its code; any other error is reported as 141 (script failed)
// with its message.
type Function func(ctx context.Context, req FunctionRequest) (any, error)

// Validation declares what a function's callers must present; a call that
// falls short is refused with 142 before the function runs. The master key
// passes every check.
type Validation struct {
	// RequireUser refuses calls without a logged-in user.
	RequireUser bool
	// RequireMaster refuses calls without the master key.
	RequireMaster bool
	// Params declares parameters: whether they are required and of which
	// JSON type.
	Params map[string]Param
}

// Param declares one parameter of a function.
type Param struct {
	Required bool
	// Type, when set, is the JSON type the value must have: "string",
	// "number", "boolean", "array" or "object".
	Type string
}

type function struct {
	fn Function
	v  *Validation
}

// Functions holds an App's cloud functions, defined by the host program.
// Functions registered through the Hooks API (webhooks) take precedence.
type Functions struct {
	app *App
	mu  sync.RWMutex
	fns map[string]function
}

// Define registers fn under name, replacing any function of that name.
// An optional Validation is checked before each call.
func (f *Functions) Define(name string, fn Function, v ...Validation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fns == nil {
		f.fns = map[string]function{}
	}
	def := function{fn: fn}
	if len(v) > 0 {
		def.v = &v[0]
	}
	f.fns[name] = def
}

// Names returns the defined function names.
func (f *Functions) Names() []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return sortedKeys(f.fns)
}

// Run calls the function name with params as the identity ctx carries; 141
// when no such function exists.
func (f *Functions) Run(ctx context.Context, name string, params map[string]any) (any, error) {
	if params == nil {
		params = map[string]any{}
	}
	if url := f.app.Hooks.functionURL(ctx, name); url != "" {
		return f.app.Hooks.callFunction(ctx, url, name, params)
	}
	f.mu.RLock()
	def, ok := f.fns[name]
	f.mu.RUnlock()
	if !ok {
		return nil, NewError(ScriptFailed, "Invalid function: %q", name)
	}
	auth := AuthFrom(ctx)
	if def.v != nil {
		if err := def.v.check(auth, params); err != nil {
			return nil, err
		}
	}
	var res any
	err := recovered(func() (err error) {
		res, err = def.fn(ctx, FunctionRequest{Params: params, Auth: auth, Request: RequestInfoFrom(ctx)})
		return err
	})
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, &Error{Code: ScriptFailed, Message: err.Error(), Err: err}
	}
	if res, err = normalizeResult(res); err != nil {
		return nil, err
	}
	return res, nil
}

// check applies a Validation as the reference's built-in validator does,
// with its messages.
func (v *Validation) check(auth Auth, params map[string]any) error {
	if auth.Master {
		return nil
	}
	if v.RequireUser && auth.User == nil {
		return NewError(ValidationError, "Validation failed. Please login to continue.")
	}
	if v.RequireMaster {
		return NewError(ValidationError, "Validation failed. Master key is required to complete this request.")
	}
	for _, k := range sortedKeys(v.Params) {
		p := v.Params[k]
		val, ok := params[k]
		if !ok || val == nil {
			if p.Required {
				return NewError(ValidationError, "Validation failed. Please specify data for %s.", k)
			}
			continue
		}
		if p.Type != "" && jsonType(val) != p.Type {
			return NewError(ValidationError, "Validation failed. Invalid type for %s. Expected: %s", k, p.Type)
		}
	}
	return nil
}

// jsonType is JavaScript's name for the type of a decoded value, as the
// reference's validator compares it ("array" for arrays).
func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	}
	return "object"
}
