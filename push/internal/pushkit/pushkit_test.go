package pushkit

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"sync/atomic"
	"testing"
)

func TestJWT(t *testing.T) {
	t.Parallel()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	p8, _ := x509.MarshalPKCS8PrivateKey(ec)
	rsDER := x509.MarshalPKCS1PrivateKey(rs)
	for _, tc := range []struct {
		name, pemType string
		der           []byte
		pub           crypto.PublicKey
		alg           string
	}{
		{"PKCS #8 EC (.p8)", "PRIVATE KEY", p8, &ec.PublicKey, "ES256"},
		{"SEC 1 EC", "EC PRIVATE KEY", ecDER, &ec.PublicKey, "ES256"},
		{"PKCS #1 RSA", "RSA PRIVATE KEY", rsDER, &rs.PublicKey, "RS256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: tc.pemType, Bytes: tc.der}))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := SignJWT(key, map[string]any{"kid": "k1"}, map[string]any{"iss": "me", "iat": 1700000000})
			if err != nil {
				t.Fatal(err)
			}
			h, c, err := VerifyJWT(tok, tc.pub)
			if err != nil || h["alg"] != tc.alg || h["kid"] != "k1" || c["iss"] != "me" || c["iat"] != 1700000000.0 {
				t.Fatalf("verified %v %v %v", h, c, err)
			}
			parts := strings.Split(tok, ".")
			forged, _ := SignJWT(key, nil, map[string]any{"iss": "someone else"})
			if _, _, err := VerifyJWT(parts[0]+"."+strings.Split(forged, ".")[1]+"."+parts[2], tc.pub); err == nil {
				t.Fatal("a token with swapped claims verified")
			}
		})
	}
	if _, err := ParsePrivateKey([]byte("not a key")); err == nil {
		t.Fatal("garbage parsed as a key")
	}
}

func TestEachBoundsConcurrency(t *testing.T) {
	t.Parallel()
	var running, peak, done atomic.Int32
	Each(context.Background(), 50, 4, func(int) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		running.Add(-1)
		done.Add(1)
	})
	if done.Load() != 50 || peak.Load() > 4 {
		t.Fatalf("%d calls, %d at once", done.Load(), peak.Load())
	}
	if b, _ := MarshalJSON(map[string]any{"a": "<&>"}); string(b) != `{"a":"<&>"}` {
		t.Fatalf("MarshalJSON %s", b)
	}
}
