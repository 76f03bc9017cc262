// Package parse is a Parse Server you import: the whole Parse REST API as
// typed Go services on an App, stored in PostgreSQL JSONB (storage/postgres)
// or, by default, in an embedded SQLite database (storage/sqlite).
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
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/sqlite"
)

// Config configures an App. AppID and MasterKey are required.
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
	// JobScheduleInterval is how often Start's scheduler looks for
	// scheduled jobs that are due (default a minute).
	JobScheduleInterval time.Duration
	// WebhookTimeout bounds each webhook call (default 30 s,
	// DefaultWebhookTimeout); a call that takes longer fails with 141.
	WebhookTimeout time.Duration
	// ServerURL is the URL clients reach the API at, mount path included
	// ("http://localhost:1337/parse"); Location headers and file URLs are
	// built from PublicServerURL, which defaults to it.
	ServerURL       string
	PublicServerURL string

	// Store holds the data. When nil, the App opens a private in-memory
	// embedded store (storage/sqlite), which its Close closes: enough for
	// tests and trying things out, gone with the App.
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

	// Push configures push notifications (push.go).
	Push PushConfig

	Limits Limits
	// Files configures file uploads.
	Files FilesConfig
	// Logger receives the App's logs; nil discards them.
	Logger *slog.Logger
	// LogLines is how many recent log lines at info level and above the
	// App keeps in memory for Logs and GET /scriptlog (default
	// DefaultLogLines). Each instance keeps its own.
	LogLines int
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
	// Triggers holds the triggers.
	Triggers *Triggers
	// Hooks manages the webhooks of the Hooks API.
	Hooks *Hooks
	// Jobs holds the background jobs.
	Jobs *Jobs
	// Users signs users up, in and out, and guards the _User class.
	Users *Users
	// Sessions manages the _Session objects behind session tokens.
	Sessions *Sessions
	// Params holds the remote configuration (GET and PUT /config).
	Params *Params
	// Analytics records app events and counts them.
	Analytics *Analytics
	// Installations registers the devices pushes go to.
	Installations *Installations
	// Push sends push notifications.
	Push *Push
	// Audiences reads the saved push audiences (/push_audiences).
	Audiences *Audiences

	memTasks   *memTasks
	pushWorker *pushWorker

	sessionCache *sessionCache
	logRing      *logRing
	// Files stores and serves the contents of files.
	Files *Files

	// bg is the context of background work; Close cancels it (stop) and
	// waits for the work to end (wg).
	bg   context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
	// listening is set while this App hears other instances' events
	// (storage.Notifier), so that what it caches of shared state (the
	// hooks) needs no expiry.
	listening atomic.Bool
	// ownStore is the store New opened when Config.Store was nil.
	ownStore storage.Store
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
	var ownStore storage.Store
	if cfg.Store == nil {
		store, err := sqlite.Open(ctx, sqlite.Memory, sqlite.Options{})
		if err != nil {
			return nil, err
		}
		cfg.Store, ownStore = store, store
	}
	a, err := newApp(ctx, cfg)
	if err != nil {
		if ownStore != nil {
			ownStore.Close()
		}
		return nil, err
	}
	a.ownStore = ownStore
	return a, nil
}

func newApp(ctx context.Context, cfg Config) (*App, error) {
	cfg.Limits = cfg.Limits.withDefaults()
	cfg.Push = cfg.Push.withDefaults()
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
	if cfg.WebhookTimeout <= 0 {
		cfg.WebhookTimeout = DefaultWebhookTimeout
	}
	if cfg.JobScheduleInterval <= 0 {
		cfg.JobScheduleInterval = time.Minute
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
	if cfg.LogLines <= 0 {
		cfg.LogLines = DefaultLogLines
	}
	ring := newLogRing(cfg.LogLines)
	log = slog.New(&ringHandler{next: log.Handler(), ring: ring})
	a := &App{cfg: cfg, store: cfg.Store, log: log, logRing: ring}
	a.schema = newSchemaCache(a.store)
	if err := a.schema.load(ctx); err != nil {
		return nil, err
	}
	if err := a.ensureSystemClasses(ctx); err != nil {
		return nil, err
	}
	a.Objects = &Objects{app: a}
	a.Schemas = &Schemas{app: a}
	a.Functions = &Functions{app: a}
	a.Triggers = &Triggers{app: a}
	a.Hooks = &Hooks{app: a, client: &http.Client{}, timeout: cfg.WebhookTimeout}
	a.Jobs = &Jobs{app: a}
	a.Users = &Users{app: a}
	a.Sessions = &Sessions{app: a}
	a.Params = &Params{app: a}
	a.Analytics = &Analytics{app: a}
	a.Installations = &Installations{app: a}
	a.Push = &Push{app: a}
	a.Audiences = &Audiences{app: a}
	a.memTasks = newMemTasks()
	a.sessionCache = newSessionCache(cfg.SessionCacheTTL)
	files, err := newFiles(a, &cfg)
	if err != nil {
		return nil, err
	}
	a.Files = files

	watchCtx, stop := context.WithCancel(context.Background())
	a.bg, a.stop = watchCtx, stop
	if w, ok := a.store.(storage.SchemaWatcher); ok {
		a.wg.Go(func() {
			err := w.WatchSchema(watchCtx, a.schema.invalidate)
			if err != nil && watchCtx.Err() == nil {
				a.log.Error("schema watch stopped", "err", err)
			}
		})
	}
	if a.sessionCache.ttl > 0 {
		a.listen(watchCtx)
	}
	a.startPushWorker(watchCtx)
	return a, nil
}

// Close stops the App's background work (see Start) and waits for it to
// end: jobs still running see their context canceled. It does not close
// the Store, which the caller opened, only the embedded one New opened for
// want of a Store.
func (a *App) Close() error {
	a.stop()
	a.wg.Wait()
	if a.ownStore != nil {
		a.ownStore.Close()
	}
	return nil
}

// Config returns the App's configuration, defaults applied.
func (a *App) Config() Config { return a.cfg }

// Logger returns the App's logger.
func (a *App) Logger() *slog.Logger { return a.log }
