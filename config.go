package parse

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/parsego/parse/storage"
)

// Params is the app's remote configuration (Parse Config): named
// parameters clients read with GET /config and the master key sets with
// PUT /config. Parameters flagged master-key-only are hidden from every
// other caller.
//
// They live where the reference keeps them, in the single _GlobalConfig
// object "1" ({"params": {...}, "masterKeyOnly": {...}}), and every read
// goes to the store: there is no cache for instances to disagree on.
type Params struct{ app *App }

// ConfigParams is the remote configuration as one caller may see it.
type ConfigParams struct {
	// Params holds the parameters' values, decoded as field values are
	// (time.Time for a Date, Pointer, GeoPoint, ...).
	Params map[string]any
	// MasterKeyOnly flags each parameter set since the configuration
	// existed: true for those only the master key sees. Nil when no
	// configuration was ever stored.
	MasterKeyOnly map[string]bool
}

// globalConfigID is the objectId of the one _GlobalConfig object.
const globalConfigID = "1"

// Get returns the configuration; without the master key, master-key-only
// parameters and their flags are left out.
func (p *Params) Get(ctx context.Context) (*ConfigParams, error) {
	a := p.app
	out := &ConfigParams{Params: map[string]any{}}
	data, err := a.globalConfig(ctx)
	if err != nil {
		return nil, err
	}
	if data == nil {
		return out, nil
	}
	var doc struct {
		Params        map[string]any  `json:"params"`
		MasterKeyOnly map[string]bool `json:"masterKeyOnly"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, a.storeError(err)
	}
	for k, v := range doc.Params {
		d, err := decodeStoredValue(v)
		if err != nil {
			return nil, a.storeError(err)
		}
		out.Params[k] = d
	}
	a.fillFileURLs(out.Params)
	out.MasterKeyOnly = doc.MasterKeyOnly
	if out.MasterKeyOnly == nil {
		out.MasterKeyOnly = map[string]bool{}
	}
	if !AuthFrom(ctx).Master {
		for k := range out.Params {
			if out.MasterKeyOnly[k] {
				delete(out.Params, k)
				delete(out.MasterKeyOnly, k)
			}
		}
	}
	return out, nil
}

// Update sets parameters, keeping the others. A value may be an update
// operator (Increment, Add, Delete...), applied atomically by the store;
// Delete removes the parameter and its flag. Each parameter set is
// master-key-only when masterKeyOnly says so, and visible to everyone
// otherwise (as the reference does, a save without the flag makes a
// parameter public again). Needs the master key, and not the read-only
// one (119).
func (p *Params) Update(ctx context.Context, params map[string]any, masterKeyOnly map[string]bool) error {
	a := p.app
	auth := AuthFrom(ctx)
	if !auth.Master {
		return ErrMasterKeyRequired
	}
	if auth.ReadOnly {
		return NewError(OperationForbidden, "read-only masterKey isn't allowed to update the config.")
	}
	ops := make([]storage.Op, 0, 2*len(params))
	for _, k := range sortedKeys(params) {
		if k == "" || strings.ContainsAny(k, ".$") {
			return NewError(InvalidKeyName, "Invalid parameter name: %s", k)
		}
		v, err := normalize(params[k])
		if err != nil {
			return err
		}
		if err := checkNestedKeys(v); err != nil {
			return err
		}
		op, err := fieldOp("params."+k, v)
		if err != nil {
			return err
		}
		flag := storage.Op{Field: "masterKeyOnly." + k, Kind: storage.OpSet, Value: json.RawMessage("false")}
		switch {
		case op.Kind == storage.OpDelete:
			flag = storage.Op{Field: flag.Field, Kind: storage.OpDelete}
		case masterKeyOnly[k]:
			flag.Value = json.RawMessage("true")
		}
		ops = append(ops, op, flag)
	}
	if len(ops) == 0 {
		return nil
	}
	return a.updateGlobalConfig(ctx, ops)
}

// updateGlobalConfig applies ops to the _GlobalConfig object, making it
// first when it doesn't exist.
func (a *App) updateGlobalConfig(ctx context.Context, ops []storage.Op) error {
	u := storage.Update{Ops: ops, UpdatedAt: time.Now().UTC()}
	st := a.storeFor(ctx)
	_, err := st.Update(ctx, ClassGlobalConfig, globalConfigID, u)
	if errors.Is(err, storage.ErrNotFound) {
		// The first save: make the object (master-only, like the
		// reference's), then apply the operators to it.
		if _, err := a.ensureClass(ctx, ClassGlobalConfig); err != nil {
			return err
		}
		empty := storage.Object{ID: globalConfigID, CreatedAt: u.UpdatedAt, UpdatedAt: u.UpdatedAt,
			ReadPerm: []string{}, WritePerm: []string{}, Data: json.RawMessage(`{"params":{},"masterKeyOnly":{}}`)}
		if err := st.Insert(ctx, ClassGlobalConfig, empty); err != nil && !errors.Is(err, storage.ErrDuplicateValue) {
			return a.storeError(err)
		}
		_, err = st.Update(ctx, ClassGlobalConfig, globalConfigID, u)
	}
	return a.storeError(err)
}

// globalConfig returns the stored _GlobalConfig document, nil when there
// is none. It asks the store even when this instance's schema cache
// doesn't know the class yet: another instance may have just made it.
func (a *App) globalConfig(ctx context.Context) (json.RawMessage, error) {
	so, err := a.storeFor(ctx).Get(ctx, ClassGlobalConfig, globalConfigID, nil)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, a.storeError(err)
	}
	return so.Data, nil
}
