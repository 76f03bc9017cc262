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
	// Auth is the caller: Master, the session's User, the installation.
	Auth Auth
}

// Function is a cloud function: its result is sent as {"result": ...}. An
// *Error keeps its code; any other error is reported as 141 (script failed)
// with its message.
type Function func(ctx context.Context, req FunctionRequest) (any, error)

// Functions holds an App's cloud functions, defined by the host program.
type Functions struct {
	mu  sync.RWMutex
	fns map[string]Function
}

// Define registers fn under name, replacing any function of that name.
func (f *Functions) Define(name string, fn Function) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fns == nil {
		f.fns = map[string]Function{}
	}
	f.fns[name] = fn
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
	f.mu.RLock()
	fn, ok := f.fns[name]
	f.mu.RUnlock()
	if !ok {
		return nil, NewError(ScriptFailed, "Invalid function: %q", name)
	}
	if params == nil {
		params = map[string]any{}
	}
	res, err := fn(ctx, FunctionRequest{Params: params, Auth: AuthFrom(ctx)})
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
