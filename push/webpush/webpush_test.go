package webpush_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/push/internal/pushkit"
	"github.com/parsego/parse/push/webpush"
)

// browser is a subscribed user agent: its keys decrypt what it receives.
type browser struct {
	key  *ecdh.PrivateKey
	auth []byte
	sub  string // the PushSubscription JSON, an installation's deviceToken
}

func newBrowser(t testing.TB, endpoint string) *browser {
	t.Helper()
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	enc := base64.RawURLEncoding
	sub, _ := json.Marshal(map[string]any{"endpoint": endpoint, "keys": map[string]string{
		"p256dh": enc.EncodeToString(key.PublicKey().Bytes()), "auth": enc.EncodeToString(auth)}})
	return &browser{key: key, auth: auth, sub: string(sub)}
}

// decrypt opens an aes128gcm message as the browser does (RFC 8291).
func (b *browser) decrypt(body []byte) ([]byte, error) {
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	asPublic := body[21 : 21+idlen]
	as, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, err
	}
	shared, err := b.key.ECDH(as)
	if err != nil {
		return nil, err
	}
	cek, nonce, err := webpush.ContentKeys(shared, b.auth, salt, b.key.PublicKey().Bytes(), asPublic)
	if err != nil {
		return nil, err
	}
	block, _ := aes.NewCipher(cek)
	gcm, _ := cipher.NewGCM(block)
	record := body[21+idlen:]
	if uint32(len(record)) > rs {
		return nil, io.ErrShortBuffer
	}
	plain, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		return nil, err
	}
	plain = []byte(strings.TrimRight(string(plain), "\x00"))
	if plain[len(plain)-1] != 2 {
		return nil, io.ErrUnexpectedEOF
	}
	return plain[:len(plain)-1], nil
}

// pushService is a local push service: it checks VAPID and hands each
// message to its browser, answering by subscription.
type pushService struct {
	t        testing.TB
	url      string
	vapid    *ecdsa.PublicKey
	mu       sync.Mutex
	browsers map[string]*browser
	got      map[string]string // decrypted payload by path
	headers  map[string]http.Header
}

func (s *pushService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	s.headers[r.URL.Path] = r.Header.Clone()
	t, k, ok := strings.Cut(strings.TrimPrefix(r.Header.Get("Authorization"), "vapid t="), ", k=")
	key, _ := base64.RawURLEncoding.DecodeString(k)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), key)
	if !ok || err != nil || !pub.Equal(s.vapid) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if _, claims, err := pushkit.VerifyJWT(t, pub); err != nil || claims["aud"] != s.url || claims["sub"] != "mailto:ops@example.com" || claims["exp"].(float64) < float64(time.Now().Unix()) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	switch r.URL.Path {
	case "/gone":
		w.WriteHeader(http.StatusGone)
		return
	case "/busy":
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	b := s.browsers[r.URL.Path]
	plain, err := b.decrypt(body)
	if err != nil || r.Header.Get("Content-Encoding") != "aes128gcm" {
		s.t.Errorf("%s: %v", r.URL.Path, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.got[r.URL.Path] = string(plain)
	w.WriteHeader(http.StatusCreated)
}

func newService(t testing.TB) (*webpush.Provider, *pushService) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	svc := &pushService{t: t, vapid: &key.PublicKey, browsers: map[string]*browser{}, got: map[string]string{}, headers: map[string]http.Header{}}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	svc.url = srv.URL
	for _, path := range []string{"/b1", "/b2", "/gone", "/busy"} {
		svc.browsers[path] = newBrowser(t, srv.URL+path)
	}
	p, err := webpush.New(webpush.Config{VAPIDKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), Subject: "mailto:ops@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return p, svc
}

func TestSend(t *testing.T) {
	t.Parallel()
	p, svc := newService(t)
	var devices []parse.PushDevice
	for _, path := range []string{"/b1", "/b2", "/gone", "/busy"} {
		devices = append(devices, parse.PushDevice{InstallationID: path, DeviceType: "web", DeviceToken: svc.browsers[path].sub})
	}
	devices = append(devices, parse.PushDevice{InstallationID: "junk", DeviceType: "web", DeviceToken: "not json"})
	res, err := p.Send(t.Context(), parse.PushNotification{Data: map[string]any{"alert": "Hi <you>", "badge": 1.0}, Expiration: time.Now().Add(time.Minute + time.Second)}, devices)
	if err != nil {
		t.Fatal(err)
	}
	want := []parse.PushResult{
		{Sent: true}, {Sent: true},
		{Error: "410 Gone", InvalidToken: true},
		{Error: "429 Too Many Requests", Retry: true},
		{Error: "the deviceToken is not a PushSubscription", InvalidToken: true},
	}
	for i, w := range want {
		w.Device = devices[i]
		if res[i] != w {
			t.Errorf("result %+v, want %+v", res[i], w)
		}
	}
	for _, path := range []string{"/b1", "/b2"} {
		if got := svc.got[path]; got != `{"alert":"Hi <you>","badge":1}` {
			t.Errorf("%s decrypted %q", path, got)
		}
	}
	if ttl := svc.headers["/b1"].Get("TTL"); ttl != "60" {
		t.Errorf("TTL %q", ttl)
	}
	r, err := p.Send(t.Context(), parse.PushNotification{Data: map[string]any{"alert": strings.Repeat("x", 4000)}}, devices[:1])
	if err != nil || r[0].Sent || r[0].Retry || !strings.Contains(r[0].Error, "does not fit") {
		t.Errorf("an oversized payload: %+v %v", r, err)
	}
}

// TestThroughTheApp pushes through an App to browsers: the expired
// subscription loses its deviceToken.
func TestThroughTheApp(t *testing.T) {
	t.Parallel()
	p, svc := newService(t)
	ctx := context.Background()
	app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "M", Store: pgtest.NewStore(t),
		Push: parse.PushConfig{Provider: p, CleanupInvalidInstallations: true, PollInterval: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	for i, path := range []string{"/b1", "/gone"} {
		if _, _, err := app.Installations.Save(ctx, map[string]any{"deviceType": "web", "installationId": path[1:] + "x", "deviceToken": svc.browsers[path].sub, "channels": []any{"news"}, "badge": float64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	id, err := app.Push.Send(ctx, map[string]any{"channels": []any{"news"}, "data": map[string]any{"alert": "Extra!", "badge": "Increment"}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := app.Objects.Get(ctx, parse.ClassPushStatus, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Fields["status"] == "succeeded" {
			if st.Fields["numSent"] != 1.0 || st.Fields["numFailed"] != 1.0 {
				t.Fatalf("status %v", st.Fields)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %v", st.Fields)
		}
		time.Sleep(20 * time.Millisecond)
	}
	svc.mu.Lock()
	got := svc.got["/b1"]
	svc.mu.Unlock()
	if got != `{"alert":"Extra!","badge":1}` {
		t.Errorf("b1 got %q", got)
	}
	left, err := app.Query(parse.ClassInstallation).Exists("deviceToken").Find(ctx)
	if err != nil || len(left) != 1 || left[0].Fields["installationId"] != "b1x" {
		t.Fatalf("installations with a token: %v %v", left, err)
	}
}

// BenchmarkSend measures a batch of 100 subscriptions to a local push
// service that decrypts each message: ECDH, HKDF and AES-GCM on both ends.
func BenchmarkSend(b *testing.B) {
	p, svc := newService(b)
	devices := make([]parse.PushDevice, 100)
	for i := range devices {
		devices[i] = parse.PushDevice{InstallationID: "i", DeviceType: "web", DeviceToken: svc.browsers["/b1"].sub}
	}
	n := parse.PushNotification{Data: map[string]any{"alert": "bench", "badge": 1.0}}
	for b.Loop() {
		if _, err := p.Send(b.Context(), n, devices); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(devices)*b.N)/b.Elapsed().Seconds(), "devices/s")
}
