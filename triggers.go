package parse

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// TriggerType names a point in an object's life where a trigger runs.
type TriggerType string

// The trigger points. Save and delete triggers run for any class but
// _Session; find triggers for any class; the login triggers on _User,
// afterLogout on _Session and the file triggers on @File.
const (
	TriggerBeforeSave   TriggerType = "beforeSave"
	TriggerAfterSave    TriggerType = "afterSave"
	TriggerBeforeDelete TriggerType = "beforeDelete"
	TriggerAfterDelete  TriggerType = "afterDelete"
	TriggerBeforeFind   TriggerType = "beforeFind"
	TriggerAfterFind    TriggerType = "afterFind"
	TriggerBeforeLogin  TriggerType = "beforeLogin"
	TriggerAfterLogin   TriggerType = "afterLogin"
	TriggerAfterLogout  TriggerType = "afterLogout"
	// The file triggers run on uploads (Files.Upload), class "@File".
	TriggerBeforeSaveFile TriggerType = "beforeSaveFile"
	TriggerAfterSaveFile  TriggerType = "afterSaveFile"
)

// ClassFile is the class name the file triggers run on, as the
// reference's.
const ClassFile = "@File"

// triggerClass returns the class a trigger of typ may run on when class is
// given (or implied, ""), or an error saying why it may not.
func triggerClass(typ TriggerType, class string) (string, error) {
	var fixed string
	switch typ {
	case TriggerBeforeSave, TriggerAfterSave, TriggerBeforeDelete, TriggerAfterDelete, TriggerBeforeFind, TriggerAfterFind:
		if class == ClassSession {
			return "", fmt.Errorf("parse: only the afterLogout trigger is allowed for the %s class", ClassSession)
		}
		if class == "" || !isName(class) && !isSystemClassName(class) {
			return "", fmt.Errorf("parse: %s needs a class name, got %q", typ, class)
		}
		return class, nil
	case TriggerBeforeLogin, TriggerAfterLogin:
		fixed = ClassUser
	case TriggerAfterLogout:
		fixed = ClassSession
	case TriggerBeforeSaveFile, TriggerAfterSaveFile:
		fixed = ClassFile
	default:
		return "", fmt.Errorf("parse: unknown trigger %q", typ)
	}
	if class != "" && class != fixed {
		return "", fmt.Errorf("parse: %s only runs on %s", typ, fixed)
	}
	return fixed, nil
}

func isSystemClassName(class string) bool { _, ok := systemClasses()[class]; return ok }

// TriggerRequest is what a trigger receives; which fields are set depends
// on the trigger.
type TriggerRequest struct {
	Trigger TriggerType
	// Object is the object concerned. In beforeSave it is the write: its ID
	// ("" on create) and, in Fields, the fields being written (values or
	// operators such as *Op); the trigger may change, add or delete fields
	// there, and the write stores what it leaves. In afterSave it is the
	// object as saved; in the delete triggers the object deleted; in the
	// login triggers the user; in afterLogout the session.
	Object *Object
	// Original is, for the save triggers of an update, the object as it was
	// stored before.
	Original *Object
	// Query is beforeFind's query: the trigger may add constraints to it.
	Query *Query
	// Objects are afterFind's results: the trigger may change or replace
	// them.
	Objects []*Object
	// File is the file of the file triggers. In beforeSaveFile it is the
	// upload's name and content type, which the trigger may change (its
	// contents are streamed to storage after it, so Size is 0); in
	// afterSaveFile the file as stored.
	File *FileInfo
	// Auth is the caller.
	Auth Auth
	// Context is the request's cloud context (X-Parse-Cloud-Context).
	Context map[string]any
}

// Trigger is a trigger defined in Go. Returning an error from a before
// trigger rejects the operation: an *Error keeps its code, any other error
// is reported as 142 (validation failed). After triggers can't undo what
// happened: their errors are logged.
type Trigger func(ctx context.Context, req *TriggerRequest) error

type triggerKey struct {
	typ   TriggerType
	class string
}

// Triggers holds an App's triggers. Triggers registered through the Hooks
// API (webhooks) take precedence over the ones defined here.
type Triggers struct {
	app *App
	mu  sync.RWMutex
	fns map[triggerKey]Trigger
}

// Define registers fn as the typ trigger of class, replacing any other.
// The login triggers take class "" (or "_User"), afterLogout "" (or
// "_Session") and the file triggers "" (or "@File").
func (t *Triggers) Define(typ TriggerType, class string, fn Trigger) error {
	class, err := triggerClass(typ, class)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fns == nil {
		t.fns = map[triggerKey]Trigger{}
	}
	t.fns[triggerKey{typ, class}] = fn
	return nil
}

// find returns how the typ trigger of class runs: a webhook's URL, or a Go
// trigger, or neither.
func (t *Triggers) find(ctx context.Context, typ TriggerType, class string) (string, Trigger) {
	if url := t.app.Hooks.triggerURL(ctx, typ, class); url != "" {
		return url, nil
	}
	t.mu.RLock()
	fn := t.fns[triggerKey{typ, class}]
	t.mu.RUnlock()
	return "", fn
}

// exists reports whether class has a typ trigger, so that callers only
// prepare a request when one will run.
func (t *Triggers) exists(ctx context.Context, typ TriggerType, class string) bool {
	url, fn := t.find(ctx, typ, class)
	return url != "" || fn != nil
}

// run runs the typ trigger of class, if any. Its error is returned as a
// Parse error: its own, or 142 for an error that is not one.
func (t *Triggers) run(ctx context.Context, typ TriggerType, class string, req *TriggerRequest) error {
	url, fn := t.find(ctx, typ, class)
	if url == "" && fn == nil {
		return nil
	}
	req.Trigger = typ
	req.Auth = AuthFrom(ctx)
	req.Context = RequestInfoFrom(ctx).Context
	var err error
	if url != "" {
		err = t.app.Hooks.callTrigger(ctx, url, class, req)
	} else {
		err = recovered(func() error { return fn(ctx, req) })
	}
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Code: ValidationError, Message: err.Error(), Err: err}
}

// runAfter runs an after trigger once the write it follows is durable:
// at once, or when the transaction ctx carries commits. Its error is
// logged; the caller's answer does not depend on it.
func (t *Triggers) runAfter(ctx context.Context, typ TriggerType, class string, req *TriggerRequest) {
	run := func() {
		// The write is done: the trigger runs to its end even if the
		// caller has gone, and its own calls join no finished transaction
		// (their after triggers run at once).
		ctx := context.WithValue(context.WithValue(context.WithoutCancel(ctx), txKey{}, nil), afterCommitKey{}, nil)
		if err := t.run(ctx, typ, class, req); err != nil {
			t.app.log.Error(string(typ)+" trigger failed", "class", class, "err", err)
		}
	}
	if after, ok := ctx.Value(afterCommitKey{}).(*[]func()); ok {
		*after = append(*after, run)
		return
	}
	run()
}

// afterCommitKey carries, inside App.Tx, the after triggers waiting for the
// transaction to commit.
type afterCommitKey struct{}

// beforeSave runs class's beforeSave trigger on a write of fields to the
// object id ("" for a create) and returns the fields to write, which the
// trigger may have changed in place, and, for an update that has a save
// trigger, the object as stored before (read as the caller, as the
// reference does: 101 when the caller can't read it).
func (a *App) beforeSave(ctx context.Context, class, id string, fields map[string]any) (map[string]any, *Object, error) {
	before := a.Triggers.exists(ctx, TriggerBeforeSave, class)
	if !before && (id == "" || !a.Triggers.exists(ctx, TriggerAfterSave, class)) {
		return fields, nil, nil
	}
	if fields == nil {
		fields = map[string]any{}
	}
	var orig *Object
	if id != "" {
		var err error
		if orig, err = a.storedObject(ctx, class, id, AuthFrom(ctx).readPerms()); err != nil {
			return nil, nil, err
		}
	}
	if before {
		req := &TriggerRequest{Object: &Object{ClassName: class, ID: id, Fields: fields}, Original: orig}
		if err := a.Triggers.run(ctx, TriggerBeforeSave, class, req); err != nil {
			return nil, nil, err
		}
	}
	return fields, orig, nil
}

// afterSave runs class's afterSave trigger, if any, on an object saved.
func (a *App) afterSave(ctx context.Context, class string, saved, orig *Object) {
	if a.Triggers.exists(ctx, TriggerAfterSave, class) {
		a.Triggers.runAfter(ctx, TriggerAfterSave, class, &TriggerRequest{Object: saved, Original: orig})
	}
}

// beforeDelete runs class's beforeDelete trigger on the object id, as the
// caller may read it (101 when it can't), and returns the object when a
// delete trigger needs it.
func (a *App) beforeDelete(ctx context.Context, class, id string) (*Object, error) {
	before := a.Triggers.exists(ctx, TriggerBeforeDelete, class)
	if !before && !a.Triggers.exists(ctx, TriggerAfterDelete, class) {
		return nil, nil
	}
	o, err := a.storedObject(ctx, class, id, AuthFrom(ctx).readPerms())
	if err != nil {
		return nil, err
	}
	if before {
		if err := a.Triggers.run(ctx, TriggerBeforeDelete, class, &TriggerRequest{Object: o}); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// afterDelete runs class's afterDelete trigger, if any, on an object
// deleted (nil when no delete trigger was found before).
func (a *App) afterDelete(ctx context.Context, class string, o *Object) {
	if o != nil {
		a.Triggers.runAfter(ctx, TriggerAfterDelete, class, &TriggerRequest{Object: o})
	}
}

// storedObject reads one object as stored, if readPerms may read it (nil:
// anyone); 101 when it does not exist or they can't.
func (a *App) storedObject(ctx context.Context, class, id string, readPerms []string) (*Object, error) {
	row, err := a.storeFor(ctx).Get(ctx, class, id, readPerms)
	if err != nil {
		return nil, a.storeError(err)
	}
	return a.decodeStored(class, row)
}

// recovered runs cloud code, turning a panic into a 141 error, so that a
// bug in a trigger or a function fails its call, not the process, and an
// after trigger's panic can't break the answer.
func recovered(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Error{Code: ScriptFailed, Message: "cloud code failed", Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	return fn()
}
