package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/parsego/parse"
	"github.com/parsego/parse/push/recorder"
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
	set("account-email", &o.accountEmail, "owner@example.com")
	set("account-password", &o.accountPassword, "owner-password")
	set("account-key", &o.accountKey, "ACCOUNTKEY")
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
//   - the insecure auth adapters (anonymous users are built in): more
//     AuthProviders;
//   - email verification off with an email adapter so that password-reset
//     requests succeed, app name "reference": the mail adapter and an app
//     name in Config.

// configureFixture sets the fixture's options that live in parse.Config
// rather than in flags: file uploads for everyone (the 20 MB limit and
// the <32 hex>_<name> names are the defaults; the files are kept in the
// database), and pushes through a recording provider that counts every
// installation of type ios, android, osx, tvos or web as delivered (unlike
// the reference, scheduled pushes are then delivered at their time).
func configureFixture(cfg *parse.Config) {
	cfg.Files.Upload = &parse.FileUpload{EnableForPublic: true, EnableForAnonymousUser: true, EnableForAuthenticatedUser: true}
	cfg.Push.Provider = &recorder.Recorder{}
}

// registerFixtureCode registers the fixture's cloud code on the App: the
// functions, triggers and job of ../shared/reference/cloud/main.js.
func registerFixtureCode(app *parse.App) error {
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

	master := func(ctx context.Context) context.Context { return parse.WithAuth(ctx, parse.Auth{Master: true}) }
	logEvent := func(event string) parse.Trigger {
		return func(ctx context.Context, req *parse.TriggerRequest) error {
			_, err := app.Objects.Create(master(ctx), "TriggerLog", map[string]any{"event": event, "source": req.Object.ID})
			return err
		}
	}
	tr := app.Triggers
	err := errors.Join(
		tr.Define(parse.TriggerBeforeSave, "TriggerTest", func(_ context.Context, req *parse.TriggerRequest) error {
			if bad, _ := req.Object.Fields["bad"].(bool); bad {
				return parse.NewError(parse.ValidationError, "bad objects are rejected")
			}
			req.Object.Fields["touched"] = true
			return nil
		}),
		tr.Define(parse.TriggerAfterSave, "TriggerTest", logEvent("afterSave")),
		tr.Define(parse.TriggerBeforeDelete, "TriggerTest", func(_ context.Context, req *parse.TriggerRequest) error {
			if locked, _ := req.Object.Fields["locked"].(bool); locked {
				return parse.NewError(parse.ValidationError, "locked objects cannot be deleted")
			}
			return nil
		}),
		tr.Define(parse.TriggerAfterDelete, "TriggerTest", logEvent("afterDelete")),
	)
	app.Jobs.Define("touchJob", func(ctx context.Context, req *parse.JobRequest) (any, error) {
		_, err := app.Objects.Create(master(ctx), "JobLog", map[string]any{"params": req.Params})
		return "done", err
	})
	return err
}
