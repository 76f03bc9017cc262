package parse

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parsego/parse/storage"
)

// Hook is a webhook registered through the Hooks API: a cloud function
// (FunctionName) or a trigger (ClassName and TriggerName) served by an
// HTTP endpoint at URL. Hooks are stored in the _Hooks class, so every
// instance sharing the database calls the same ones, and they take
// precedence over functions and triggers defined in Go.
type Hook struct {
	FunctionName string
	ClassName    string
	TriggerName  string
	URL          string
	// Warning, in what Create and Update return, tells that a function or
	// trigger of the same name is defined in Go: the webhook takes
	// precedence over it.
	Warning string
}

func (h Hook) isFunction() bool { return h.FunctionName != "" }

// Hooks manages an App's webhooks (the Hooks API). Every method needs the
// master key; changes are refused to the read-only one (119).
type Hooks struct {
	app     *App
	client  *http.Client
	timeout time.Duration

	// set is this App's copy of the hooks (nil: to be loaded), read
	// without a lock by every call and write; mu serializes its reloads.
	set atomic.Pointer[hookSet]
	mu  sync.Mutex
	// gen counts invalidations, so that a load that raced with one is not
	// kept.
	gen atomic.Uint64
}

// hookSet is the webhooks' URLs, by function name and by trigger.
type hookSet struct {
	loadedAt time.Time
	fns      map[string]string
	triggers map[triggerKey]string
}

// hooksTTL bounds how long an App that does not hear other instances'
// changes (no storage.Notifier, or before Start) trusts its copy of the
// hooks.
const hooksTTL = 5 * time.Second

// eventHooks tells other instances that the hooks changed.
const eventHooks = "hooks"

func errWebhook(format string, args ...any) error { return NewError(WebhookError, format, args...) }

func errInvalidHook() error { return errWebhook("invalid hook declaration") }

// check admits the master key; a change (action) not the read-only one.
func (s *Hooks) check(ctx context.Context, action string) error {
	auth := AuthFrom(ctx)
	if !auth.Master {
		return ErrMasterKeyRequired
	}
	if action != "" && auth.ReadOnly {
		return NewError(OperationForbidden, "read-only masterKey isn't allowed to perform the %s operation.", action)
	}
	return nil
}

// Functions lists the function webhooks.
func (s *Hooks) Functions(ctx context.Context) ([]Hook, error) { return s.list(ctx, true) }

// Triggers lists the trigger webhooks.
func (s *Hooks) Triggers(ctx context.Context) ([]Hook, error) { return s.list(ctx, false) }

func (s *Hooks) list(ctx context.Context, functions bool) ([]Hook, error) {
	if err := s.check(ctx, ""); err != nil {
		return nil, err
	}
	objs, err := s.query(functions).Find(WithAuth(ctx, masterAuth))
	if err != nil {
		return nil, err
	}
	out := make([]Hook, 0, len(objs))
	for _, o := range objs {
		out = append(out, hookOf(o))
	}
	return out, nil
}

func (s *Hooks) query(functions bool) *Query {
	q := s.app.Query(ClassHooks).Limit(10000).Order("createdAt")
	if functions {
		return q.Exists("functionName")
	}
	return q.Exists("triggerName")
}

func hookOf(o *Object) Hook {
	str := func(k string) string { s, _ := o.Fields[k].(string); return s }
	return Hook{FunctionName: str("functionName"), ClassName: str("className"), TriggerName: str("triggerName"), URL: str("url")}
}

// Get returns the hook named by key's FunctionName, or by its ClassName
// and TriggerName; 143 when there is none.
func (s *Hooks) Get(ctx context.Context, key Hook) (Hook, error) {
	if err := s.check(ctx, ""); err != nil {
		return Hook{}, err
	}
	o, err := s.find(ctx, key)
	if err != nil {
		return Hook{}, err
	}
	if o == nil {
		return Hook{}, errHookMissing(key)
	}
	return hookOf(o), nil
}

func errHookMissing(key Hook) error {
	if key.isFunction() {
		return errWebhook("no function named: %s is defined", key.FunctionName)
	}
	return errWebhook("class %s does not exist", key.ClassName)
}

// find returns the stored hook key names, nil when there is none.
func (s *Hooks) find(ctx context.Context, key Hook) (*Object, error) {
	q := s.app.Query(ClassHooks).Limit(1)
	if key.isFunction() {
		q.EqualTo("functionName", key.FunctionName)
	} else {
		q.EqualTo("className", key.ClassName).EqualTo("triggerName", key.TriggerName)
	}
	objs, err := q.Find(WithAuth(ctx, masterAuth))
	if err != nil || len(objs) == 0 {
		return nil, err
	}
	return objs[0], nil
}

// validate checks a hook declaration: a function name or a class and
// trigger this App can call a webhook for, and a URL.
func (s *Hooks) validate(h Hook) error {
	if h.URL == "" {
		return errInvalidHook()
	}
	if h.isFunction() {
		if h.ClassName != "" || h.TriggerName != "" {
			return errInvalidHook()
		}
		return nil
	}
	switch TriggerType(h.TriggerName) {
	case TriggerBeforeSave, TriggerAfterSave, TriggerBeforeDelete, TriggerAfterDelete,
		TriggerBeforeLogin, TriggerAfterLogin, TriggerAfterLogout:
	default:
		return errInvalidHook()
	}
	if c, err := triggerClass(TriggerType(h.TriggerName), h.ClassName); err != nil || c != h.ClassName {
		return errInvalidHook()
	}
	return nil
}

// Create registers a new hook; 143 when one of that name exists.
func (s *Hooks) Create(ctx context.Context, h Hook) (Hook, error) {
	if err := s.check(ctx, "create"); err != nil {
		return Hook{}, err
	}
	if err := s.validate(h); err != nil {
		return Hook{}, err
	}
	old, err := s.find(ctx, h)
	if err != nil {
		return Hook{}, err
	}
	if old != nil {
		if h.isFunction() {
			return Hook{}, errWebhook("function name: %s already exists", h.FunctionName)
		}
		return Hook{}, errWebhook("class %s already has trigger %s", h.ClassName, h.TriggerName)
	}
	fields := map[string]any{"url": h.URL, "ACL": map[string]any{}}
	if h.isFunction() {
		fields["functionName"] = h.FunctionName
	} else {
		fields["className"], fields["triggerName"] = h.ClassName, h.TriggerName
	}
	if _, err := s.app.Objects.Create(WithAuth(ctx, masterAuth), ClassHooks, fields); err != nil {
		return Hook{}, err
	}
	s.changed(ctx)
	h.Warning = s.warning(h)
	return h, nil
}

// warning names the Go definition a hook shadows, as the REST guide words
// it; "" when there is none.
func (s *Hooks) warning(h Hook) string {
	a := s.app
	if h.isFunction() {
		a.Functions.mu.RLock()
		_, ok := a.Functions.fns[h.FunctionName]
		a.Functions.mu.RUnlock()
		if ok {
			return "a cloudcode function with name: " + h.FunctionName + " already exists"
		}
		return ""
	}
	a.Triggers.mu.RLock()
	_, ok := a.Triggers.fns[triggerKey{TriggerType(h.TriggerName), h.ClassName}]
	a.Triggers.mu.RUnlock()
	if ok {
		return h.TriggerName + " trigger already defined for class " + h.ClassName + " in cloud code"
	}
	return ""
}

// Update points an existing hook at h.URL; 143 when there is none.
func (s *Hooks) Update(ctx context.Context, h Hook) (Hook, error) {
	if err := s.check(ctx, "update"); err != nil {
		return Hook{}, err
	}
	old, err := s.find(ctx, h)
	if err != nil {
		return Hook{}, err
	}
	if old == nil {
		return Hook{}, errHookMissing(h)
	}
	if err := s.validate(h); err != nil {
		return Hook{}, err
	}
	if _, err := s.app.Objects.Update(WithAuth(ctx, masterAuth), ClassHooks, old.ID, map[string]any{"url": h.URL}); err != nil {
		return Hook{}, err
	}
	s.changed(ctx)
	h.Warning = s.warning(h)
	return h, nil
}

// Delete removes a hook; deleting one that does not exist is no error, as
// the reference answers.
func (s *Hooks) Delete(ctx context.Context, key Hook) error {
	if err := s.check(ctx, "delete"); err != nil {
		return err
	}
	old, err := s.find(ctx, key)
	if err != nil || old == nil {
		return err
	}
	if err := s.app.Objects.Delete(WithAuth(ctx, masterAuth), ClassHooks, old.ID); err != nil {
		return err
	}
	s.changed(ctx)
	return nil
}

// changed drops this App's copy of the hooks and tells the other
// instances to drop theirs.
func (s *Hooks) changed(ctx context.Context) {
	s.invalidate()
	if n, ok := s.app.store.(storage.Notifier); ok {
		if err := n.Notify(context.WithoutCancel(ctx), eventHooks); err != nil {
			s.app.log.Warn("hooks change event not sent", "err", err)
		}
	}
}

func (s *Hooks) invalidate() {
	s.gen.Add(1)
	s.set.Store(nil)
}

// fresh reports whether a copy of the hooks can be used.
func (s *Hooks) fresh(set *hookSet) bool {
	return set != nil && (s.app.listening.Load() || time.Since(set.loadedAt) < hooksTTL)
}

// current returns the hooks, loading them when this App's copy may be out
// of date. A failed load is logged and leaves the Go definitions in charge
// (or the last copy loaded).
func (s *Hooks) current(ctx context.Context) *hookSet {
	if set := s.set.Load(); s.fresh(set) {
		return set
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.set.Load()
	if s.fresh(old) {
		return old // loaded while this call waited
	}
	if old == nil {
		old = &hookSet{}
	}
	gen := s.gen.Load()
	// From the store itself: a query would run find triggers, which ask
	// for the hooks. Outside any transaction ctx carries: a failed read
	// must not abort the caller's.
	objs, err := s.app.storedObjects(context.WithValue(ctx, txKey{}, nil), ClassHooks, storage.Query{Limit: 100000})
	if err != nil {
		s.app.log.Error("loading the hooks failed", "err", err)
		return old
	}
	set := &hookSet{loadedAt: time.Now(), fns: map[string]string{}, triggers: map[triggerKey]string{}}
	for _, o := range objs {
		h := hookOf(o)
		if h.isFunction() {
			set.fns[h.FunctionName] = h.URL
		} else {
			set.triggers[triggerKey{TriggerType(h.TriggerName), h.ClassName}] = h.URL
		}
	}
	if s.gen.Load() == gen {
		s.set.Store(set)
	}
	return set
}

// functionURL returns the webhook serving the function name, or "".
func (s *Hooks) functionURL(ctx context.Context, name string) string {
	return s.current(ctx).fns[name]
}

// triggerURL returns the webhook serving the typ trigger of class, or "".
func (s *Hooks) triggerURL(ctx context.Context, typ TriggerType, class string) string {
	return s.current(ctx).triggers[triggerKey{typ, class}]
}

// storedObjects reads objects of class straight from the store, without
// the class rules and triggers of a query.
func (a *App) storedObjects(ctx context.Context, class string, q storage.Query) ([]*Object, error) {
	cl, err := a.schema.get(ctx, class)
	if err != nil {
		return nil, a.storeError(err)
	}
	rows, err := a.storeFor(ctx).Find(ctx, class, q)
	if err != nil {
		return nil, a.storeError(err)
	}
	out := make([]*Object, len(rows))
	for i, r := range rows {
		if out[i], err = a.decodeStoredWith(cl, class, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}
