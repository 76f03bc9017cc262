package parse

import (
	"context"
	"slices"
	"strings"

	"github.com/parsego/parse/storage"
)

// AuthProvider validates the authData of one third-party login provider
// ({"authData": {"<provider>": {"id": ..., ...}}} in sign-ups and links).
// Register providers in Config.AuthProviders under their names.
type AuthProvider interface {
	// ValidateAuthData checks a provider's authData (its id and whatever
	// tokens prove it); an error refuses the sign-up, login or link. An
	// *Error keeps its code; any other error is answered as 101.
	ValidateAuthData(ctx context.Context, authData map[string]any) error
}

// anonymousProvider is the built-in "anonymous" provider: any id is
// accepted, as the reference's.
type anonymousProvider struct{}

func (anonymousProvider) ValidateAuthData(context.Context, map[string]any) error { return nil }

// authProvider returns the provider registered under name.
func (a *App) authProvider(name string) AuthProvider {
	if p, ok := a.cfg.AuthProviders[name]; ok {
		return p
	}
	if name == "anonymous" && !a.cfg.DisableAnonymousUsers {
		return anonymousProvider{}
	}
	return nil
}

func errUnsupportedAuth() error {
	return NewError(UnsupportedService, "This authentication method is unsupported.")
}

// signUpAuthData reads and validates the authData of a sign-up. It returns
// the providers' data (nil values, unlinks, left out) and whether any
// provider has data.
func (a *App) signUpAuthData(ctx context.Context, in map[string]any) (map[string]map[string]any, bool, error) {
	v, present := in["authData"]
	if !present {
		return nil, false, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false, errUnsupportedAuth()
	}
	data, err := a.validateAuthData(ctx, m)
	if err != nil {
		return nil, false, err
	}
	if len(data) == 0 {
		if len(m) > 0 {
			_, hasName := in["username"].(string)
			_, hasPassword := in["password"].(string)
			if !(hasName && hasPassword) && !AuthFrom(ctx).Master {
				return nil, false, errUnsupportedAuth()
			}
		}
		delete(in, "authData")
		return nil, false, nil
	}
	return data, true, nil
}

// validateAuthData checks each provider's data with its AuthProvider and
// returns the non-null ones.
func (a *App) validateAuthData(ctx context.Context, m map[string]any) (map[string]map[string]any, error) {
	data := map[string]map[string]any{}
	for _, name := range sortedKeys(m) {
		if m[name] == nil {
			continue
		}
		pd, ok := m[name].(map[string]any)
		if !ok {
			return nil, errUnsupportedAuth()
		}
		if len(pd) == 0 {
			continue
		}
		p := a.authProvider(name)
		if p == nil {
			return nil, errUnsupportedAuth()
		}
		if err := p.ValidateAuthData(ctx, pd); err != nil {
			if _, isParse := err.(*Error); isParse {
				return nil, err
			}
			return nil, &Error{Code: ObjectNotFound, Message: "Invalid auth data", Err: err}
		}
		data[name] = pd
	}
	return data, nil
}

// authProviderNames names a session's provider: the providers joined by
// commas, as the reference's createdWith.authProvider.
func authProviderNames(data map[string]map[string]any) string {
	return strings.Join(sortedKeys(data), ",")
}

// usersWithAuthData finds the users already linked to one of the
// providers' ids (except exceptID).
func (a *App) usersWithAuthData(ctx context.Context, data map[string]map[string]any, exceptID string) ([]storage.Object, error) {
	var or storage.Or
	for _, name := range sortedKeys(data) {
		if id, ok := data[name]["id"]; ok && id != nil {
			or = append(or, storage.Cmp{Field: "authData." + name + ".id", Op: storage.Eq, Value: id})
		}
	}
	if len(or) == 0 || slices.ContainsFunc(sortedKeys(data), func(n string) bool { return !isName(n) }) {
		return nil, nil
	}
	where := storage.Cond(or)
	if exceptID != "" {
		where = storage.And{or, storage.Cmp{Field: "objectId", Op: storage.Ne, Value: exceptID}}
	}
	rows, err := a.storeFor(ctx).Find(ctx, ClassUser, storage.Query{Where: where, Limit: 2})
	if err != nil {
		return nil, a.storeError(err)
	}
	return rows, nil
}

// logInWithAuthData logs in the user already linked to the authData, if
// there is one (nil otherwise): the user as it sees itself, with a new
// session and the authDataResponse the reference adds.
func (a *App) logInWithAuthData(ctx context.Context, data map[string]map[string]any) (*Object, error) {
	rows, err := a.usersWithAuthData(ctx, data, "")
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	if len(rows) > 1 {
		return nil, NewError(AccountAlreadyLinked, "this auth is already used")
	}
	user, err := a.decodeStored(ClassUser, rows[0])
	if err != nil {
		return nil, err
	}
	// Keep the provider data the login brought (new tokens).
	var ops map[string]any
	stored, _ := user.Fields["authData"].(map[string]any)
	for name, pd := range data {
		if !sameJSON(stored[name], pd) {
			if ops == nil {
				ops = map[string]any{}
			}
			ops["authData."+name] = pd
		}
	}
	if ops != nil {
		if user, err = a.updateObject(ctx, ClassUser, user.ID, ops, writeOpts{anyWriter: true}); err != nil {
			return nil, err
		}
	}
	if err := a.attachSession(ctx, user, createdWith{action: "login", provider: authProviderNames(data)}); err != nil {
		return nil, err
	}
	cleanAuthData(user)
	user = visibleToSelf(user, AuthFrom(ctx))
	user.Fields["authDataResponse"] = map[string]any{}
	return user, nil
}

// updateAuthData turns the authData of a user update into per-provider
// writes: a provider's data links it (once validated, and unless another
// user has its id: 208), null unlinks it. The update answer then carries
// the reference's authDataResponse.
func (a *App) updateAuthData(ctx context.Context, userID string, in map[string]any) error {
	v, present := in["authData"]
	if !present {
		return nil
	}
	delete(in, "authData")
	m, ok := v.(map[string]any)
	if !ok {
		return errUnsupportedAuth()
	}
	data, err := a.validateAuthData(ctx, m)
	if err != nil {
		return err
	}
	if len(data) > 0 {
		taken, err := a.usersWithAuthData(ctx, data, userID)
		if err != nil {
			return err
		}
		if len(taken) > 0 {
			return NewError(AccountAlreadyLinked, "this auth is already used")
		}
	}
	for name, pd := range m {
		if !isName(name) {
			return errUnsupportedAuth()
		}
		if d, ok := data[name]; ok {
			in["authData."+name] = d
		} else if pd == nil {
			in["authData."+name] = nil
		}
	}
	return nil
}

// cleanAuthData removes unlinked (null) providers from a user's authData,
// and authData itself when none is left, as the reference's responses do.
func cleanAuthData(o *Object) {
	ad, ok := o.Fields["authData"].(map[string]any)
	if !ok {
		return
	}
	for k, v := range ad {
		if v == nil {
			delete(ad, k)
		}
	}
	if len(ad) == 0 {
		delete(o.Fields, "authData")
	}
}

// sameJSON compares two decoded values by their encoding.
func sameJSON(a, b any) bool {
	return string(appendStored(nil, a)) == string(appendStored(nil, b))
}
