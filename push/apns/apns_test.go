package apns_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
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
	"github.com/parsego/parse/push/apns"
	"github.com/parsego/parse/push/internal/pushkit"
)

// fakeAPNs is a local APNs: HTTP/2 over TLS, checking provider tokens
// with the key's public half and answering by device token.
type fakeAPNs struct {
	t   testing.TB
	pub *ecdsa.PublicKey

	mu       sync.Mutex
	requests map[string]request // by device token
	tokens   map[string]bool    // provider tokens seen
	expired  bool               // refuse the first provider token
}

type request struct {
	proto   int
	header  http.Header
	payload map[string]any
}

func (f *fakeAPNs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	device := strings.TrimPrefix(r.URL.Path, "/3/device/")
	body, _ := io.ReadAll(r.Body)
	var payload map[string]any
	if err := json.Unmarshal(body, &payload); err != nil {
		f.t.Errorf("payload %s: %v", body, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests[device] = request{proto: r.ProtoMajor, header: r.Header.Clone(), payload: payload}
	jwt := strings.TrimPrefix(r.Header.Get("authorization"), "bearer ")
	header, claims, err := pushkit.VerifyJWT(jwt, f.pub)
	if err != nil || header["kid"] != "KEY123" || header["alg"] != "ES256" || claims["iss"] != "TEAM456" {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"reason":"InvalidProviderToken"}`)
		return
	}
	if f.expired && len(f.tokens) == 0 {
		f.tokens[jwt] = true
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"reason":"ExpiredProviderToken"}`)
		return
	}
	f.tokens[jwt] = true
	switch device {
	case "gone":
		w.WriteHeader(http.StatusGone)
		io.WriteString(w, `{"reason":"Unregistered","timestamp":1700000000000}`)
	case "bad":
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"reason":"BadDeviceToken"}`)
	case "busy":
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"reason":"TooManyRequests"}`)
	default:
		w.Header().Set("apns-id", "00000000-0000-0000-0000-000000000001")
	}
}

func newProvider(t testing.TB, expired bool) (*apns.Provider, *fakeAPNs) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeAPNs{t: t, pub: &key.PublicKey, requests: map[string]request{}, tokens: map[string]bool{}, expired: expired}
	srv := httptest.NewUnstartedServer(fake)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p, err := apns.New(apns.Config{
		Key: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), KeyID: "KEY123", TeamID: "TEAM456",
		Topic: "com.example.app", Host: srv.URL, Client: srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, fake
}

func TestSend(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, false)
	expires := time.Unix(1893456000, 0)
	devices := []parse.PushDevice{
		{InstallationID: "a", DeviceToken: "ok1", DeviceType: "ios"},
		{InstallationID: "b", DeviceToken: "ok2", DeviceType: "ios", AppIdentifier: "com.example.other"},
		{InstallationID: "c", DeviceToken: "gone", DeviceType: "ios"},
		{InstallationID: "d", DeviceToken: "bad", DeviceType: "ios"},
		{InstallationID: "e", DeviceToken: "busy", DeviceType: "ios"},
	}
	res, err := p.Send(t.Context(), parse.PushNotification{
		PushStatusID: "ps1", Expiration: expires,
		Data: map[string]any{"alert": "The Giants won!", "title": "Scores", "badge": 4.0, "sound": "cheering.caf", "category": "news", "uri": "https://example.com", "gameId": 7.0},
	}, devices)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]parse.PushResult{
		"a": {Sent: true}, "b": {Sent: true},
		"c": {Error: "Unregistered", InvalidToken: true},
		"d": {Error: "BadDeviceToken", InvalidToken: true},
		"e": {Error: "TooManyRequests", Retry: true},
	}
	for i, r := range res {
		w := want[r.Device.InstallationID]
		w.Device = devices[i]
		if r != w {
			t.Errorf("result %+v, want %+v", r, w)
		}
	}
	req := fake.requests["ok1"]
	wantPayload := `{"aps":{"alert":{"body":"The Giants won!","title":"Scores"},"badge":4,"category":"news","sound":"cheering.caf"},"gameId":7,"uri":"https://example.com"}`
	if got, _ := json.Marshal(req.payload); string(got) != wantPayload {
		t.Errorf("payload %s\nwant    %s", got, wantPayload)
	}
	if req.proto != 2 {
		t.Errorf("HTTP/%d, want HTTP/2", req.proto)
	}
	for k, v := range map[string]string{"apns-topic": "com.example.app", "apns-push-type": "alert", "apns-priority": "10", "apns-expiration": "1893456000", "apns-collapse-id": "ps1"} {
		if got := req.header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if got := fake.requests["ok2"].header.Get("apns-topic"); got != "com.example.other" {
		t.Errorf("topic of an installation with an appIdentifier: %q", got)
	}
	if len(fake.tokens) != 1 {
		t.Errorf("%d provider tokens for one batch, want 1 reused", len(fake.tokens))
	}
}

func TestBackgroundAndExpiredProviderToken(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, true)
	dev := []parse.PushDevice{{InstallationID: "a", DeviceToken: "ok", DeviceType: "ios"}}
	n := parse.PushNotification{Data: map[string]any{"content-available": 1.0, "sync": true}}
	res, err := p.Send(t.Context(), n, dev)
	if err != nil || len(res) != 1 || !res[0].Retry || res[0].Error != "ExpiredProviderToken" {
		t.Fatalf("first send: %+v %v", res, err)
	}
	// The retry signs a new provider token, which is accepted.
	if res, err = p.Send(t.Context(), n, dev); err != nil || !res[0].Sent {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if len(fake.tokens) != 2 {
		t.Errorf("%d provider tokens, want a new one after the refusal", len(fake.tokens))
	}
	req := fake.requests["ok"]
	if got, _ := json.Marshal(req.payload); string(got) != `{"aps":{"content-available":1},"sync":true}` {
		t.Errorf("payload %s", got)
	}
	if req.header.Get("apns-push-type") != "background" || req.header.Get("apns-priority") != "5" || req.header.Get("apns-expiration") != "" {
		t.Errorf("headers %v", req.header)
	}
}

// BenchmarkSend measures a batch of 100 devices to a local HTTP/2 APNs.
func BenchmarkSend(b *testing.B) {
	p, _ := newProvider(b, false)
	devices := make([]parse.PushDevice, 100)
	for i := range devices {
		devices[i] = parse.PushDevice{InstallationID: "i", DeviceToken: "ok" + string(rune('a'+i%26)), DeviceType: "ios"}
	}
	n := parse.PushNotification{Data: map[string]any{"alert": "bench", "badge": 1.0}}
	for b.Loop() {
		if _, err := p.Send(b.Context(), n, devices); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(devices)*b.N)/b.Elapsed().Seconds(), "devices/s")
}
