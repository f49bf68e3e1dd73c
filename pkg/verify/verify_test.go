package verify_test

import (
	"context"
	"crypto/sha1" //nolint:gosec // the thumbprint is SHA-1 by definition.
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/litentry/envctl/pkg/verify"
	"github.com/litentry/envctl/pkg/verify/verifytest"
)

func TestVerifyCompareIssuer(t *testing.T) {
	const provider = "https://broker.example.org"
	tests := []struct {
		name, issuer string
		equal        bool
		why          string
	}{
		{"equal", "https://broker.example.org", true, ""},
		{"trailing slash on the issuer", "https://broker.example.org/", false, "trailing slash"},
		{"letter case", "https://Broker.example.org", false, "letter case"},
		{"other host", "https://other.example.org", false, "not the provider URL"},
		{"http", "http://broker.example.org", false, "not the provider URL"},
		{"missing", "", false, "no issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			equal, why := verify.CompareIssuer(tt.issuer, provider)
			if equal != tt.equal || !strings.Contains(why, tt.why) {
				t.Errorf("CompareIssuer(%q) = %v, %q; want %v, containing %q", tt.issuer, equal, why, tt.equal, tt.why)
			}
		})
	}
	// The provider URL with a slash and the issuer without is named too.
	if _, why := verify.CompareIssuer("https://a.example", "https://a.example/"); !strings.HasPrefix(why, "trailing slash") {
		t.Errorf("provider with slash: %q", why)
	}
}

func TestVerifyThumbprint(t *testing.T) {
	ca := verifytest.NewCA(t)
	chain := verifytest.Chain(t, ca.Issue(t, "broker.example.org", time.Now().AddDate(0, 2, 0)))
	sum := sha1.Sum(ca.Intermediate.Raw) //nolint:gosec
	want := hex.EncodeToString(sum[:])
	if got := verify.Thumbprint(ca.Intermediate); got != want {
		t.Fatalf("Thumbprint = %s, want %s", got, want)
	}
	if top := verify.ThumbprintCertificate(chain); top != chain[len(chain)-1] || top.Subject.CommonName != "envctl Test Intermediate" {
		t.Fatalf("ThumbprintCertificate = %s, want the intermediate (the last presented)", top.Subject.CommonName)
	}
	leafPrint := verify.Thumbprint(chain[0])
	tests := []struct {
		name       string
		configured []string
		status     verify.Status
		detail     string
	}{
		{"none configured", nil, verify.Skipped, ""},
		{"matches the top certificate", []string{"0000000000000000000000000000000000000000", want}, verify.OK, ""},
		{"upper case matches", []string{strings.ToUpper(want)}, verify.OK, ""},
		{"matches only the leaf", []string{leafPrint}, verify.Fail, "not of the top certificate AWS uses; set " + want},
		{"matches nothing", []string{"0000000000000000000000000000000000000000"}, verify.Fail, "none of the 1 thumbprint configured matches; set " + want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := verify.CheckThumbprint(chain, tt.configured)
			if r.Status != tt.status || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("CheckThumbprint = %+v; want %s with detail containing %q", r, tt.status, tt.detail)
			}
		})
	}
}

func TestVerifyExpiryThresholds(t *testing.T) {
	ca := verifytest.NewCA(t)
	now := time.Now()
	tests := []struct {
		name   string
		left   time.Duration
		status verify.Status
		value  string
	}{
		{"plenty", 60*24*time.Hour + time.Hour, verify.OK, "expires in 60 days"},
		{"exactly the warn threshold", 21*24*time.Hour + time.Hour, verify.OK, "expires in 21 days"},
		{"just below warn", 21*24*time.Hour - time.Hour, verify.Warn, "expires in 20 days"},
		{"exactly the fail threshold", 7*24*time.Hour + time.Hour, verify.Warn, "expires in 7 days"},
		{"just below fail", 7*24*time.Hour - time.Hour, verify.Fail, "expires in 6 days"},
		{"one day", 36 * time.Hour, verify.Fail, "expires in 1 day "},
		{"expired", -3*24*time.Hour - time.Hour, verify.Fail, "expired 3 days ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chain := verifytest.Chain(t, ca.Issue(t, "broker.example.org", now.Add(tt.left)))
			r := verify.CheckExpiry(chain, now, verify.DefaultWarnDays, verify.DefaultFailDays)
			if r.Status != tt.status || !strings.Contains(r.Value, tt.value) {
				t.Errorf("CheckExpiry = %+v; want %s with value containing %q", r, tt.status, tt.value)
			}
		})
	}
}

func TestVerifyCheckCertificate(t *testing.T) {
	ca := verifytest.NewCA(t)
	now := time.Now()
	good := verifytest.Chain(t, ca.Issue(t, "broker.example.org", now.AddDate(0, 1, 0)))
	expired := verifytest.Chain(t, ca.Issue(t, "broker.example.org", now.Add(-time.Hour)))
	tests := []struct {
		name   string
		chain  int
		host   string
		pooled bool
		status verify.Status
		detail string
	}{
		{"valid", 0, "broker.example.org", true, verify.OK, ""},
		{"wrong name", 0, "other.example.org", true, verify.Fail, "not valid for other.example.org (valid for broker.example.org)"},
		{"untrusted root", 0, "broker.example.org", false, verify.Fail, "does not chain to a trusted root; for a private CA pass --ca-file"},
		{"expired", 1, "broker.example.org", true, verify.Fail, "expired on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chain := [][]*x509.Certificate{good, expired}[tt.chain]
			roots := ca.Pool()
			if !tt.pooled {
				roots = verifytest.NewCA(t).Pool()
			}
			r := verify.CheckCertificate(chain, tt.host, roots, now)
			if r.Status != tt.status || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("CheckCertificate = %+v; want %s with detail containing %q", r, tt.status, tt.detail)
			}
		})
	}
}

func TestVerifyParseJWKS(t *testing.T) {
	iss := verifytest.NewIssuer(t)
	rsaKey := iss.JWK()
	with := func(k map[string]any, set map[string]any) map[string]any {
		out := map[string]any{}
		for n, v := range k {
			out[n] = v
		}
		for n, v := range set {
			if v == nil {
				delete(out, n)
			} else {
				out[n] = v
			}
		}
		return out
	}
	ec := map[string]any{"kty": "EC", "crv": "P-256", "kid": "ec1", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
	now := time.Now()
	tests := []struct {
		name     string
		keys     []map[string]any
		usable   []string
		rejected []string
	}{
		{"RSA with use sig", []map[string]any{rsaKey}, []string{"test-key-1 RS256"}, nil},
		{"RSA without use", []map[string]any{with(rsaKey, map[string]any{"use": nil, "alg": nil})}, []string{"test-key-1 RSA"}, nil},
		{"EC", []map[string]any{ec}, []string{"ec1 EC"}, nil},
		{"no keys", []map[string]any{}, nil, nil},
		{"encryption key", []map[string]any{with(rsaKey, map[string]any{"use": "enc"})}, nil, []string{"test-key-1: use enc (expected sig)"}},
		{"RSA without n", []map[string]any{with(rsaKey, map[string]any{"n": nil})}, nil, []string{"test-key-1: RSA key without valid n and e"}},
		{"EC without y", []map[string]any{with(ec, map[string]any{"y": nil})}, nil, []string{"ec1: EC key without crv and valid x and y"}},
		{"symmetric", []map[string]any{{"kty": "oct", "k": "c2VjcmV0"}}, nil, []string{"#1: kty oct (expected RSA or EC)"}},
		{"expired", []map[string]any{with(rsaKey, map[string]any{"exp": now.Add(-time.Hour).Unix()})}, nil, []string{"test-key-1: expired on"}},
		{"not yet expired", []map[string]any{with(rsaKey, map[string]any{"exp": now.Add(time.Hour).Unix()})}, []string{"test-key-1 RS256"}, nil},
		{"key_ops without verify", []map[string]any{with(rsaKey, map[string]any{"key_ops": []string{"encrypt"}})}, nil, []string{"test-key-1: key_ops without verify"}},
		{"private key published", []map[string]any{with(rsaKey, map[string]any{"d": "AQAB"})}, nil, []string{"test-key-1: a private key is published (d member)"}},
		{"one good of two", []map[string]any{with(rsaKey, map[string]any{"use": "enc", "kid": "old"}), rsaKey}, []string{"test-key-1 RS256"}, []string{"old: use enc (expected sig)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, _ := json.Marshal(map[string]any{"keys": tt.keys})
			got, err := verify.ParseJWKS(data, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.usable, got.Usable); diff != "" {
				t.Errorf("usable (-want +got):\n%s", diff)
			}
			if len(got.Rejected) != len(tt.rejected) {
				t.Fatalf("rejected = %q, want %q", got.Rejected, tt.rejected)
			}
			for i := range tt.rejected {
				if !strings.HasPrefix(got.Rejected[i], tt.rejected[i]) {
					t.Errorf("rejected[%d] = %q, want prefix %q", i, got.Rejected[i], tt.rejected[i])
				}
			}
		})
	}
	for _, bad := range []string{`[]`, `{}`, `not json`} {
		if _, err := verify.ParseJWKS([]byte(bad), now); err == nil {
			t.Errorf("ParseJWKS(%s): no error", bad)
		}
	}
}

func TestVerifyParseResolve(t *testing.T) {
	tests := []struct {
		in   string
		want verify.Override
		err  string
	}{
		{"broker.example.org:443:127.0.0.1", verify.Override{Host: "broker.example.org", Port: "443", Addr: "127.0.0.1:443"}, ""},
		{"Broker.Example.org:443:127.0.0.1:8443", verify.Override{Host: "broker.example.org", Port: "443", Addr: "127.0.0.1:8443"}, ""},
		{"b.example:443:::1", verify.Override{Host: "b.example", Port: "443", Addr: "[::1]:443"}, ""},
		{"b.example:443:[::1]", verify.Override{Host: "b.example", Port: "443", Addr: "[::1]:443"}, ""},
		{"b.example:443:[::1]:9443", verify.Override{Host: "b.example", Port: "443", Addr: "[::1]:9443"}, ""},
		{"b.example:443", verify.Override{}, "no address"},
		{"b.example:https:127.0.0.1", verify.Override{}, "is not a number"},
		{"b.example:443:localhost", verify.Override{}, "is not an IP address"},
		{"b.example:443:127.0.0.1:0", verify.Override{}, "bad port"},
		{":443:127.0.0.1", verify.Override{}, "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := verify.ParseResolve(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseResolve error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyCheckTrust(t *testing.T) {
	const mine = "arn:aws:iam::123456789012:oidc-provider/test-broker.example.org"
	const prods = "arn:aws:iam::123456789012:oidc-provider/broker.example.org"
	others := map[string]string{"broker.example.org": "prod"}
	trust := func(principals any, audKey string) map[string]any {
		return map[string]any{"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Federated": principals},
			"Action":    "sts:AssumeRoleWithWebIdentity",
			"Condition": map[string]any{"StringEquals": map[string]any{audKey: "sts.amazonaws.com"}},
		}}}
	}
	tests := []struct {
		name   string
		doc    map[string]any
		status verify.Status
		value  string
	}{
		{"own provider", trust(mine, "test-broker.example.org:aud"), verify.OK, "trusts " + mine + " only"},
		{"prod's provider", trust([]any{mine, prods}, "test-broker.example.org:aud"), verify.Fail, "the provider of env prod"},
		{"prod's condition key", trust(mine, "broker.example.org:aud"), verify.Fail, "conditions on broker.example.org"},
		{"missing own provider", trust("arn:aws:iam::123456789012:oidc-provider/elsewhere.example", "elsewhere.example:aud"), verify.Fail, "trusts arn:aws:iam::123456789012:oidc-provider/elsewhere.example"},
		{"another unknown principal", trust([]any{mine, "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, "test-broker.example.org:aud"), verify.Warn, "and also"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := verify.CheckTrust("role-test", tt.doc, mine, others)
			if r.Status != tt.status || !strings.Contains(r.Value, tt.value) {
				t.Errorf("CheckTrust = %+v; want %s with value containing %q", r, tt.status, tt.value)
			}
		})
	}
}

func TestVerifyCheckBucketPolicy(t *testing.T) {
	declared := map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Sid": "A", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}}}
	same := map[string]any{"Statement": map[string]any{"Sid": "A", "Effect": "Deny", "Principal": "*", "Action": []any{"s3:*"}, "Resource": []any{"arn:aws:s3:::b/*"}}}
	other := map[string]any{"Statement": map[string]any{"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}}
	for _, tt := range []struct {
		name           string
		live, declared map[string]any
		status         verify.Status
		detail         string
	}{
		{"equal in meaning", same, declared, verify.OK, ""},
		{"differs", other, declared, verify.Fail, "Statement[A]"},
		{"none live", nil, declared, verify.Fail, "expected the declared policy"},
		{"none declared", other, nil, verify.Skipped, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := verify.CheckBucketPolicy("b", tt.live, tt.declared)
			if r.Status != tt.status || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("CheckBucketPolicy = %+v; want %s, detail containing %q", r, tt.status, tt.detail)
			}
		})
	}
}

type fakeResolver map[string][]string

func (f fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func TestVerifyRunSkipsAndOrders(t *testing.T) {
	in := verify.Inputs{
		Record:   &verify.Record{Declared: verify.Declared{ID: "dns", Live: true}, Name: "b.example", Type: "A", Values: []string{"203.0.113.7"}},
		EIP:      &verify.EIP{Declared: verify.Declared{ID: "ip", Live: true}, PublicIP: "203.0.113.7", Instance: "i-1"},
		Instance: &verify.Instance{Declared: verify.Declared{ID: "host", Live: true}, InstanceID: "i-1", State: "running"},
		Bucket:   &verify.Bucket{Declared: verify.Declared{ID: "bucket"}},
	}
	skip, err := verify.ParseSkip([]string{"tls", "oidc.jwks"})
	if err != nil {
		t.Fatal(err)
	}
	res := verify.Run(context.Background(), in, verify.Options{
		Resolver: fakeResolver{"b.example": {"203.0.113.7", "2001:db8::1"}}, ResolverName: "fake", Skip: skip,
	})
	var got []string
	for _, r := range res {
		got = append(got, fmt.Sprintf("%s %s", r.Status, r.Name))
	}
	want := []string{
		"ok dns.record", "ok dns.resolve", "ok host.instance", "ok host.eip",
		"skipped tls.certificate", "skipped tls.expiry",
		"skipped oidc.discovery", "skipped oidc.issuer", "skipped oidc.jwks", "skipped oidc.audience", "skipped oidc.thumbprint",
		"skipped iam.trust", "fail s3.public_access", "fail s3.policy",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if res[4].Value != "skipped by --skip" || res[6].Value != "no iam_oidc_provider declared" || res[12].Value != "bucket (s3_bucket) is declared but does not exist" {
		t.Errorf("skip reasons: %q, %q, %q", res[4].Value, res[6].Value, res[12].Value)
	}

	// The name resolving elsewhere fails.
	in.Record.Values = []string{"198.51.100.9"}
	res = verify.Run(context.Background(), in, verify.Options{Resolver: fakeResolver{"b.example": {"198.51.100.9"}}, ResolverName: "fake", Skip: skip})
	if res[0].Status != verify.Fail || res[0].Value != "b.example A 198.51.100.9 ≠ EIP 203.0.113.7" {
		t.Errorf("dns.record = %+v", res[0])
	}
	if res[1].Status != verify.Fail || res[1].Value != "b.example → 198.51.100.9 via fake" {
		t.Errorf("dns.resolve = %+v", res[1])
	}

	if _, err := verify.ParseSkip([]string{"tsl"}); err == nil || !strings.Contains(err.Error(), "no such check") {
		t.Errorf("ParseSkip(tsl) = %v", err)
	}
}

func TestVerifyRunAgainstBroker(t *testing.T) {
	ca := verifytest.NewCA(t)
	const host = "broker.example.test"
	srv := verifytest.NewOIDC(t, host, ca.Issue(t, host, time.Now().AddDate(0, 0, 30).Add(time.Hour)), verifytest.NewIssuer(t).JWK())
	// The JWKS lives on another name, also served by the test server.
	srv.Set(func(o *verifytest.OIDC) { o.JWKSURI = "https://keys.example.test:8443/jwks" })
	ov1, _ := verify.ParseResolve(host + ":443:" + srv.Addr())
	ov2, _ := verify.ParseResolve("keys.example.test:8443:" + srv.Addr())
	in := verify.Inputs{Provider: &verify.Provider{
		Declared: verify.Declared{ID: "oidc", Live: true}, URL: "https://" + host,
		ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{verify.Thumbprint(ca.Intermediate)},
	}}
	o := verify.Options{Network: verify.Network{Overrides: []verify.Override{ov1, ov2}, Roots: ca.Pool(), Timeout: 5 * time.Second}}
	res := verify.Run(context.Background(), in, o)
	got := map[string]verify.Result{}
	for _, r := range res {
		got[r.Name] = r
	}
	for _, name := range []string{"tls.certificate", "tls.expiry", "oidc.discovery", "oidc.issuer", "oidc.audience", "oidc.thumbprint"} {
		if got[name].Status != verify.OK {
			t.Errorf("%s = %+v", name, got[name])
		}
	}
	// The key server's certificate is for the broker's name only.
	if r := got["oidc.jwks"]; r.Status != verify.Fail || !strings.Contains(r.Detail, "certificate is valid for broker.example.test, not keys.example.test") {
		t.Errorf("oidc.jwks = %+v", r)
	}

	// Nothing listens for the name: the TLS checks fail once, the OIDC
	// checks that need the document are skipped.
	o.Network.Overrides = nil
	o.Network.Overrides = append(o.Network.Overrides, verify.Override{Host: host, Port: "443", Addr: "127.0.0.1:1"})
	res = verify.Run(context.Background(), in, o)
	got = map[string]verify.Result{}
	for _, r := range res {
		got[r.Name] = r
	}
	if got["tls.certificate"].Status != verify.Fail || got["tls.expiry"].Status != verify.Skipped || got["oidc.thumbprint"].Status != verify.Skipped {
		t.Errorf("tls: %+v / %+v / %+v", got["tls.certificate"], got["tls.expiry"], got["oidc.thumbprint"])
	}
	if got["oidc.discovery"].Status != verify.Fail || got["oidc.issuer"].Status != verify.Skipped || got["oidc.jwks"].Status != verify.Skipped {
		t.Errorf("oidc: %+v / %+v / %+v", got["oidc.discovery"], got["oidc.issuer"], got["oidc.jwks"])
	}
}
