package parse

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parsego/parse/storage"
)

// ReferenceSessionCacheTTL is the reference server's session cache TTL, for
// Config.SessionCacheTTL in deployments that accept its revocation window.
const ReferenceSessionCacheTTL = 5 * time.Second

// maxCachedSessions bounds the cache. Only live sessions get in, so its
// size follows the traffic of the last TTL, not what clients send.
const maxCachedSessions = 10000

// sessionCache remembers, for a few seconds, which user a session token
// resolved to, so that a burst of requests with one token costs one
// database round trip.
//
// This App's own revocations (logout, session deletion, password change,
// user update or deletion) evict their entries at once. A revocation made
// by another App instance sharing the database is seen here only when the
// entry expires: a revoked token can keep working on other instances for
// at most the TTL, as with the reference's cache. That is why the cache is
// off unless Config.SessionCacheTTL is positive.
type sessionCache struct {
	ttl time.Duration // 0: disabled

	mu      sync.Mutex
	byToken map[string]cachedSession
	byUser  map[string]map[string]struct{}
}

type cachedSession struct {
	id      sessionIdentity
	expires time.Time // the entry's end: now+TTL, or the session's end if sooner
}

func newSessionCache(ttl time.Duration) *sessionCache {
	if ttl < 0 {
		ttl = 0
	}
	return &sessionCache{ttl: ttl, byToken: map[string]cachedSession{}, byUser: map[string]map[string]struct{}{}}
}

// get returns what a token was cached as, with a copy of its user.
func (c *sessionCache) get(token string, now time.Time) (sessionIdentity, bool) {
	if c.ttl == 0 {
		return sessionIdentity{}, false
	}
	c.mu.Lock()
	e, ok := c.byToken[token]
	if ok && !now.Before(e.expires) {
		c.removeLocked(token, e.id.user.ID)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		return sessionIdentity{}, false
	}
	id := e.id
	id.user = cloneObject(id.user)
	return id, true
}

// put remembers what a token resolved to until now+TTL, or the session's
// expiry if that comes first.
func (c *sessionCache) put(token string, id sessionIdentity, sessionExpires, now time.Time) {
	if c.ttl == 0 {
		return
	}
	exp := now.Add(c.ttl)
	if !sessionExpires.IsZero() && sessionExpires.Before(exp) {
		exp = sessionExpires
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byToken) >= maxCachedSessions {
		for t, e := range c.byToken {
			if !now.Before(e.expires) {
				c.removeLocked(t, e.id.user.ID)
			}
		}
		if len(c.byToken) >= maxCachedSessions {
			clear(c.byToken)
			clear(c.byUser)
		}
	}
	id.user, id.roles = cloneObject(id.user), slices.Clip(id.roles)
	c.byToken[token] = cachedSession{id: id, expires: exp}
	tokens := c.byUser[id.user.ID]
	if tokens == nil {
		tokens = map[string]struct{}{}
		c.byUser[id.user.ID] = tokens
	}
	tokens[token] = struct{}{}
}

func (c *sessionCache) removeLocked(token, userID string) {
	delete(c.byToken, token)
	if tokens := c.byUser[userID]; tokens != nil {
		delete(tokens, token)
		if len(tokens) == 0 {
			delete(c.byUser, userID)
		}
	}
}

// evictToken forgets one token.
func (c *sessionCache) evictToken(token string) {
	if c.ttl == 0 || token == "" {
		return
	}
	c.mu.Lock()
	if e, ok := c.byToken[token]; ok {
		c.removeLocked(token, e.id.user.ID)
	}
	c.mu.Unlock()
}

// evictAll forgets every token.
func (c *sessionCache) evictAll() {
	if c.ttl == 0 {
		return
	}
	c.mu.Lock()
	clear(c.byToken)
	clear(c.byUser)
	c.mu.Unlock()
}

// evictUser forgets every token of a user.
func (c *sessionCache) evictUser(userID string) {
	if c.ttl == 0 {
		return
	}
	c.mu.Lock()
	for t := range c.byUser[userID] {
		delete(c.byToken, t)
	}
	delete(c.byUser, userID)
	c.mu.Unlock()
}

// cloneObject copies an object and its top-level fields, so that callers
// may change the copy's fields.
func cloneObject(o *Object) *Object {
	c := *o
	c.Fields = maps.Clone(o.Fields)
	c.ACL = maps.Clone(o.ACL)
	return &c
}

// The events that tell other App instances (storage.Notifier) what to drop
// from their session caches.
const (
	eventToken = "sessions:token:" // + a session token: that session ended
	eventUser  = "sessions:user:"  // + a user ID: the user or its sessions changed
	eventRoles = "sessions:roles"  // a role changed: anyone's roles may have
)

// forgetToken drops a session token from this instance's cache and from
// the others'.
func (a *App) forgetToken(ctx context.Context, token string) {
	a.sessionCache.evictToken(token)
	a.tellOthers(ctx, eventToken+token)
}

// forgetUser drops a user's sessions from this instance's cache and from
// the others'.
func (a *App) forgetUser(ctx context.Context, userID string) {
	a.sessionCache.evictUser(userID)
	a.tellOthers(ctx, eventUser+userID)
}

// rolesChanged drops every cached session, here and on the other
// instances: a role's members, children or name changed, and any user's
// roles may follow from it.
func (a *App) rolesChanged(ctx context.Context) {
	a.sessionCache.evictAll()
	a.tellOthers(ctx, eventRoles)
}

// tellOthers sends a cache event to the other instances, when this one
// caches sessions (instances of one deployment share their configuration)
// and the store can carry events. A lost event is logged: the other
// instances' entries still end with their TTL.
func (a *App) tellOthers(ctx context.Context, event string) {
	n, ok := a.store.(storage.Notifier)
	if !ok || a.sessionCache.ttl == 0 {
		return
	}
	if err := n.Notify(context.WithoutCancel(ctx), event); err != nil {
		a.log.Warn("session cache event not sent", "err", err)
	}
}

// cacheEvent applies an event another instance (or this one) sent.
func (a *App) cacheEvent(event string) {
	switch {
	case strings.HasPrefix(event, eventToken):
		a.sessionCache.evictToken(strings.TrimPrefix(event, eventToken))
	case strings.HasPrefix(event, eventUser):
		a.sessionCache.evictUser(strings.TrimPrefix(event, eventUser))
	case event == eventRoles:
		a.sessionCache.evictAll()
	case event == eventHooks:
		a.Hooks.invalidate()
	case event == "":
		a.sessionCache.evictAll()
		a.Hooks.invalidate()
	}
}
