// Command server runs parsego as a standalone Parse Server.
//
//	go run ./examples/server -db postgres://postgres@127.0.0.1:5432/parsego -app-id APP -master-key secret
//	go run ./examples/server -fixture -db postgres://postgres@127.0.0.1:5432/parsego
//	go run ./examples/server -fixture    # the embedded store, in ./parsego.db
//
// Every flag has an environment equivalent (named as Parse Server names it,
// e.g. PARSE_SERVER_MASTER_KEY); a flag given on the command line wins over
// the environment. -fixture configures the app the conformance suite and the
// SDK tests in ../shared expect (see fixture.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/fsblob"
	"github.com/parsego/parse/storage/postgres"
	"github.com/parsego/parse/storage/sqlite"
)

// shutdownTimeout bounds how long in-flight requests may take to finish
// once a stop signal arrived.
const shutdownTimeout = 15 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp):
			os.Exit(0)
		case !errors.Is(err, errUsage):
			fmt.Fprintln(os.Stderr, "server:", err)
		}
		os.Exit(2)
	}
}

// run starts the server and serves until ctx is cancelled, then shuts down
// gracefully. It returns nil after a clean shutdown.
func run(ctx context.Context, args []string, env func(string) string, stderr io.Writer) error {
	opts, err := parseOptions(args, env, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: opts.logLevel}))

	// Listen first, so that the public URL can name the actual port when
	// -addr asks for any free one (127.0.0.1:0).
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	cfg := opts.config(ln.Addr().String())
	cfg.Logger = log
	if cfg.MailAdapter, err = opts.mailAdapter(); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if opts.fixture {
		configureFixture(&cfg)
	}
	if opts.pushConfig != "" {
		if cfg.Push.Provider, err = pushProvider(opts.pushConfig); err != nil {
			return fmt.Errorf("push: %w", err)
		}
	}

	store, err := openStore(ctx, opts)
	if err != nil {
		return fmt.Errorf("opening the database: %w", err)
	}
	defer store.Close()
	cfg.Store = store
	if opts.filesDir != "" {
		blobs, err := fsblob.New(opts.filesDir, fsblob.Options{NoSync: opts.filesNoSync})
		if err != nil {
			return err
		}
		cfg.Blobs = blobs
	}
	if opts.s3Bucket != "" {
		cfg.Blobs = opts.s3Blobs(env)
	}

	app, err := parse.New(ctx, cfg)
	if err != nil {
		return err
	}
	if opts.fixture {
		if err := registerFixtureCode(app); err != nil {
			app.Close()
			return err
		}
	}
	app.Start(ctx)
	created := &createdApps{dsn: opts.databaseURI, base: cfg}
	defer created.close()
	err = serve(ctx, log, app, host(app, created, opts, log), ln, opts)
	if cerr := app.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		log.Info("stopped")
	}
	return err
}

// openStore opens the PostgreSQL database -db names, or else the embedded
// store in -db-file.
func openStore(ctx context.Context, opts *options) (storage.Store, error) {
	if opts.databaseURI != "" {
		return postgres.Open(ctx, opts.databaseURI, postgres.Options{})
	}
	return sqlite.Open(ctx, opts.dbFile, sqlite.Options{})
}

// serve answers requests on ln until ctx is cancelled, then lets in-flight
// requests finish (for at most shutdownTimeout).
func serve(ctx context.Context, log *slog.Logger, app *parse.App, api http.Handler, ln net.Listener, opts *options) error {
	mux := http.NewServeMux()
	mux.Handle(opts.mount+"/", api)
	if opts.mount != "" {
		mux.Handle(opts.mount, api) // the API's answer, not the mux's redirect
	}
	srv := &http.Server{
		Handler:           logRequests(log, mux),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	cfg := app.Config()
	log.Info("parsego listening", "addr", ln.Addr().String(), "url", cfg.ServerURL,
		"public_url", cfg.PublicServerURL, "app_id", cfg.AppID, "fixture", opts.fixture)

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// logRequests logs every request at debug level; it adds nothing when debug
// logging is off.
func logRequests(log *slog.Logger, h http.Handler) http.Handler {
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration", time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush,
// deadlines) through the wrapper.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
