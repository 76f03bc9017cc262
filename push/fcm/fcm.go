// Package fcm is a push provider for Android devices: Firebase Cloud
// Messaging's HTTP v1 API, authenticated as a Google service account (an
// OAuth 2.0 access token obtained with a signed JWT assertion), one
// request per device, many at once.
package fcm

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/push/internal/pushkit"
)

// DefaultEndpoint is FCM's API.
const DefaultEndpoint = "https://fcm.googleapis.com"

const scope = "https://www.googleapis.com/auth/firebase.messaging"

// Config configures a Provider.
type Config struct {
	// ServiceAccount is a Google service account's JSON key file (its
	// project_id, private_key_id, private_key, client_email, token_uri).
	ServiceAccount []byte
	// ProjectID overrides the service account's project.
	ProjectID string
	// Endpoint is FCM's base URL (default DefaultEndpoint).
	Endpoint string
	// Client sends the requests (default: a client of its own).
	Client *http.Client
	// Types are the deviceTypes served (default android).
	Types []string
	// Concurrency bounds the requests in flight (default 64).
	Concurrency int
}

type serviceAccount struct {
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// Provider is a parse.PushProvider sending through FCM.
type Provider struct {
	cfg     Config
	account serviceAccount
	key     crypto.Signer

	mu      sync.Mutex
	token   string
	expires time.Time
}

var _ parse.PushProvider = (*Provider)(nil)

// New returns a Provider, or an error when the service account can't be
// used.
func New(cfg Config) (*Provider, error) {
	var sa serviceAccount
	if err := json.Unmarshal(cfg.ServiceAccount, &sa); err != nil {
		return nil, fmt.Errorf("fcm: service account: %w", err)
	}
	if sa.ClientEmail == "" || sa.TokenURI == "" {
		return nil, errors.New("fcm: the service account lacks client_email or token_uri")
	}
	key, err := pushkit.ParsePrivateKey([]byte(sa.PrivateKey))
	if err != nil {
		return nil, fmt.Errorf("fcm: %w", err)
	}
	if cfg.ProjectID == "" {
		cfg.ProjectID = sa.ProjectID
	}
	if cfg.ProjectID == "" {
		return nil, errors.New("fcm: no project id")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if len(cfg.Types) == 0 {
		cfg.Types = []string{"android"}
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	return &Provider{cfg: cfg, account: sa, key: key}, nil
}

// PushTypes returns the deviceTypes served.
func (p *Provider) PushTypes() []string { return p.cfg.Types }

// accessToken returns an access token, exchanging a new assertion when
// the current one is about to expire or was refused.
func (p *Provider) accessToken(ctx context.Context, refused string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token != "" && p.token != refused && time.Now().Before(p.expires) {
		return p.token, nil
	}
	now := time.Now()
	assertion, err := pushkit.SignJWT(p.key, map[string]any{"kid": p.account.PrivateKeyID}, map[string]any{
		"iss": p.account.ClientEmail, "scope": scope, "aud": p.account.TokenURI,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.account.TokenURI, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("fcm: token exchange: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string  `json:"access_token"`
		ExpiresIn   float64 `json:"expires_in"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &tok) != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("fcm: token exchange: %s: %.200s", resp.Status, raw)
	}
	p.token = tok.AccessToken
	// A minute early, so that no request carries a token expiring on the way.
	p.expires = now.Add(time.Duration(tok.ExpiresIn)*time.Second - time.Minute)
	return p.token, nil
}

// Send posts one message per device. A failed token exchange fails the
// batch (it is retried later).
func (p *Provider) Send(ctx context.Context, n parse.PushNotification, devices []parse.PushDevice) ([]parse.PushResult, error) {
	if _, err := p.accessToken(ctx, ""); err != nil {
		return nil, err
	}
	android := Message(n, time.Now())
	results := make([]parse.PushResult, len(devices))
	pushkit.Each(ctx, len(devices), p.cfg.Concurrency, func(i int) {
		results[i] = p.send(ctx, android, devices[i])
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

func (p *Provider) send(ctx context.Context, msg map[string]any, d parse.PushDevice) parse.PushResult {
	res := parse.PushResult{Device: d}
	token, err := p.accessToken(ctx, "")
	if err != nil {
		res.Error, res.Retry = err.Error(), true
		return res
	}
	m := map[string]any{"token": d.DeviceToken}
	for k, v := range msg {
		m[k] = v
	}
	body, err := json.Marshal(map[string]any{"message": m})
	if err != nil {
		res.Error = err.Error()
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.Endpoint+"/v1/projects/"+url.PathEscape(p.cfg.ProjectID)+"/messages:send", bytes.NewReader(body))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		res.Error, res.Retry = err.Error(), true
		return res
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		res.Sent = true
		return res
	}
	var reply struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
			Details []struct {
				ErrorCode string `json:"errorCode"`
			} `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &reply)
	code := reply.Error.Status
	for _, d := range reply.Error.Details {
		if d.ErrorCode != "" {
			code = d.ErrorCode
		}
	}
	res.Error = code
	if res.Error == "" {
		res.Error = resp.Status
	}
	switch {
	case code == "UNREGISTERED",
		code == "INVALID_ARGUMENT" && strings.Contains(reply.Error.Message, "not a valid FCM registration token"):
		res.InvalidToken = true
	case resp.StatusCode == http.StatusUnauthorized:
		_, _ = p.accessToken(ctx, token) // a fresh one for the retry
		res.Retry = true
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		res.Retry = true
	}
	return res
}

// Message is the device-independent part of an FCM message for a push,
// as Parse's FCM adapter builds it for Android: the data as a JSON string
// under android.data.data (what the Parse Android SDK reads), with the
// push's id and time, high priority, and a ttl when the push expires.
func Message(n parse.PushNotification, now time.Time) map[string]any {
	data, _ := pushkit.MarshalJSON(n.Data)
	android := map[string]any{
		"priority": "high",
		"data":     map[string]any{"data": string(data), "push_id": n.PushStatusID, "time": now.UTC().Format("2006-01-02T15:04:05.000Z")},
	}
	if !n.Expiration.IsZero() {
		android["ttl"] = strconv.FormatInt(max(int64(n.Expiration.Sub(now)/time.Second), 0), 10) + "s"
	}
	return map[string]any{"android": android}
}
