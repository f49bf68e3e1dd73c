// Package verifytest builds what tests of envctl verify and prove need: a
// private CA with an intermediate, server certificates with chosen
// lifetimes, an HTTPS server that serves OIDC discovery and a JWKS, and
// RS256 web identity tokens signed with a throwaway key.
package verifytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// CA is a private root CA with one intermediate that issues server
// certificates, as public CAs are arranged.
type CA struct {
	Root         *x509.Certificate
	Intermediate *x509.Certificate
	rootKey      *ecdsa.PrivateKey
	interKey     *ecdsa.PrivateKey
}

// NewCA makes a root and an intermediate valid for ten years.
func NewCA(t testing.TB) *CA {
	t.Helper()
	now := time.Now()
	rootKey := newKey(t)
	root := sign(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "envctl Test Root", Organization: []string{"envctl tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, &rootKey.PublicKey, rootKey)
	interKey := newKey(t)
	inter := sign(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "envctl Test Intermediate", Organization: []string{"envctl tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, root, &interKey.PublicKey, rootKey)
	return &CA{Root: root, Intermediate: inter, rootKey: rootKey, interKey: interKey}
}

// RootPEM returns the root certificate in PEM, as --ca-file reads it.
func (ca *CA) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Root.Raw})
}

// Pool returns a pool holding the root.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Root)
	return p
}

// Issue makes a server certificate for host that expires at notAfter, and
// returns it with the intermediate, as a server presents them.
func (ca *CA) Issue(t testing.TB, host string, notAfter time.Time) tls.Certificate {
	t.Helper()
	key := newKey(t)
	notBefore := notAfter.AddDate(0, -3, 0)
	if now := time.Now(); notBefore.After(now) {
		notBefore = now.Add(-time.Hour)
	}
	leaf := sign(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: host},
		DNSNames:    []string{host},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca.Intermediate, &key.PublicKey, ca.interKey)
	return tls.Certificate{Certificate: [][]byte{leaf.Raw, ca.Intermediate.Raw}, PrivateKey: key, Leaf: leaf}
}

// Chain returns a certificate's chain parsed, leaf first.
func Chain(t testing.TB, c tls.Certificate) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, der := range c.Certificate {
		x, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

var serial struct {
	sync.Mutex
	n int64
}

func sign(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	serial.Lock()
	serial.n++
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano() + serial.n)
	serial.Unlock()
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Issuer is a throwaway RS256 signing key with its JWK.
type Issuer struct {
	Key *rsa.PrivateKey
	Kid string
}

// NewIssuer makes a 2048-bit RSA key.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &Issuer{Key: k, Kid: "test-key-1"}
}

// JWK returns the public key as a JSON Web Key.
func (i *Issuer) JWK() map[string]any {
	return map[string]any{
		"kty": "RSA",
		"use": "sig",
		"alg": "RS256",
		"kid": i.Kid,
		"n":   b64(i.Key.N.Bytes()),
		"e":   b64(big.NewInt(int64(i.Key.E)).Bytes()),
	}
}

// Token returns an RS256 JWT with the given claims.
func (i *Issuer) Token(t testing.TB, claims map[string]any) string {
	t.Helper()
	header, _ := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT", "kid": i.Kid})
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signing := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, i.Key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// OIDC is an HTTPS server for one issuer: discovery at
// /.well-known/openid-configuration and the key set at /jwks. Fields may be
// changed between requests.
type OIDC struct {
	*httptest.Server
	mu sync.Mutex
	// Issuer is the issuer the discovery document names.
	Issuer string
	// JWKSURI is the jwks_uri it names.
	JWKSURI string
	// Keys is the JWKS's keys member.
	Keys []map[string]any
	// Cert is the certificate the server presents.
	Cert tls.Certificate
}

// NewOIDC starts an HTTPS server for issuer https://host presenting cert
// and publishing keys.
func NewOIDC(t testing.TB, host string, cert tls.Certificate, keys ...map[string]any) *OIDC {
	t.Helper()
	o := &OIDC{Issuer: "https://" + host, JWKSURI: "https://" + host + "/jwks", Keys: keys, Cert: cert}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		defer o.mu.Unlock()
		writeJSON(w, map[string]any{
			"issuer":                                o.Issuer,
			"jwks_uri":                              o.JWKSURI,
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		defer o.mu.Unlock()
		keys := o.Keys
		if keys == nil {
			keys = []map[string]any{}
		}
		writeJSON(w, map[string]any{"keys": keys})
	})
	o.Server = httptest.NewUnstartedServer(mux)
	// Handshakes the client rejects (the point of some tests) are not news.
	o.Server.Config.ErrorLog = log.New(io.Discard, "", 0)
	o.Server.TLS = &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			o.mu.Lock()
			defer o.mu.Unlock()
			c := o.Cert
			return &c, nil
		},
	}
	o.Server.StartTLS()
	t.Cleanup(o.Server.Close)
	return o
}

// Set changes the server's answers under its lock.
func (o *OIDC) Set(fn func(o *OIDC)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fn(o)
}

// Addr returns the server's 127.0.0.1:PORT.
func (o *OIDC) Addr() string { return o.Listener.Addr().String() }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
