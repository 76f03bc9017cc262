package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/parsego/parse"
)

// errUsage reports bad flags; the flag package has printed the details.
var errUsage = errors.New("usage")

// options are the server's settings, from flags and the environment.
type options struct {
	addr        string
	mount       string
	databaseURI string
	dbFile      string
	filesDir    string
	filesNoSync bool
	publicURL   string
	fixture     bool
	logLevel    slog.Level

	appID, masterKey, readOnlyMasterKey              string
	restKey, jsKey, clientKey, dotNetKey, webhookKey string
	allowClientClassCreation                         bool

	// Mail: through an SMTP server, or appended to a file as JSON lines.
	appName                          string
	smtpAddr, smtpUser, smtpPassword string
	mailFrom, mailLog                string
	verifyUserEmails                 bool

	// File contents in S3-compatible object storage (blobs.go).
	s3Bucket, s3Endpoint, s3Region, s3Prefix string
	// pushConfig names the push providers' settings file (push.go).
	pushConfig string
	// The Apps API's account (/apps).
	accountEmail, accountPassword, accountKey string
}

// envNames maps each flag to its environment variable, named as Parse
// Server names it.
var envNames = map[string]string{
	"addr":                        "PARSE_SERVER_ADDR",
	"mount":                       "PARSE_SERVER_MOUNT_PATH",
	"db":                          "PARSE_SERVER_DATABASE_URI",
	"db-file":                     "PARSEGO_DB_FILE",
	"files-dir":                   "PARSE_SERVER_FILES_DIR",
	"files-nosync":                "PARSE_SERVER_FILES_NOSYNC",
	"app-id":                      "PARSE_SERVER_APPLICATION_ID",
	"master-key":                  "PARSE_SERVER_MASTER_KEY",
	"readonly-master-key":         "PARSE_SERVER_READ_ONLY_MASTER_KEY",
	"rest-key":                    "PARSE_SERVER_REST_API_KEY",
	"js-key":                      "PARSE_SERVER_JAVASCRIPT_KEY",
	"client-key":                  "PARSE_SERVER_CLIENT_KEY",
	"dotnet-key":                  "PARSE_SERVER_DOTNET_KEY",
	"webhook-key":                 "PARSE_SERVER_WEBHOOK_KEY",
	"public-url":                  "PARSE_PUBLIC_SERVER_URL",
	"allow-client-class-creation": "PARSE_SERVER_ALLOW_CLIENT_CLASS_CREATION",
	"fixture":                     "PARSE_SERVER_FIXTURE",
	"app-name":                    "PARSE_SERVER_APP_NAME",
	"smtp-addr":                   "PARSE_SERVER_SMTP_ADDR",
	"smtp-user":                   "PARSE_SERVER_SMTP_USER",
	"smtp-password":               "PARSE_SERVER_SMTP_PASSWORD",
	"mail-from":                   "PARSE_SERVER_MAIL_FROM",
	"mail-log":                    "PARSE_SERVER_MAIL_LOG",
	"verify-user-emails":          "PARSE_SERVER_VERIFY_USER_EMAILS",
	"log-level":                   "PARSE_SERVER_LOG_LEVEL",
	"files-s3-bucket":             "PARSE_SERVER_FILES_S3_BUCKET",
	"files-s3-endpoint":           "PARSE_SERVER_FILES_S3_ENDPOINT",
	"files-s3-region":             "PARSE_SERVER_FILES_S3_REGION",
	"files-s3-prefix":             "PARSE_SERVER_FILES_S3_PREFIX",
	"push-config":                 "PARSE_SERVER_PUSH_CONFIG",
	"account-email":               "PARSE_SERVER_ACCOUNT_EMAIL",
	"account-password":            "PARSE_SERVER_ACCOUNT_PASSWORD",
	"account-key":                 "PARSE_SERVER_ACCOUNT_KEY",
}

// parseOptions reads args, then the environment for every flag not given.
func parseOptions(args []string, env func(string) string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:1337", "address to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&o.mount, "mount", "/parse", "path the API is mounted at")
	fs.StringVar(&o.databaseURI, "db", "", "PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/parsego (default: the embedded store, see -db-file)")
	fs.StringVar(&o.dbFile, "db-file", "parsego.db", "the embedded store's database file, used when -db is not given")
	fs.StringVar(&o.filesDir, "files-dir", "", "keep uploaded files in this directory (one machine only) rather than in the database")
	fs.BoolVar(&o.filesNoSync, "files-nosync", false, "with -files-dir, leave flushing files to disk to the OS, as Parse Server does: much faster uploads, but a power failure can lose the last seconds' files")
	fs.StringVar(&o.appID, "app-id", "", "application id (required)")
	fs.StringVar(&o.masterKey, "master-key", "", "master key (required)")
	fs.StringVar(&o.readOnlyMasterKey, "readonly-master-key", "", "read-only master key")
	fs.StringVar(&o.restKey, "rest-key", "", "REST API key")
	fs.StringVar(&o.jsKey, "js-key", "", "JavaScript key")
	fs.StringVar(&o.clientKey, "client-key", "", "client key")
	fs.StringVar(&o.dotNetKey, "dotnet-key", "", ".NET key")
	fs.StringVar(&o.webhookKey, "webhook-key", "", "key sent to webhooks as X-Parse-Webhook-Key")
	fs.StringVar(&o.publicURL, "public-url", "", "public URL of the API, mount included (default http://<addr><mount>)")
	fs.BoolVar(&o.allowClientClassCreation, "allow-client-class-creation", false, "let requests without the master key create classes")
	fs.BoolVar(&o.fixture, "fixture", false, "configure the conformance fixture app of ../shared (keys APP, MASTER, REST, ...)")
	fs.StringVar(&o.appName, "app-name", "", "application name, shown in mails and pages (needed for email verification and password reset)")
	fs.StringVar(&o.smtpAddr, "smtp-addr", "", "send mail through this SMTP server (host:port)")
	fs.StringVar(&o.smtpUser, "smtp-user", "", "SMTP user name (AUTH PLAIN)")
	fs.StringVar(&o.smtpPassword, "smtp-password", "", "SMTP password")
	fs.StringVar(&o.mailFrom, "mail-from", "", "sender address of mails")
	fs.StringVar(&o.mailLog, "mail-log", "", "append every mail to this file as a JSON line instead of sending it (for tests)")
	fs.BoolVar(&o.verifyUserEmails, "verify-user-emails", false, "send new users a link to verify their email")
	fs.TextVar(&o.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error")
	fs.StringVar(&o.s3Bucket, "files-s3-bucket", "", "keep uploaded files in this S3 bucket (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&o.s3Endpoint, "files-s3-endpoint", "", "URL of an S3-compatible object store (default AWS)")
	fs.StringVar(&o.s3Region, "files-s3-region", "us-east-1", "region of the S3 bucket")
	fs.StringVar(&o.s3Prefix, "files-s3-prefix", "", "prefix of the files' object keys in the S3 bucket")
	fs.StringVar(&o.pushConfig, "push-config", "", "send pushes through the providers this JSON file configures (see push.go)")
	fs.StringVar(&o.accountEmail, "account-email", "", "email of the account the Apps API (/apps) authenticates, with -account-password")
	fs.StringVar(&o.accountPassword, "account-password", "", "password of the Apps API account")
	fs.StringVar(&o.accountKey, "account-key", "", "account key the Apps API accepts as X-Parse-Account-Key")
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " [" + envNames[f.Name] + "]" })
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: server [flags]\n\nA standalone parsego Parse Server. "+
			"Each flag's environment variable is in brackets; a flag wins over it.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	for name, envName := range envNames {
		v := env(envName)
		if explicit[name] || v == "" {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			return nil, fmt.Errorf("%s=%q: %w", envName, v, err)
		}
		explicit[name] = true
	}
	if o.fixture {
		fixtureDefaults(o, explicit)
	}

	o.mount = "/" + strings.Trim(o.mount, "/")
	if o.mount == "/" {
		o.mount = ""
	}
	switch {
	case o.s3Bucket != "" && o.filesDir != "":
		return nil, errors.New("-files-dir and -files-s3-bucket are exclusive")
	case o.filesNoSync && o.filesDir == "":
		return nil, errors.New("-files-nosync needs -files-dir")
	case o.appID == "":
		return nil, errors.New("-app-id (PARSE_SERVER_APPLICATION_ID) is required, or -fixture")
	case o.masterKey == "":
		return nil, errors.New("-master-key (PARSE_SERVER_MASTER_KEY) is required, or -fixture")
	}
	return o, nil
}

// config returns the App's configuration for a server listening on addr
// (the Store and Logger are the caller's to set).
func (o *options) config(addr string) parse.Config {
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			addr = net.JoinHostPort("localhost", port)
		}
	}
	return parse.Config{
		AppID:                    o.appID,
		MasterKey:                o.masterKey,
		ReadOnlyMasterKey:        o.readOnlyMasterKey,
		RESTKey:                  o.restKey,
		JavaScriptKey:            o.jsKey,
		ClientKey:                o.clientKey,
		DotNetKey:                o.dotNetKey,
		WebhookKey:               o.webhookKey,
		ServerURL:                "http://" + addr + o.mount,
		PublicServerURL:          o.publicURL,
		AllowClientClassCreation: o.allowClientClassCreation,
		AppName:                  o.appName,
		VerifyUserEmails:         o.verifyUserEmails,
	}
}
