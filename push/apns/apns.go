// Package apns is a push provider for Apple devices: the APNs HTTP/2 API
// with token-based authentication (a .p8 signing key, its key id and the
// team id), one request per device, many at once over one connection.
package apns

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/push/internal/pushkit"
)

// The APNs hosts.
const (
	ProductionHost = "https://api.push.apple.com"
	SandboxHost    = "https://api.sandbox.push.apple.com"
)

// tokenLifetime is how long a provider token is used: Apple wants a new
// one between 20 and 60 minutes.
const tokenLifetime = 40 * time.Minute

// Config configures a Provider.
type Config struct {
	// Key is the signing key Apple issued (the .p8 file's PEM contents),
	// KeyID its id and TeamID the developer team's.
	Key    []byte
	KeyID  string
	TeamID string
	// Topic is the app's bundle id, used for installations without an
	// appIdentifier.
	Topic string
	// Host is the APNs server (default SandboxHost; ProductionHost for
	// apps in the App Store).
	Host string
	// Client sends the requests (default: a client of its own; its
	// transport speaks HTTP/2 over TLS).
	Client *http.Client
	// Types are the deviceTypes served (default ios, osx, tvos).
	Types []string
	// Concurrency bounds the requests in flight (default 64).
	Concurrency int
}

// Provider is a parse.PushProvider sending through APNs.
type Provider struct {
	cfg Config
	key crypto.Signer

	mu       sync.Mutex
	token    string
	issuedAt time.Time
}

var _ parse.PushProvider = (*Provider)(nil)

// New returns a Provider, or an error when the key cannot be read.
func New(cfg Config) (*Provider, error) {
	key, err := pushkit.ParsePrivateKey(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("apns: %w", err)
	}
	if cfg.KeyID == "" || cfg.TeamID == "" {
		return nil, errors.New("apns: KeyID and TeamID are required")
	}
	if cfg.Host == "" {
		cfg.Host = SandboxHost
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if len(cfg.Types) == 0 {
		cfg.Types = []string{"ios", "osx", "tvos"}
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	return &Provider{cfg: cfg, key: key}, nil
}

// PushTypes returns the deviceTypes served.
func (p *Provider) PushTypes() []string { return p.cfg.Types }

// providerToken returns the current provider token, signing a new one when
// it is old or was refused.
func (p *Provider) providerToken(refused string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token != "" && p.token != refused && time.Since(p.issuedAt) < tokenLifetime {
		return p.token, nil
	}
	now := time.Now()
	tok, err := pushkit.SignJWT(p.key, map[string]any{"kid": p.cfg.KeyID}, map[string]any{"iss": p.cfg.TeamID, "iat": now.Unix()})
	if err != nil {
		return "", err
	}
	p.token, p.issuedAt = tok, now
	return tok, nil
}

// Send posts the notification to each device.
func (p *Provider) Send(ctx context.Context, n parse.PushNotification, devices []parse.PushDevice) ([]parse.PushResult, error) {
	body, err := pushkit.MarshalJSON(Payload(n.Data))
	if err != nil {
		return nil, err
	}
	if _, err := p.providerToken(""); err != nil {
		return nil, err
	}
	results := make([]parse.PushResult, len(devices))
	pushkit.Each(ctx, len(devices), p.cfg.Concurrency, func(i int) {
		results[i] = p.send(ctx, n, body, devices[i])
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

func (p *Provider) send(ctx context.Context, n parse.PushNotification, body []byte, d parse.PushDevice) parse.PushResult {
	res := parse.PushResult{Device: d}
	token, err := p.providerToken("")
	if err != nil {
		res.Error, res.Retry = err.Error(), true
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.Host+"/3/device/"+d.DeviceToken, bytes.NewReader(body))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	topic := d.AppIdentifier
	if topic == "" {
		topic = p.cfg.Topic
	}
	h := req.Header
	h.Set("authorization", "bearer "+token)
	h.Set("content-type", "application/json")
	if topic != "" {
		h.Set("apns-topic", topic)
	}
	pushType, priority := "alert", "10"
	if isBackground(n.Data) {
		pushType, priority = "background", "5"
	}
	h.Set("apns-push-type", pushType)
	h.Set("apns-priority", priority)
	if !n.Expiration.IsZero() {
		h.Set("apns-expiration", strconv.FormatInt(n.Expiration.Unix(), 10))
	}
	if n.PushStatusID != "" {
		h.Set("apns-collapse-id", n.PushStatusID)
	}
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		res.Error, res.Retry = err.Error(), true
		return res
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		res.Sent = true
		return res
	}
	var reply struct {
		Reason string `json:"reason"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = json.Unmarshal(raw, &reply)
	res.Error = reply.Reason
	if res.Error == "" {
		res.Error = resp.Status
	}
	switch {
	case reply.Reason == "Unregistered" || reply.Reason == "BadDeviceToken" || resp.StatusCode == http.StatusGone:
		res.InvalidToken = true
	case reply.Reason == "ExpiredProviderToken" || reply.Reason == "InvalidProviderToken":
		_, _ = p.providerToken(token) // a fresh one for the retry
		res.Retry = true
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		res.Retry = true
	}
	return res
}

// isBackground reports a silent notification: content-available and
// nothing to show.
func isBackground(data map[string]any) bool {
	if ca, _ := data["content-available"].(float64); ca != 1 {
		return false
	}
	for _, k := range []string{"alert", "title", "badge", "sound"} {
		if _, ok := data[k]; ok {
			return false
		}
	}
	return true
}

// Payload is the APNs payload of a push's data, as Parse's APNs adapter
// builds it: alert, title, badge, sound, content-available,
// mutable-content, category and threadId go into "aps" (an alert with a
// title becomes {"title","body"}); any other key stays at the top level
// for the app.
func Payload(data map[string]any) map[string]any {
	aps := map[string]any{}
	out := map[string]any{"aps": aps}
	for k, v := range data {
		switch k {
		case "alert", "title":
		case "badge", "sound", "category":
			aps[k] = v
		case "content-available", "mutable-content":
			if f, _ := v.(float64); f == 1 {
				aps[k] = 1
			}
		case "threadId":
			aps["thread-id"] = v
		case "aps":
			if m, ok := v.(map[string]any); ok {
				for ak, av := range m {
					aps[ak] = av
				}
			}
		default:
			out[k] = v
		}
	}
	alert, hasAlert := data["alert"]
	if title, ok := data["title"]; ok {
		a := map[string]any{"title": title}
		if s, isString := alert.(string); isString {
			a["body"] = s
		} else if m, isMap := alert.(map[string]any); isMap {
			for ak, av := range m {
				a[ak] = av
			}
		}
		aps["alert"] = a
	} else if hasAlert {
		aps["alert"] = alert
	}
	return out
}
