package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/parsego/parse/internal/pgtest"
)

// TestServer starts the server on a free port against a fresh database,
// creates and reads an object over HTTP, then stops it.
func TestServer(t *testing.T) {
	serveAndCheck(t, "-db", freshDatabase(t))
}

// TestServerEmbedded does the same on the embedded store, in the file
// -db-file names.
func TestServerEmbedded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	serveAndCheck(t, "-db-file", path)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("no database file: %v", err)
	}
}

// serveAndCheck runs the fixture server with the given storage flags,
// creates and reads an object over HTTP, then stops it.
func serveAndCheck(t *testing.T, storageArgs ...string) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		args := append([]string{"-fixture", "-addr", "127.0.0.1:0", "-log-level", "debug"}, storageArgs...)
		done <- run(ctx, args, noEnv, &logs)
	}()

	url := waitForURL(t, &logs, done)
	health := do(t, "GET", url+"/health", nil)
	if health.status != http.StatusOK {
		t.Fatalf("GET /health: %d %s", health.status, health.body)
	}
	created := do(t, "POST", url+"/classes/ServerTest", map[string]any{"name": "rex", "n": 3})
	if created.status != http.StatusCreated {
		t.Fatalf("POST /classes/ServerTest: %d %s", created.status, created.body)
	}
	id, _ := created.json["objectId"].(string)
	if want := url + "/classes/ServerTest/" + id; created.location != want || id == "" {
		t.Errorf("Location %q, objectId %q; want Location %q", created.location, id, want)
	}
	got := do(t, "GET", url+"/classes/ServerTest/"+id, nil)
	if got.status != http.StatusOK || got.json["name"] != "rex" || got.json["n"] != 3.0 || got.json["objectId"] != id {
		t.Fatalf("GET /classes/ServerTest/%s: %d %s", id, got.status, got.body)
	}
	// The fixture's cloud code: its beforeSave on TriggerTest stamps touched.
	if trig := do(t, "POST", url+"/classes/TriggerTest", map[string]any{"x": 1}); trig.status != http.StatusCreated || trig.json["touched"] != true {
		t.Errorf("POST /classes/TriggerTest: %d %s", trig.status, trig.body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v; logs:\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("run did not return after cancel; logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "msg=stopped") {
		t.Errorf("no clean stop in the logs:\n%s", logs.String())
	}
}

func TestOptions(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(*options) bool
		wantErr string
	}{
		{
			name:  "flag wins over env",
			args:  []string{"-app-id", "flag", "-master-key", "m"},
			env:   map[string]string{"PARSE_SERVER_APPLICATION_ID": "env", "PARSE_SERVER_REST_API_KEY": "r"},
			check: func(o *options) bool { return o.appID == "flag" && o.restKey == "r" && o.masterKey == "m" },
		},
		{
			name: "fixture",
			args: []string{"-fixture"},
			check: func(o *options) bool {
				return o.appID == "APP" && o.masterKey == "MASTER" && o.restKey == "REST" && o.jsKey == "JS" &&
					o.clientKey == "CLIENT" && o.dotNetKey == "DOTNET" && o.webhookKey == "WEBHOOK" &&
					o.allowClientClassCreation && o.mount == "/parse" && o.addr == "127.0.0.1:1337"
			},
		},
		{
			name: "fixture from env, explicit settings override it",
			args: []string{"-master-key", "secret"},
			env: map[string]string{"PARSE_SERVER_FIXTURE": "true", "PARSE_SERVER_ALLOW_CLIENT_CLASS_CREATION": "false",
				"PARSE_SERVER_JAVASCRIPT_KEY": "js2"},
			check: func(o *options) bool {
				return o.appID == "APP" && o.masterKey == "secret" && o.jsKey == "js2" && !o.allowClientClassCreation
			},
		},
		{
			name:    "app id required",
			args:    []string{"-master-key", "m"},
			wantErr: "-app-id",
		},
		{
			name:    "bad bool in env",
			args:    []string{"-fixture"},
			env:     map[string]string{"PARSE_SERVER_ALLOW_CLIENT_CLASS_CREATION": "perhaps"},
			wantErr: "PARSE_SERVER_ALLOW_CLIENT_CLASS_CREATION",
		},
		{
			name:    "two file stores",
			args:    []string{"-fixture", "-files-dir", "/tmp/x"},
			env:     map[string]string{"PARSE_SERVER_FILES_S3_BUCKET": "b"},
			wantErr: "exclusive",
		},
		{
			name:  "files without fsync, from env",
			args:  []string{"-fixture", "-files-dir", "/tmp/x"},
			env:   map[string]string{"PARSE_SERVER_FILES_NOSYNC": "true"},
			check: func(o *options) bool { return o.filesDir == "/tmp/x" && o.filesNoSync },
		},
		{
			name:    "nosync without a files directory",
			args:    []string{"-fixture", "-files-nosync"},
			wantErr: "-files-dir",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, env(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(o) {
				t.Errorf("options = %+v", *o)
			}
		})
	}

	o, err := parseOptions([]string{"-fixture", "-mount", "/api/"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := o.config("0.0.0.0:8080"); cfg.ServerURL != "http://localhost:8080/api" || cfg.PublicServerURL != "" {
		t.Errorf("ServerURL %q, PublicServerURL %q", cfg.ServerURL, cfg.PublicServerURL)
	}
}

func noEnv(string) string { return "" }

// freshDatabase creates a database on the test server (pgtest.DSN) and
// returns its URL; it is dropped when t ends. The server keeps its tables in
// the public namespace, so it gets a database rather than a namespace.
func freshDatabase(t *testing.T) string {
	t.Helper()
	dsn := pgtest.DSN(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "parsego_server_test_" + hex.EncodeToString(b[:])
	admin := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := admin("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if err := admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // key=value form
}

var listening = regexp.MustCompile(`msg="parsego listening" .*\burl=(\S+)`)

// waitForURL waits for the server's "listening" log line and returns the URL
// it serves at.
func waitForURL(t *testing.T, logs *syncBuffer, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(logs.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("run returned %v before listening; logs:\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("the server did not start; logs:\n%s", logs.String())
	return ""
}

type response struct {
	status   int
	location string
	body     []byte
	json     map[string]any
}

// do sends a request with the fixture's application id and REST key.
func do(t *testing.T, method, url string, body any) response {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Parse-Application-Id", "APP")
	req.Header.Set("X-Parse-REST-API-Key", "REST")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := response{status: res.StatusCode, location: res.Header.Get("Location")}
	if out.body, err = io.ReadAll(res.Body); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(out.body, &out.json)
	return out
}

// syncBuffer is a bytes.Buffer safe for the server's logger and the test
// to use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServerS3Files keeps files in an S3 bucket (an in-process S3 server)
// with the -files-s3-* flags and the AWS credentials of the environment.
func TestServerS3Files(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("parsego-files"); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer s3srv.Close()
	env := map[string]string{"AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "secret"}
	dsn := freshDatabase(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-fixture", "-db", dsn, "-addr", "127.0.0.1:0", "-files-s3-bucket", "parsego-files",
			"-files-s3-endpoint", s3srv.URL, "-files-s3-prefix", "app/"}, func(k string) string { return env[k] }, &logs)
	}()
	url := waitForURL(t, &logs, done)
	f := do(t, "POST", url+"/files", map[string]any{"type": "com.example.x", "kind": "other", "name": "x", "is_public": true})
	id, _ := f.json["id"].(string)
	if f.status != http.StatusCreated || id == "" {
		t.Fatalf("POST /files: %d %s", f.status, f.body)
	}
	// A file without an owner is the master key's to complete.
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", url+"/files/"+id+"/content", strings.NewReader("in the bucket"))
	req.Header.Set("X-Parse-Application-Id", "APP")
	req.Header.Set("X-Parse-Master-Key", "MASTER")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT content: %d", res.StatusCode)
	}
	if r := do(t, "GET", url+"/files/"+id+"/content", nil); r.status != http.StatusOK || string(r.body) != "in the bucket" {
		t.Fatalf("GET content: %d %s", r.status, r.body)
	}
	list, err := backend.ListBucket("parsego-files", nil, gofakes3.ListBucketPage{})
	if err != nil || len(list.Contents) != 1 || !strings.HasPrefix(list.Contents[0].Key, "app/~f%2F"+id+"%2F") {
		t.Fatalf("bucket: %+v, %v", list, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestServerAppsAPI creates an app through the fixture's Apps API account
// and uses it: its data lives in a PostgreSQL schema of its own.
func TestServerAppsAPI(t *testing.T) {
	dsn := freshDatabase(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-fixture", "-db", dsn, "-addr", "127.0.0.1:0"}, noEnv, &logs) }()
	url := waitForURL(t, &logs, done)

	send := func(method, path, body string, headers ...string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, url+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	if status, _ := send("GET", "/apps", "", "X-Parse-Email", "owner@example.com", "X-Parse-Password", "wrong"); status != http.StatusForbidden {
		t.Fatalf("GET /apps with a wrong password: %d", status)
	}
	status, app := send("POST", "/apps", `{"appName":"second"}`, "X-Parse-Email", "owner@example.com", "X-Parse-Password", "owner-password")
	id, _ := app["applicationId"].(string)
	rest, _ := app["restKey"].(string)
	if status != http.StatusCreated || id == "" || rest == "" || app["appName"] != "second" {
		t.Fatalf("POST /apps: %d %v", status, app)
	}
	if status, obj := send("POST", "/classes/Thing", `{"n":1}`, "X-Parse-Application-Id", id, "X-Parse-REST-API-Key", rest); status != http.StatusCreated {
		t.Fatalf("create in the new app: %d %v", status, obj)
	}
	if status, res := send("GET", "/classes/Thing", "", "X-Parse-Application-Id", "APP", "X-Parse-REST-API-Key", "REST"); status != http.StatusOK || len(res["results"].([]any)) != 0 {
		t.Fatalf("the fixture app sees the new app's data: %d %v", status, res)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1`, "app_"+id).Scan(&n); err != nil || n != 1 {
		t.Fatalf("schema app_%s: %d %v", id, n, err)
	}
	status, list := send("GET", "/apps", "", "X-Parse-Account-Key", "ACCOUNTKEY")
	if status != http.StatusOK || len(list["results"].([]any)) != 2 {
		t.Fatalf("GET /apps: %d %v", status, list)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v; logs:\n%s", err, logs.String())
	}
}
