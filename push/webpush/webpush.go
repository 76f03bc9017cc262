// Package webpush is a push provider for browsers: the Web Push protocol
// (RFC 8030), the payload encrypted for the subscription as RFC 8291's
// aes128gcm says, the sender identified with VAPID (RFC 8292). An
// installation's deviceToken is the browser's PushSubscription as JSON
// ({"endpoint","keys":{"p256dh","auth"}}), as Parse's web adapter keeps it.
package webpush

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/push/internal/pushkit"
)

// recordSize is the one record's size: a payload fills one record, as
// push services accept up to 4096 bytes.
const recordSize = 4096

// DefaultTTL is how long a push service keeps a notification for an
// offline browser when the push has no expiration: four weeks.
const DefaultTTL = 28 * 24 * time.Hour

// Config configures a Provider.
type Config struct {
	// VAPIDKey is the application server's P-256 private key (PEM); its
	// public half is the applicationServerKey the site subscribed with.
	VAPIDKey []byte
	// Subject is the VAPID contact: a mailto: or https: URL.
	Subject string
	// Client sends the requests (default: a client of its own).
	Client *http.Client
	// Types are the deviceTypes served (default web).
	Types []string
	// Concurrency bounds the requests in flight (default 64).
	Concurrency int
}

// Provider is a parse.PushProvider sending Web Push messages.
type Provider struct {
	cfg    Config
	key    *ecdsa.PrivateKey
	public string // the VAPID public key, base64url, uncompressed point
}

var _ parse.PushProvider = (*Provider)(nil)

// New returns a Provider, or an error when the VAPID key cannot be used.
func New(cfg Config) (*Provider, error) {
	signer, err := pushkit.ParsePrivateKey(cfg.VAPIDKey)
	if err != nil {
		return nil, fmt.Errorf("webpush: %w", err)
	}
	key, ok := signer.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, errors.New("webpush: the VAPID key must be a P-256 key")
	}
	pub, err := key.PublicKey.Bytes()
	if err != nil {
		return nil, fmt.Errorf("webpush: %w", err)
	}
	if cfg.Subject == "" {
		return nil, errors.New("webpush: a Subject (mailto: or https:) is required")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if len(cfg.Types) == 0 {
		cfg.Types = []string{"web"}
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	return &Provider{cfg: cfg, key: key, public: base64.RawURLEncoding.EncodeToString(pub)}, nil
}

// PushTypes returns the deviceTypes served.
func (p *Provider) PushTypes() []string { return p.cfg.Types }

// Subscription is a browser's PushSubscription.
type Subscription struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// Send encrypts the push's data (as JSON) for each subscription and posts
// it to its endpoint.
func (p *Provider) Send(ctx context.Context, n parse.PushNotification, devices []parse.PushDevice) ([]parse.PushResult, error) {
	payload, err := pushkit.MarshalJSON(n.Data)
	if err != nil {
		return nil, err
	}
	ttl := DefaultTTL
	if !n.Expiration.IsZero() {
		ttl = max(time.Until(n.Expiration), 0)
	}
	results := make([]parse.PushResult, len(devices))
	pushkit.Each(ctx, len(devices), p.cfg.Concurrency, func(i int) {
		results[i] = p.send(ctx, payload, ttl, devices[i])
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

func (p *Provider) send(ctx context.Context, payload []byte, ttl time.Duration, d parse.PushDevice) parse.PushResult {
	res := parse.PushResult{Device: d}
	var sub Subscription
	if err := json.Unmarshal([]byte(d.DeviceToken), &sub); err != nil || sub.Endpoint == "" {
		res.Error, res.InvalidToken = "the deviceToken is not a PushSubscription", true
		return res
	}
	endpoint, err := url.Parse(sub.Endpoint)
	if err != nil || (endpoint.Scheme != "https" && endpoint.Scheme != "http") {
		res.Error, res.InvalidToken = "the subscription's endpoint is not a URL", true
		return res
	}
	body, err := Encrypt(payload, sub)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	jwt, err := pushkit.SignJWT(p.key, nil, map[string]any{
		"aud": endpoint.Scheme + "://" + endpoint.Host, "exp": time.Now().Add(12 * time.Hour).Unix(), "sub": p.cfg.Subject,
	})
	if err != nil {
		res.Error = err.Error()
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	h := req.Header
	h.Set("Authorization", "vapid t="+jwt+", k="+p.public)
	h.Set("Content-Encoding", "aes128gcm")
	h.Set("Content-Type", "application/octet-stream")
	h.Set("TTL", strconv.FormatInt(int64(ttl/time.Second), 10))
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		res.Error, res.Retry = err.Error(), true
		return res
	}
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		res.Sent = true
	case c == http.StatusNotFound || c == http.StatusGone:
		res.Error, res.InvalidToken = resp.Status, true
	case c == http.StatusTooManyRequests || c >= 500:
		res.Error, res.Retry = resp.Status, true
	default:
		res.Error = resp.Status
	}
	return res
}

// Encrypt encrypts a payload for a subscription in RFC 8291's aes128gcm
// content encoding: one record, under a fresh ephemeral key and salt.
func Encrypt(payload []byte, sub Subscription) ([]byte, error) {
	uaPublic, err := decodeKey(sub.Keys.P256dh)
	if err != nil {
		return nil, fmt.Errorf("webpush: p256dh: %w", err)
	}
	authSecret, err := decodeKey(sub.Keys.Auth)
	if err != nil || len(authSecret) != 16 {
		return nil, errors.New("webpush: auth is not a 16-byte secret")
	}
	// The header (86 bytes), the payload, its delimiter and the tag must
	// fit in the 4096 bytes push services accept.
	if 86+len(payload)+1+16 > recordSize {
		return nil, fmt.Errorf("webpush: a payload of %d bytes does not fit in a message", len(payload))
	}
	curve := ecdh.P256()
	ua, err := curve.NewPublicKey(uaPublic)
	if err != nil {
		return nil, fmt.Errorf("webpush: p256dh: %w", err)
	}
	as, err := curve.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	asPublic := as.PublicKey().Bytes()
	shared, err := as.ECDH(ua)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	cek, nonce, err := ContentKeys(shared, authSecret, salt, uaPublic, asPublic)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// The header: salt, record size, and the sender's public key as the
	// key id.
	out := make([]byte, 0, 86+len(payload)+17)
	out = append(out, salt...)
	out = binary.BigEndian.AppendUint32(out, recordSize)
	out = append(out, byte(len(asPublic)))
	out = append(out, asPublic...)
	// The last (and only) record ends with the delimiter 2. A copy: the
	// payload is shared by the goroutines sending it.
	plain := append(slices.Clip(payload), 2)
	return gcm.Seal(out, nonce, plain, nil), nil
}

// ContentKeys derives RFC 8291's content encryption key and nonce from
// the ECDH secret, the subscription's auth secret, the salt and both
// public keys. The receiver derives the same.
func ContentKeys(shared, authSecret, salt, uaPublic, asPublic []byte) (cek, nonce []byte, err error) {
	info := "WebPush: info\x00" + string(uaPublic) + string(asPublic)
	ikm, err := hkdf.Key(sha256.New, shared, authSecret, info, 32)
	if err != nil {
		return nil, nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, nil, err
	}
	if cek, err = hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16); err != nil {
		return nil, nil, err
	}
	nonce, err = hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	return cek, nonce, err
}

// decodeKey reads a subscription key: base64url, padded or not (some
// browsers' JSON has standard base64).
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}
