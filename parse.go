// Package parse is a Parse Server you import: the whole Parse REST API as
// typed Go services on an App, stored in PostgreSQL JSONB.
//
// An App is built from a Config with New. Its services (Objects, Schemas,
// Query) enforce Parse's rules and call a storage.Store; package httpapi
// serves them over HTTP in Parse's exact wire format, so existing Parse apps
// and the official SDKs work against it unchanged.
//
//	store, _ := postgres.Open(ctx, "postgres://localhost/app", postgres.Options{})
//	app, _ := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "secret", Store: store})
//	defer app.Close()
//	mux.Handle("/parse/", http.StripPrefix("/parse", httpapi.New(app, httpapi.Options{})))
//
// Calls made on the App from Go run with the master key unless the context
// carries another identity (see WithAuth): code in the host program is
// trusted, as Cloud Code is.
package parse

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/parsego/parse/storage"
)

// Config configures an App. AppID, MasterKey and Store are required.
type Config struct {
	// AppID is the application id every request must carry.
	AppID string
	// MasterKey grants every right; ReadOnlyMasterKey grants every read.
	MasterKey         string
	ReadOnlyMasterKey string
	// Client keys. When any of them is set, a request must present one of
	// them (or the master key); when none is, the application id suffices.
	RESTKey       string
	JavaScriptKey string
	ClientKey     string
	DotNetKey     string
	// WebhookKey is sent to webhooks as X-Parse-Webhook-Key.
	WebhookKey string
	// ServerURL is the URL clients reach the API at, mount path included
	// ("http://localhost:1337/parse"); Location headers and file URLs are
	// built from PublicServerURL, which defaults to it.
	ServerURL       string
	PublicServerURL string

	// Store holds the data.
	Store storage.Store
	// Blobs holds the contents of files. When nil and Store is also a
	// BlobStore (storage/postgres is), the Store holds them.
	Blobs BlobStore

	// AllowClientClassCreation lets requests without the master key
	// create classes by writing to them.
	AllowClientClassCreation bool
	// AllowCustomObjectID lets clients choose objectIds on create.
	AllowCustomObjectID bool

	// SessionLength is how long a new session lasts (default a year,
	// DefaultSessionLength).
	SessionLength time.Duration
	// SessionCacheTTL, when positive, is how long a resolved session token
	// (its user and roles) is remembered (the reference remembers it 5 s).
	// By default there is no cache: every request resolves its token, so a
	// session revoked through any instance sharing the database stops
	// working everywhere at once. With a cache, this App's own revocations
	// and role changes take effect at once, and other instances are told
	// through the store (storage.Notifier: PostgreSQL NOTIFY); an event
	// lost on the way is made good by the TTL.
	SessionCacheTTL time.Duration
	// AuthProviders validate the authData of sign-ups, logins and links,
	// by provider name. The "anonymous" provider is built in unless
	// DisableAnonymousUsers is set; any other provider is refused (252)
	// unless registered here.
	AuthProviders         map[string]AuthProvider
	DisableAnonymousUsers bool

	// Email verification and password reset (mail.go) need a MailAdapter,
	// an AppName for the mails and a PublicServerURL for their links.
	AppName     string
	MailAdapter MailAdapter
	// VerifyUserEmails marks a user's email unverified (emailVerified
	// false) at sign-up and whenever it changes, and mails a link that
	// verifies it. PreventLoginWithUnverifiedEmail then refuses logins of
	// unverified users (205) and gives password sign-ups no session.
	VerifyUserEmails                bool
	PreventLoginWithUnverifiedEmail bool
	// How long a verification link and a password reset link work
	// (defaults DefaultEmailVerifyTokenValidity, 24 h, and
	// DefaultPasswordResetTokenValidity, 1 h).
	EmailVerifyTokenValidity   time.Duration
	PasswordResetTokenValidity time.Duration

	Limits Limits
	// Files configures file uploads.
	Files FilesConfig
	// Logger receives the App's logs; nil discards them.
	Logger *slog.Logger
}

// Limits bound what one request may ask for. Zero values take the defaults.
type Limits struct {
	// MaxBodyBytes caps a request body (default 20 MiB, the reference's
	// maxUploadSize).
	MaxBodyBytes int64
	// MaxObjectBytes caps one object's stored document (default 16 MiB).
	MaxObjectBytes int
	// MaxBatchSize caps the requests in one batch (default 1000).
	MaxBatchSize int
	// DefaultQueryLimit is the limit of a query that sets none (default 100).
	DefaultQueryLimit int
	// MaxQueryLimit, when set, silently clamps larger limits, as the
	// reference's maxLimit does.
	MaxQueryLimit int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 20 << 20
	}
	if l.MaxObjectBytes <= 0 {
		l.MaxObjectBytes = 16 << 20
	}
	if l.MaxBatchSize <= 0 {
		l.MaxBatchSize = 1000
	}
	if l.DefaultQueryLimit <= 0 {
		l.DefaultQueryLimit = 100
	}
	return l
}

// App is a Parse application: its configuration, its schema and its
// services. It is safe for concurrent use.
type App struct {
	cfg    Config
	store  storage.Store
	log    *slog.Logger
	schema *schemaCache

	// Objects creates, reads, updates and deletes objects.
	Objects *Objects
	// Schemas reads and changes class schemas.
	Schemas *Schemas
	// Functions holds the cloud functions.
	Functions *Functions
	// Users signs users up, in and out, and guards the _User class.
	Users *Users
	// Sessions manages the _Session objects behind session tokens.
	Sessions *Sessions

	sessionCache *sessionCache
	// Files stores and serves the contents of files.
	Files *Files

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// New returns an App ready to serve. It loads the schema and, when the
// store can tell about schema changes made by other instances, listens for
// them until Close.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.AppID == "" {
		return nil, errors.New("parse: Config.AppID is required")
	}
	if cfg.MasterKey == "" {
		return nil, errors.New("parse: Config.MasterKey is required")
	}
	if cfg.Store == nil {
		return nil, errors.New("parse: Config.Store is required")
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.SessionLength <= 0 {
		cfg.SessionLength = DefaultSessionLength
	}
	cfg.ServerURL = strings.TrimSuffix(cfg.ServerURL, "/")
	cfg.PublicServerURL = strings.TrimSuffix(cfg.PublicServerURL, "/")
	if cfg.PublicServerURL == "" {
		cfg.PublicServerURL = cfg.ServerURL
	}
	if cfg.EmailVerifyTokenValidity <= 0 {
		cfg.EmailVerifyTokenValidity = DefaultEmailVerifyTokenValidity
	}
	if cfg.PasswordResetTokenValidity <= 0 {
		cfg.PasswordResetTokenValidity = DefaultPasswordResetTokenValidity
	}
	if cfg.VerifyUserEmails && !cfg.mailConfigured() {
		return nil, errors.New("parse: Config.VerifyUserEmails needs a MailAdapter, an AppName and a PublicServerURL (or ServerURL)")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, store: cfg.Store, log: log}
	a.schema = newSchemaCache(a.store)
	if err := a.schema.load(ctx); err != nil {
		return nil, err
	}
	if err := a.ensureSystemClasses(ctx); err != nil {
		return nil, err
	}
	a.Objects = &Objects{app: a}
	a.Schemas = &Schemas{app: a}
	a.Functions = &Functions{}
	a.Users = &Users{app: a}
	a.Sessions = &Sessions{app: a}
	a.sessionCache = newSessionCache(cfg.SessionCacheTTL)
	files, err := newFiles(a, &cfg)
	if err != nil {
		return nil, err
	}
	a.Files = files

	watchCtx, stop := context.WithCancel(context.Background())
	a.stop = stop
	if w, ok := a.store.(storage.SchemaWatcher); ok {
		a.wg.Go(func() {
			err := w.WatchSchema(watchCtx, a.schema.invalidate)
			if err != nil && watchCtx.Err() == nil {
				a.log.Error("schema watch stopped", "err", err)
			}
		})
	}
	if n, ok := a.store.(storage.Notifier); ok && a.sessionCache.ttl > 0 {
		a.wg.Go(func() {
			err := n.Listen(watchCtx, a.cacheEvent)
			if err != nil && watchCtx.Err() == nil {
				a.log.Error("session cache events stopped", "err", err)
			}
		})
	}
	return a, nil
}

// Close stops the App's background work. It does not close the Store, which
// the caller opened.
func (a *App) Close() error {
	a.stop()
	a.wg.Wait()
	return nil
}

// Config returns the App's configuration, defaults applied.
func (a *App) Config() Config { return a.cfg }

// Logger returns the App's logger.
func (a *App) Logger() *slog.Logger { return a.log }
