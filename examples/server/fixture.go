package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/parsego/parse"
)

// The fixture app is the app the conformance suite, the SDK tests and the
// benchmarks in ../shared expect every server under test to be: the
// configuration of ../shared/reference/server.js, described in
// ../shared/conformance/README.md ("The fixture app"). -fixture turns it on.

// fixtureDefaults sets the fixture's keys and options on every setting that
// no flag or environment variable gave explicitly. The mount path stays
// /parse and the public URL http://<addr>/parse, the defaults.
func fixtureDefaults(o *options, explicit map[string]bool) {
	set := func(name string, dst *string, v string) {
		if !explicit[name] {
			*dst = v
		}
	}
	set("app-id", &o.appID, "APP")
	set("master-key", &o.masterKey, "MASTER")
	set("rest-key", &o.restKey, "REST")
	set("js-key", &o.jsKey, "JS")
	set("client-key", &o.clientKey, "CLIENT")
	set("dotnet-key", &o.dotNetKey, "DOTNET")
	set("webhook-key", &o.webhookKey, "WEBHOOK")
	set("app-name", &o.appName, "reference")
	if !explicit["allow-client-class-creation"] {
		o.allowClientClassCreation = true
	}
	if !explicit["smtp-addr"] && !explicit["mail-log"] {
		// The reference's fixture records mails; so does this one, where
		// it does no harm.
		o.mailLog = filepath.Join(os.TempDir(), "parsego-fixture-mail.jsonl")
	}
}

// What the fixture app still lacks, each waiting for the mechanism named:
//
//   - beforeSave/afterSave/beforeDelete/afterDelete on TriggerTest, the
//     after-triggers writing TriggerLog objects: triggers;
//   - job touchJob (writes a JobLog, returns "done"): background jobs and
//     _JobStatus;
//   - the insecure auth adapters (anonymous users are built in): more
//     AuthProviders;
//   - email verification off with an email adapter so that password-reset
//     requests succeed, app name "reference": the mail adapter and an app
//     name in Config;
//   - push through a recording adapter (ios, android, osx, tvos, web count
//     as delivered) with scheduled pushes stored as "scheduled": the push
//     service and its adapter.

// configureFixture sets the fixture's options that live in parse.Config
// rather than in flags: file uploads for everyone (the 20 MB limit and
// the <32 hex>_<name> names are the defaults; the files are kept in the
// database).
func configureFixture(cfg *parse.Config) {
	cfg.Files.Upload = &parse.FileUpload{EnableForPublic: true, EnableForAnonymousUser: true, EnableForAuthenticatedUser: true}
}

// registerFixtureCode registers the fixture's cloud code on the App: the
// functions of ../shared/reference/cloud/main.js (its triggers and job are
// still missing: see the list above).
func registerFixtureCode(app *parse.App) {
	fn := app.Functions
	fn.Define("hello", func(context.Context, parse.FunctionRequest) (any, error) {
		return "Hello world!", nil
	})
	fn.Define("echo", func(_ context.Context, req parse.FunctionRequest) (any, error) {
		return req.Params, nil
	})
	fn.Define("whoami", func(_ context.Context, req parse.FunctionRequest) (any, error) {
		if req.Auth.User == nil {
			return nil, nil
		}
		return req.Auth.User.Fields["username"], nil
	})
	fn.Define("isMaster", func(_ context.Context, req parse.FunctionRequest) (any, error) {
		return req.Auth.Master, nil
	})
	fn.Define("fail", func(context.Context, parse.FunctionRequest) (any, error) {
		return nil, parse.NewError(parse.ScriptFailed, "failed on purpose")
	})
}
