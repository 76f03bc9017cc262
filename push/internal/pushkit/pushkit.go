// Package pushkit holds what the push providers share: signed JSON Web
// Tokens (APNs provider tokens and VAPID are ES256, Google's service
// account assertions RS256) and a bounded fan-out of per-device requests.
package pushkit

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
)

var b64 = base64.RawURLEncoding

// SignJWT returns a compact JWT of claims: ES256 for a P-256 *ecdsa.PrivateKey,
// RS256 for an *rsa.PrivateKey. header adds fields to {"alg","typ"} ("kid").
func SignJWT(key crypto.Signer, header, claims map[string]any) (string, error) {
	h := map[string]any{"typ": "JWT"}
	for k, v := range header {
		h[k] = v
	}
	switch key.(type) {
	case *ecdsa.PrivateKey:
		h["alg"] = "ES256"
	case *rsa.PrivateKey:
		h["alg"] = "RS256"
	default:
		return "", fmt.Errorf("pushkit: unsupported key type %T", key)
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	cj, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := b64.EncodeToString(hj) + "." + b64.EncodeToString(cj)
	digest := sha256.Sum256([]byte(signing))
	var sig []byte
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			return "", err
		}
		// JWS wants r and s as two 32-byte big-endian numbers, not DER.
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case *rsa.PrivateKey:
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:]); err != nil {
			return "", err
		}
	}
	return signing + "." + b64.EncodeToString(sig), nil
}

// VerifyJWT checks a JWT's signature with pub (what a push service does)
// and returns its header and claims.
func VerifyJWT(token string, pub crypto.PublicKey) (header, claims map[string]any, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("pushkit: not a compact JWT")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, nil, err
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if len(sig) != 64 || !ecdsa.Verify(k, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return nil, nil, errors.New("pushkit: bad ES256 signature")
		}
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("pushkit: unsupported key type %T", pub)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := b64.DecodeString(parts[i])
		if err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return nil, nil, err
		}
	}
	return header, claims, nil
}

// ParsePrivateKey reads a PEM private key: PKCS #8 (an APNs .p8 file, a
// Google service account's private_key), SEC 1 EC or PKCS #1 RSA.
func ParsePrivateKey(pemBytes []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("pushkit: no PEM block in the key")
	}
	var key any
	var err error
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("pushkit: parsing the key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pushkit: unsupported key type %T", key)
	}
	return signer, nil
}

// Each calls fn for 0..n-1, at most workers at a time, and returns when
// all calls have; it stops starting new ones once ctx is done.
func Each(ctx context.Context, n, workers int, fn func(i int)) {
	sem := make(chan struct{}, max(workers, 1))
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// MarshalJSON encodes v as JSON.stringify does: without escaping <, > and
// &, which would only make payloads (limited to 4 KB) longer.
func MarshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
