package parse

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
	_ "time/tzdata" // timeZone names are checked the same on every host

	"github.com/parsego/parse/storage"
)

// Installations registers the devices pushes go to: the _Installation
// objects. A device is known by its installationId (lowercased) or its
// deviceToken, and saving one that is known updates it rather than adding
// another, as the reference's handleInstallation does. Objects.Create and
// Objects.Update on _Installation go through it.
type Installations struct{ app *App }

// Save creates an installation, or updates the one with the same
// installationId (or deviceToken) when there is one; created tells which.
// The caller's X-Parse-Installation-Id (Auth.InstallationID) identifies
// the device when fields name none. Save lowercases the installationId in
// fields (and a 64-character deviceToken), so that the caller's copy
// matches what was stored.
func (s *Installations) Save(ctx context.Context, fields map[string]any) (o *Object, created bool, err error) {
	o, created, err = s.app.saveInstallation(ctx, "", fields)
	if ErrorCode(err) == DuplicateValue {
		// installationId is unique: another request registered the device
		// since the look-up, and the second look-up finds it.
		o, created, err = s.app.saveInstallation(ctx, "", fields)
	}
	return o, created, err
}

// Update changes the installation with the given objectId. deviceType and
// installationId can't change (136); a new deviceToken displaces the
// installations that held it.
func (s *Installations) Update(ctx context.Context, id string, fields map[string]any) (*Object, error) {
	o, _, err := s.app.saveInstallation(ctx, id, fields)
	return o, err
}

// storedInstallation is what the de-duplication reads of an installation.
type storedInstallation struct {
	id             string
	InstallationID string `json:"installationId"`
	DeviceToken    string `json:"deviceToken"`
	DeviceType     string `json:"deviceType"`
}

// saveInstallation ports the reference's handleInstallation (with its
// default options: conflicting rows are deleted, the deviceToken's row wins
// a merge). id is "" for a create. Unlike the reference, installationId is
// a unique field, so that concurrent first saves of a device can't both
// create it.
func (a *App) saveInstallation(ctx context.Context, id string, fields map[string]any) (*Object, bool, error) {
	auth := AuthFrom(ctx)
	action := "update"
	if id == "" {
		action = "create"
	}
	if err := a.checkWritable(auth, ClassInstallation, action); err != nil {
		return nil, false, err
	}
	if err := checkInstallationFields(fields); err != nil {
		return nil, false, err
	}
	token, _ := fields["deviceToken"].(string)
	dataIID, _ := fields["installationId"].(string)
	if id == "" && token == "" && dataIID == "" && auth.InstallationID == "" {
		return nil, false, NewError(MissingRequiredField, "at least one ID field (deviceToken, installationId) must be specified in this operation")
	}
	if len(token) == 64 {
		token = strings.ToLower(token)
		fields["deviceToken"] = token
	}
	if dataIID != "" {
		dataIID = strings.ToLower(dataIID)
		fields["installationId"] = dataIID
	}
	iid := dataIID
	if iid == "" && !auth.Master {
		iid = strings.ToLower(auth.InstallationID)
	}
	deviceType, _ := fields["deviceType"].(string)

	target := id
	if id == "" || token != "" || iid != "" || deviceType != "" {
		var err error
		if target, err = a.dedupeInstallation(ctx, id, iid, dataIID, token, deviceType, fields); err != nil {
			return nil, false, err
		}
	}
	if target == "" {
		if _, err := a.classAccess(ctx, auth, ClassInstallation, "create"); err != nil {
			return nil, false, err
		}
		objs, errs := a.createMany(ctx, ClassInstallation, []map[string]any{fields})
		return objs[0], true, errs[0]
	}
	delete(fields, "createdAt")
	if id == "" {
		delete(fields, "objectId")
	}
	where, err := a.classAccess(ctx, auth, ClassInstallation, "update")
	if err != nil {
		return nil, false, err
	}
	o, err := a.updateObject(ctx, ClassInstallation, target, fields, writeOpts{where: where})
	return o, false, err
}

// dedupeInstallation finds the installation a write is about and removes
// the ones it displaces. It returns the objectId to update, or "" to
// create a new installation.
func (a *App) dedupeInstallation(ctx context.Context, id, iid, dataIID, token, deviceType string, fields map[string]any) (string, error) {
	var or storage.Or
	if id != "" {
		or = append(or, storage.Cmp{Field: "objectId", Op: storage.Eq, Value: id})
	}
	if iid != "" {
		or = append(or, storage.Cmp{Field: "installationId", Op: storage.Eq, Value: iid})
	}
	if token != "" {
		or = append(or, storage.Cmp{Field: "deviceToken", Op: storage.Eq, Value: token})
	}
	store := a.storeFor(ctx)
	rows, err := store.Find(ctx, ClassInstallation, storage.Query{Where: or})
	if err != nil {
		return "", a.storeError(err)
	}
	var idMatch, objectIDMatch, iidMatch *storedInstallation
	var tokenMatches []*storedInstallation
	for _, r := range rows {
		inst := &storedInstallation{id: r.ID}
		if err := json.Unmarshal(r.Data, inst); err != nil {
			return "", a.storeError(err)
		}
		if id != "" && r.ID == id {
			objectIDMatch = inst
		}
		if iid != "" && inst.InstallationID == iid {
			iidMatch = inst
		}
		if token != "" && inst.DeviceToken == token {
			tokenMatches = append(tokenMatches, inst)
		}
	}
	if id != "" {
		switch {
		case objectIDMatch == nil:
			return "", NewError(ObjectNotFound, "Object not found for update.")
		case dataIID != "" && objectIDMatch.InstallationID != "" && dataIID != objectIDMatch.InstallationID:
			return "", NewError(ChangedImmutableField, "installationId may not be changed in this operation")
		case token != "" && objectIDMatch.DeviceToken != "" && token != objectIDMatch.DeviceToken && dataIID == "" && objectIDMatch.InstallationID == "":
			return "", NewError(ChangedImmutableField, "deviceToken may not be changed in this operation")
		case deviceType != "" && deviceType != objectIDMatch.DeviceType:
			return "", NewError(ChangedImmutableField, "deviceType may not be changed in this operation")
		}
		idMatch = objectIDMatch
	}
	if iidMatch != nil {
		idMatch = iidMatch
	}
	if id == "" && deviceType == "" && idMatch == nil {
		return "", NewError(MissingRequiredField, "deviceType must be specified in this operation")
	}
	// removeOthers deletes the other installations holding the token.
	removeOthers := func(except storage.Cond) error {
		cond := storage.And{storage.Cmp{Field: "deviceToken", Op: storage.Eq, Value: token}, except}
		if app, ok := fields["appIdentifier"].(string); ok {
			cond = append(cond, storage.Cmp{Field: "appIdentifier", Op: storage.Eq, Value: app})
		}
		_, err := store.DeleteMany(ctx, ClassInstallation, cond)
		return a.storeError(err)
	}
	if idMatch == nil {
		switch {
		case len(tokenMatches) == 0:
			return id, nil
		case len(tokenMatches) == 1 && (tokenMatches[0].InstallationID == "" || iid == ""):
			return tokenMatches[0].id, nil
		case dataIID == "":
			return "", NewError(InvalidInstallationID, "Must specify installationId when deviceToken matches multiple Installation objects")
		}
		// The token moves to this new installation.
		return id, removeOthers(storage.Cmp{Field: "installationId", Op: storage.Ne, Value: iid})
	}
	if len(tokenMatches) == 1 && tokenMatches[0].InstallationID == "" {
		// The same device twice: the row holding the token survives.
		if tokenMatches[0].id == idMatch.id {
			return idMatch.id, nil
		}
		if err := store.Delete(ctx, ClassInstallation, idMatch.id, nil, nil); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return "", a.storeError(err)
		}
		return tokenMatches[0].id, nil
	}
	if token != "" && idMatch.DeviceToken != token {
		switch {
		case dataIID != "":
			return idMatch.id, removeOthers(storage.Cmp{Field: "installationId", Op: storage.Ne, Value: dataIID})
		case fields["objectId"] == idMatch.id:
			return idMatch.id, removeOthers(storage.Cmp{Field: "objectId", Op: storage.Ne, Value: idMatch.id})
		}
	}
	return idMatch.id, nil
}

// checkInstallationFields checks the special fields whose values the
// schema's types don't cover: channel names and the time zone.
func checkInstallationFields(fields map[string]any) error {
	if ch, ok := fields["channels"]; ok {
		var names []any
		switch v := ch.(type) {
		case []any:
			names = v
		case *Op:
			names = v.Objects
		}
		for _, n := range names {
			if s, ok := n.(string); !ok || !validChannel(s) {
				return NewError(InvalidChannelName, "Invalid channel name: %s. A channel name is either an empty string (the broadcast channel) or contains only a-zA-Z0-9_ characters and starts with a letter.", jsonText(n))
			}
		}
	}
	if tz, ok := fields["timeZone"].(string); ok {
		if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
			return NewError(IncorrectType, "timeZone must be an IANA time zone name, not %s", jsonText(tz))
		}
	}
	return nil
}

// validChannel reports whether s is "" (the broadcast channel) or a letter
// followed by letters, digits and underscores.
func validChannel(s string) bool { return s == "" || isName(s) }

// jsonText shows a value in an error message.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
