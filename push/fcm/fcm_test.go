package fcm_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/push/fcm"
	"github.com/parsego/parse/push/internal/pushkit"
)

// fakeGoogle is a local OAuth 2.0 token endpoint and FCM v1 API.
type fakeGoogle struct {
	t   *testing.T
	url string
	pub *rsa.PublicKey

	mu        sync.Mutex
	exchanges int
	messages  map[string]map[string]any // by token
	revoke    bool                      // refuse the first access token once
}

func (f *fakeGoogle) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/token":
		_, claims, err := pushkit.VerifyJWT(r.PostFormValue("assertion"), f.pub)
		if err != nil || r.PostFormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" ||
			claims["iss"] != "push@p1.iam.gserviceaccount.com" || claims["aud"] != f.url+"/token" ||
			claims["scope"] != "https://www.googleapis.com/auth/firebase.messaging" {
			f.t.Errorf("token exchange: %v %v", claims, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.exchanges++
		fmt.Fprintf(w, `{"access_token":"at-%d","expires_in":3599,"token_type":"Bearer"}`, f.exchanges)
	case "/v1/projects/p1/messages:send":
		auth := r.Header.Get("Authorization")
		if auth != fmt.Sprintf("Bearer at-%d", f.exchanges) || f.revoke {
			f.revoke = false
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`)
			return
		}
		var body struct {
			Message map[string]any `json:"message"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.t.Error(err)
		}
		token, _ := body.Message["token"].(string)
		f.messages[token] = body.Message
		switch token {
		case "gone":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`)
		case "junk":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}`)
		case "down":
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}`)
		default:
			io.WriteString(w, `{"name":"projects/p1/messages/0:1"}`)
		}
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func newProvider(t *testing.T, revoke bool) (*fcm.Provider, *fakeGoogle) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeGoogle{t: t, pub: &key.PublicKey, messages: map[string]map[string]any{}, revoke: revoke}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	fake.url = srv.URL
	sa, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "p1", "private_key_id": "kid1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "push@p1.iam.gserviceaccount.com", "token_uri": srv.URL + "/token",
	})
	p, err := fcm.New(fcm.Config{ServiceAccount: sa, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return p, fake
}

func TestSend(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, false)
	devices := []parse.PushDevice{
		{InstallationID: "a", DeviceToken: "ok", DeviceType: "android"},
		{InstallationID: "b", DeviceToken: "gone", DeviceType: "android"},
		{InstallationID: "c", DeviceToken: "junk", DeviceType: "android"},
		{InstallationID: "d", DeviceToken: "down", DeviceType: "android"},
	}
	res, err := p.Send(t.Context(), parse.PushNotification{
		PushStatusID: "ps1", Expiration: time.Now().Add(time.Hour + 500*time.Millisecond),
		Data: map[string]any{"alert": "The Giants won!", "badge": 2.0},
	}, devices)
	if err != nil {
		t.Fatal(err)
	}
	want := []parse.PushResult{
		{Device: devices[0], Sent: true},
		{Device: devices[1], Error: "UNREGISTERED", InvalidToken: true},
		{Device: devices[2], Error: "INVALID_ARGUMENT", InvalidToken: true},
		{Device: devices[3], Error: "UNAVAILABLE", Retry: true},
	}
	for i := range want {
		if res[i] != want[i] {
			t.Errorf("result %+v, want %+v", res[i], want[i])
		}
	}
	if fake.exchanges != 1 {
		t.Errorf("%d token exchanges for a batch, want 1", fake.exchanges)
	}
	android := fake.messages["ok"]["android"].(map[string]any)
	data := android["data"].(map[string]any)
	if android["priority"] != "high" || android["ttl"] != "3600s" || data["data"] != `{"alert":"The Giants won!","badge":2}` ||
		data["push_id"] != "ps1" || !strings.HasSuffix(data["time"].(string), "Z") {
		t.Errorf("message %v", fake.messages["ok"])
	}
	// The access token is reused by later batches.
	if _, err := p.Send(t.Context(), parse.PushNotification{Data: map[string]any{"alert": "again"}}, devices[:1]); err != nil || fake.exchanges != 1 {
		t.Errorf("second batch: %v, %d exchanges", err, fake.exchanges)
	}
}

func TestRefusedAccessToken(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, true)
	dev := []parse.PushDevice{{InstallationID: "a", DeviceToken: "ok", DeviceType: "android"}}
	res, err := p.Send(t.Context(), parse.PushNotification{Data: map[string]any{"alert": "x"}}, dev)
	if err != nil || !res[0].Retry || res[0].Error != "UNAUTHENTICATED" {
		t.Fatalf("first send: %+v %v", res, err)
	}
	if res, err = p.Send(t.Context(), parse.PushNotification{Data: map[string]any{"alert": "x"}}, dev); err != nil || !res[0].Sent || fake.exchanges != 2 {
		t.Fatalf("retry: %+v %v, %d exchanges", res, err, fake.exchanges)
	}
}
