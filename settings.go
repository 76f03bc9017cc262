package parse

import (
	"context"
	"encoding/json"

	"github.com/parsego/parse/storage"
)

// AppSettings are the app's settings the Apps API shows and changes. Their
// defaults come from the Config; changes are stored in the database (in
// the _GlobalConfig object, beside the config parameters) and win over the
// Config from then on, on every instance: the settings are read where they
// take effect, which is never on a request's hot path.
type AppSettings struct {
	// AppName is the app's name as the Apps API shows it (default
	// Config.AppName). Mails and the pages of their links keep using
	// Config.AppName.
	AppName string `json:"appName"`
	// ClientClassCreationEnabled lets requests without the master key
	// create classes (default Config.AllowClientClassCreation).
	ClientClassCreationEnabled bool `json:"clientClassCreationEnabled"`
	// ClientPushEnabled lets clients send pushes (default false). It is
	// stored for the push service; parsego sends no pushes yet.
	ClientPushEnabled bool `json:"clientPushEnabled"`
	// RequireRevocableSessions is always honoured: every session parsego
	// makes is revocable (default true).
	RequireRevocableSessions bool `json:"requireRevocableSessions"`
	// RevokeSessionOnPasswordChange ends every session of a user whose
	// password changes (default true).
	RevokeSessionOnPasswordChange bool `json:"revokeSessionOnPasswordChange"`
}

// SettingsUpdate changes the settings that are set (not nil).
type SettingsUpdate struct {
	AppName                       *string
	ClientClassCreationEnabled    *bool
	ClientPushEnabled             *bool
	RequireRevocableSessions      *bool
	RevokeSessionOnPasswordChange *bool
}

// Settings returns the app's settings.
func (a *App) Settings(ctx context.Context) (AppSettings, error) {
	s := AppSettings{
		AppName:                       a.cfg.AppName,
		ClientClassCreationEnabled:    a.cfg.AllowClientClassCreation,
		RequireRevocableSessions:      true,
		RevokeSessionOnPasswordChange: true,
	}
	data, err := a.globalConfig(ctx)
	if err != nil || data == nil {
		return s, err
	}
	var doc struct {
		Settings *AppSettings `json:"settings"`
	}
	// Decoding into s keeps the defaults of settings never stored.
	doc.Settings = &s
	if err := json.Unmarshal(data, &doc); err != nil {
		return AppSettings{}, a.storeError(err)
	}
	return s, nil
}

// UpdateSettings stores the settings u sets and returns them all. It needs
// the master key (Go calls have it unless the context says otherwise).
func (a *App) UpdateSettings(ctx context.Context, u SettingsUpdate) (AppSettings, error) {
	auth := AuthFrom(ctx)
	if !auth.Master || auth.ReadOnly {
		return AppSettings{}, ErrMasterKeyRequired
	}
	var ops []storage.Op
	set := func(name string, v any) {
		ops = append(ops, storage.Op{Field: "settings." + name, Kind: storage.OpSet, Value: appendStored(nil, v)})
	}
	if u.AppName != nil {
		set("appName", *u.AppName)
	}
	for name, v := range map[string]*bool{
		"clientClassCreationEnabled":    u.ClientClassCreationEnabled,
		"clientPushEnabled":             u.ClientPushEnabled,
		"requireRevocableSessions":      u.RequireRevocableSessions,
		"revokeSessionOnPasswordChange": u.RevokeSessionOnPasswordChange,
	} {
		if v != nil {
			set(name, *v)
		}
	}
	if len(ops) > 0 {
		if err := a.updateGlobalConfig(ctx, ops); err != nil {
			return AppSettings{}, err
		}
	}
	return a.Settings(ctx)
}
