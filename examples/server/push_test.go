package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPushProvider(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p8, _ := x509.MarshalPKCS8PrivateKey(ec)
	write("AuthKey.p8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))
	write("vapid.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(rs)
	sa, _ := json.Marshal(map[string]string{"project_id": "p1", "client_email": "a@p1.iam.gserviceaccount.com",
		"token_uri": "https://oauth2.googleapis.com/token", "private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	write("sa.json", sa)
	write("push.json", []byte(`{
		"ios": {"keyFile": "AuthKey.p8", "keyId": "ABC123", "teamId": "TEAM", "topic": "com.example.app"},
		"android": {"serviceAccountFile": "sa.json"},
		"web": {"vapidKeyFile": "vapid.pem", "subject": "mailto:ops@example.com"}}`))
	write("empty.json", []byte(`{}`))
	write("missing.json", []byte(`{"ios": {"keyFile": "nope.p8", "keyId": "A", "teamId": "T"}}`))

	p, err := pushProvider(filepath.Join(dir, "push.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.PushTypes(); !slices.Equal(got, []string{"android", "ios", "osx", "tvos", "web"}) {
		t.Fatalf("push types %q", got)
	}
	for file, want := range map[string]string{"empty.json": "no provider", "missing.json": "nope.p8", "absent.json": "absent.json"} {
		if _, err := pushProvider(filepath.Join(dir, file)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error about %s", file, err, want)
		}
	}
}
