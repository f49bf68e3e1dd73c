package verify

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultAudience is the audience AWS STS expects in web identity tokens
// when the caller does not choose another.
const DefaultAudience = "sts.amazonaws.com"

// DiscoveryURL returns the OIDC discovery document's URL for an issuer.
func DiscoveryURL(providerURL string) string {
	return strings.TrimSuffix(providerURL, "/") + "/.well-known/openid-configuration"
}

// CompareIssuer compares the issuer a discovery document names with the
// IAM provider's URL as STS does: exactly, byte for byte, case included.
// why is empty when they are equal and otherwise names the difference,
// "trailing slash" first because it is the usual one.
func CompareIssuer(issuer, providerURL string) (equal bool, why string) {
	switch {
	case issuer == providerURL:
		return true, ""
	case issuer == providerURL+"/":
		return false, "trailing slash: the issuer ends with / and the provider URL does not; STS compares them byte for byte"
	case issuer+"/" == providerURL:
		return false, "trailing slash: the provider URL ends with / and the issuer does not; STS compares them byte for byte"
	case strings.EqualFold(issuer, providerURL):
		return false, "differs in letter case; STS compares them byte for byte"
	case issuer == "":
		return false, "the discovery document has no issuer"
	}
	return false, "the issuer is not the provider URL; STS looks the provider up by the token's iss"
}

// Discovery is the part of an OIDC discovery document verify reads.
type Discovery struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// FetchDiscovery fetches and decodes the provider's discovery document.
func FetchDiscovery(ctx context.Context, c *http.Client, providerURL string) (*Discovery, Result) {
	const check = "oidc.discovery"
	url := DiscoveryURL(providerURL)
	var d Discovery
	if err := getJSON(ctx, c, url, &d); err != nil {
		return nil, fail(check, "GET "+url, err.Error())
	}
	if d.JWKSURI == "" {
		return &d, fail(check, "GET "+url+": 200", "the document has no jwks_uri")
	}
	return &d, ok(check, "GET %s: 200, jwks_uri %s", url, d.JWKSURI)
}

// CheckIssuer compares the discovery document's issuer with the provider URL.
func CheckIssuer(d *Discovery, providerURL string) Result {
	const check = "oidc.issuer"
	if equal, why := CompareIssuer(d.Issuer, providerURL); !equal {
		return fail(check, fmt.Sprintf("issuer %q ≠ provider URL %q", d.Issuer, providerURL), why)
	}
	return ok(check, "issuer %q = provider URL", d.Issuer)
}

// CheckJWKS fetches the discovery document's jwks_uri and requires at least
// one usable signing key.
func CheckJWKS(ctx context.Context, c *http.Client, d *Discovery, now time.Time) Result {
	const check = "oidc.jwks"
	if !strings.HasPrefix(d.JWKSURI, "https://") {
		return fail(check, "jwks_uri "+d.JWKSURI, "AWS fetches keys only over https")
	}
	var raw json.RawMessage
	if err := getJSON(ctx, c, d.JWKSURI, &raw); err != nil {
		return fail(check, "GET "+d.JWKSURI, err.Error())
	}
	set, err := ParseJWKS(raw, now)
	if err != nil {
		return fail(check, "GET "+d.JWKSURI+": 200", err.Error())
	}
	if len(set.Usable) == 0 {
		detail := "no usable signing key"
		if len(set.Rejected) > 0 {
			detail += ": " + strings.Join(set.Rejected, "; ")
		}
		return fail(check, fmt.Sprintf("%s: %s", d.JWKSURI, plural(set.Keys, "key")), detail)
	}
	return ok(check, "%s: %s, %d usable for signatures (%s)", d.JWKSURI, plural(set.Keys, "key"), len(set.Usable), strings.Join(set.Usable, ", "))
}

// JWKS summarises a JSON Web Key Set.
type JWKS struct {
	// Keys is how many keys the set holds.
	Keys int
	// Usable names the usable signing keys ("kid RS256" or "#2 EC").
	Usable []string
	// Rejected says why each other key is not usable.
	Rejected []string
}

// jwk holds the members of a JSON Web Key that decide whether it can verify
// a token signature.
type jwk struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	Kid    string   `json:"kid"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	Crv    string   `json:"crv"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
	D      string   `json:"d"`
	X5c    []string `json:"x5c"`
	// Exp is not standard, but some issuers publish it on retired keys.
	Exp *float64 `json:"exp"`
}

// ParseJWKS parses a JWK set and sorts its keys into usable signing keys
// and rejected ones. A usable signing key has kty RSA with n and e, or kty
// EC with crv, x and y (all valid base64url); use "sig" or no use; key_ops,
// when present, including "verify"; and is not expired (an exp member in
// the past, or an x5c certificate past its NotAfter).
func ParseJWKS(data []byte, now time.Time) (JWKS, error) {
	var doc struct {
		Keys *[]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return JWKS{}, fmt.Errorf("not a JWK set: %v", err)
	}
	if doc.Keys == nil {
		return JWKS{}, fmt.Errorf("not a JWK set: no keys member")
	}
	set := JWKS{Keys: len(*doc.Keys)}
	for i, raw := range *doc.Keys {
		var k jwk
		name := fmt.Sprintf("#%d", i+1)
		if err := json.Unmarshal(raw, &k); err != nil {
			set.Rejected = append(set.Rejected, fmt.Sprintf("%s: not a JSON object", name))
			continue
		}
		if k.Kid != "" {
			name = k.Kid
		}
		if why := unusable(k, now); why != "" {
			set.Rejected = append(set.Rejected, name+": "+why)
			continue
		}
		label := name
		if k.Alg != "" {
			label += " " + k.Alg
		} else {
			label += " " + k.Kty
		}
		set.Usable = append(set.Usable, label)
	}
	return set, nil
}

// unusable says why k cannot verify token signatures, or "".
func unusable(k jwk, now time.Time) string {
	switch k.Kty {
	case "RSA":
		if !b64Valid(k.N) || !b64Valid(k.E) {
			return "RSA key without valid n and e"
		}
		if n, _ := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "=")); new(big.Int).SetBytes(n).BitLen() < 1024 {
			return "RSA modulus shorter than 1024 bits"
		}
	case "EC":
		if k.Crv == "" || !b64Valid(k.X) || !b64Valid(k.Y) {
			return "EC key without crv and valid x and y"
		}
	case "":
		return "no kty"
	default:
		return "kty " + k.Kty + " (expected RSA or EC)"
	}
	if k.D != "" {
		return "a private key is published (d member)"
	}
	if k.Use != "" && k.Use != "sig" {
		return "use " + k.Use + " (expected sig)"
	}
	if k.KeyOps != nil && !slices.Contains(k.KeyOps, "verify") {
		return "key_ops without verify"
	}
	if k.Exp != nil && time.Unix(int64(*k.Exp), 0).Before(now) {
		return "expired on " + time.Unix(int64(*k.Exp), 0).UTC().Format(time.RFC3339)
	}
	if len(k.X5c) > 0 {
		der, err := base64.StdEncoding.DecodeString(k.X5c[0])
		if err != nil {
			return "x5c is not base64"
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return "x5c is not a certificate"
		}
		if cert.NotAfter.Before(now) {
			return "x5c certificate expired on " + cert.NotAfter.UTC().Format(time.RFC3339)
		}
	}
	return ""
}

func b64Valid(s string) bool {
	if s == "" {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	return err == nil
}

// CheckAudience requires the IAM provider's client IDs to include the
// audience tokens carry.
func CheckAudience(clientIDs []string, audience string) Result {
	const check = "oidc.audience"
	if slices.Contains(clientIDs, audience) {
		return ok(check, "client IDs include %s", audience)
	}
	return fail(check, fmt.Sprintf("client IDs [%s] lack %s", strings.Join(clientIDs, ", "), audience), "STS rejects tokens whose aud is not a client ID of the provider")
}
