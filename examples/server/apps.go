package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/storage/postgres"
)

// createdApps makes the apps POST /apps asks for, each in a PostgreSQL
// schema of its own ("app_" and its application id) in the server's
// database, configured as the main app is but for its keys and name. The
// server remembers them until it stops (their data stays in the schema);
// a deployment of several instances that creates apps keeps its list of
// apps in its database instead, behind an httpapi.AppSource of its own.
type createdApps struct {
	dsn  string
	base parse.Config // the main app's: URLs, logger, limits, files

	mu     sync.Mutex
	apps   []*parse.App
	stores []*postgres.Store
}

// newApp implements httpapi.AppSet's New.
func (c *createdApps) newApp(ctx context.Context, cfg parse.Config) (*parse.App, error) {
	store, err := postgres.Open(ctx, c.dsn, postgres.Options{Schema: "app_" + cfg.AppID})
	if err != nil {
		return nil, err
	}
	full := c.base
	full.AppID, full.AppName, full.AllowClientClassCreation = cfg.AppID, cfg.AppName, cfg.AllowClientClassCreation
	full.MasterKey, full.ReadOnlyMasterKey, full.RESTKey, full.JavaScriptKey = cfg.MasterKey, "", cfg.RESTKey, cfg.JavaScriptKey
	full.ClientKey, full.DotNetKey, full.WebhookKey = cfg.ClientKey, cfg.DotNetKey, cfg.WebhookKey
	full.Store, full.Blobs = store, nil
	full.Logger = c.base.Logger.With(slog.String("app_id", cfg.AppID))
	app, err := parse.New(ctx, full)
	if err != nil {
		store.Close()
		return nil, err
	}
	c.mu.Lock()
	c.apps, c.stores = append(c.apps, app), append(c.stores, store)
	c.mu.Unlock()
	return app, nil
}

// close stops the created apps and closes their stores.
func (c *createdApps) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, app := range c.apps {
		app.Close()
		c.stores[i].Close()
	}
}

// host serves app, and with an account configured the Apps API, which
// creates apps through created.
func host(app *parse.App, created *createdApps, opts *options, log *slog.Logger) *httpapi.Host {
	apps := httpapi.NewAppSet(app)
	apps.New = created.newApp
	return httpapi.NewHost(httpapi.HostOptions{
		Options: httpapi.Options{MountPath: opts.mount},
		Apps:    apps,
		Default: app,
		Account: httpapi.Account{Email: opts.accountEmail, Password: opts.accountPassword, Key: opts.accountKey},
		Logger:  log,
	})
}
