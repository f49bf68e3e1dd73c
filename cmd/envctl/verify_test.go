package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/verify"
	"github.com/litentry/envctl/pkg/verify/verifytest"
)

const verifyHost = "verify.example.test"

// verifyEnv is an env with a broker name, its OIDC provider, role and
// bucket, and a DNS record. THUMBPRINT is replaced by the test CA's.
const verifyEnv = `env: verify
account_id: "123456789012"
region: us-east-1
vars:
  hostname: verify.example.test
resources:
  dns:
    type: route53_record
    zone: example.test
    name: ${var.hostname}
    record_type: A
    ttl: 60
    values: ["203.0.113.7"]
  oidc:
    type: iam_oidc_provider
    url: https://${var.hostname}
    client_ids: [sts.amazonaws.com]
    thumbprints: [THUMBPRINT]
  role:
    type: iam_role
    name: agentkeys-data-role-verify
    trust_policy:
      Version: "2012-10-17"
      Statement:
        - Sid: BrokerIssuedTokens
          Effect: Allow
          Principal: {Federated: "${oidc.arn}"}
          Action: [sts:AssumeRoleWithWebIdentity, sts:TagSession]
          Condition:
            StringEquals: {"${var.hostname}:aud": sts.amazonaws.com}
  bucket:
    type: s3_bucket
    name: agentkeys-mail-verify-${env.account_id}
    force_destroy: true
    policy:
      Version: "2012-10-17"
      Statement:
        - Sid: DenyInsecureTransport
          Effect: Deny
          Principal: "*"
          Action: "s3:*"
          Resource: ["arn:aws:s3:::agentkeys-mail-verify-${env.account_id}", "arn:aws:s3:::agentkeys-mail-verify-${env.account_id}/*"]
          Condition: {Bool: {aws:SecureTransport: "false"}}
`

// verifyFixture is an applied verify env with a broker (HTTPS, OIDC
// discovery, JWKS) and a DNS server that answer for verify.example.test.
type verifyFixture struct {
	*harness
	ca     *verifytest.CA
	broker *verifytest.OIDC
	dns    *verifytest.DNS
	caFile string
}

func newVerifyFixture(t *testing.T, envYAML string) *verifyFixture {
	t.Helper()
	c := newCLI(t)
	ca := verifytest.NewCA(t)
	envYAML = strings.ReplaceAll(envYAML, "THUMBPRINT", verify.Thumbprint(ca.Intermediate))
	if err := os.WriteFile(filepath.Join(c.dir, "verify.yaml"), []byte(envYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.clients.Route53.CreateHostedZone(moto.Context(t), &route53.CreateHostedZoneInput{
		Name: aws.String("example.test"), CallerReference: aws.String("envctl-verify-test"),
	}); err != nil {
		t.Fatal(err)
	}
	c.must(0, "apply", "--env", "verify", "--auto-approve")

	f := &verifyFixture{harness: c, ca: ca}
	f.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(f.caFile, ca.RootPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	f.broker = verifytest.NewOIDC(t, verifyHost, ca.Issue(t, verifyHost, time.Now().AddDate(0, 0, 60).Add(time.Hour)), verifytest.NewIssuer(t).JWK())
	f.dns = verifytest.NewDNS(t)
	f.dns.SetA(verifyHost, "203.0.113.7")
	return f
}

// verify runs envctl verify with the broker's name pointed at the test
// server, the test CA trusted and the test DNS server as resolver.
func (f *verifyFixture) verify(want int, extra ...string) result {
	f.t.Helper()
	args := append([]string{"verify", "--env", "verify",
		"--resolve", verifyHost + ":443:" + f.broker.Addr(),
		"--ca-file", f.caFile,
		"--resolver", f.dns.Addr()}, extra...)
	return f.must(want, args...)
}

// line returns the report line of a check.
func line(t *testing.T, out, check string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[1] == check {
			return l
		}
	}
	t.Fatalf("no line for %s in:\n%s", check, out)
	return ""
}

func statusOf(t *testing.T, out, check string) string {
	t.Helper()
	return strings.Fields(line(t, out, check))[0]
}

func TestVerifyAllOK(t *testing.T) {
	f := newVerifyFixture(t, verifyEnv)
	r := f.verify(0)
	want := map[string]string{
		"dns.record":       "skipped", // no elastic_ip to compare with
		"dns.resolve":      "ok",
		"host.instance":    "skipped",
		"host.eip":         "skipped",
		"tls.certificate":  "ok",
		"tls.expiry":       "ok",
		"oidc.discovery":   "ok",
		"oidc.issuer":      "ok",
		"oidc.jwks":        "ok",
		"oidc.audience":    "ok",
		"oidc.thumbprint":  "ok",
		"iam.trust":        "ok",
		"s3.public_access": "ok",
		"s3.policy":        "ok",
	}
	for check, status := range want {
		if got := statusOf(t, r.out, check); got != status {
			t.Errorf("%s: %s, want %s\n%s", check, got, status, r.out)
		}
	}
	contains(t, "report", r.out,
		"Verify env verify (account 123456789012, us-east-1)",
		"verify.example.test → 203.0.113.7 via "+f.dns.Addr(),
		"verify.example.test: valid for the name, issued by \"envctl Test Intermediate\"",
		"certificate expires in 60 days",
		`issuer "https://verify.example.test" = provider URL`,
		"1 usable for signatures (test-key-1 RS256)",
		"client IDs include sts.amazonaws.com",
		"SHA-1 of \"envctl Test Intermediate\"",
		"role agentkeys-data-role-verify trusts arn:aws:iam::123456789012:oidc-provider/verify.example.test only",
		"agentkeys-mail-verify-123456789012 has the declared policy",
		"no ec2_instance declared",
		"Verify: 11 ok, 0 warn, 0 failed, 3 skipped.")
	if strings.Contains(r.out, "\x1b[") {
		t.Errorf("colour codes in non-terminal output")
	}
}

func TestVerifyFailures(t *testing.T) {
	f := newVerifyFixture(t, verifyEnv)
	good := f.broker.Cert
	tests := []struct {
		name   string
		change func()
		exit   int
		check  string
		status string
		wants  []string
	}{
		{
			name:   "issuer with a trailing slash",
			change: func() { f.broker.Set(func(o *verifytest.OIDC) { o.Issuer = "https://" + verifyHost + "/" }) },
			exit:   1, check: "oidc.issuer", status: "fail",
			wants: []string{`issuer "https://verify.example.test/" ≠ provider URL "https://verify.example.test"`, "trailing slash"},
		},
		{
			name: "expired certificate",
			change: func() {
				f.broker.Set(func(o *verifytest.OIDC) { o.Cert = f.ca.Issue(t, verifyHost, time.Now().Add(-49*time.Hour)) })
			},
			exit: 1, check: "tls.expiry", status: "fail",
			wants: []string{"certificate expired 2 days ago", "renew the certificate on the host", "expired on"},
		},
		{
			name: "certificate expiring soon",
			change: func() {
				f.broker.Set(func(o *verifytest.OIDC) {
					o.Cert = f.ca.Issue(t, verifyHost, time.Now().AddDate(0, 0, 10).Add(time.Hour))
				})
			},
			exit: 0, check: "tls.expiry", status: "warn",
			wants: []string{"certificate expires in 10 days", "fewer than 21 days left"},
		},
		{
			name:   "JWKS without keys",
			change: func() { f.broker.Set(func(o *verifytest.OIDC) { o.Keys = nil }) },
			exit:   1, check: "oidc.jwks", status: "fail",
			wants: []string{"https://verify.example.test/jwks: 0 keys", "no usable signing key"},
		},
		{
			name:   "name resolving to the wrong address",
			change: func() { f.dns.SetA(verifyHost, "198.51.100.9") },
			exit:   1, check: "dns.resolve", status: "fail",
			wants: []string{"verify.example.test → 198.51.100.9 via", "expected 203.0.113.7"},
		},
		{
			name: "certificate for another name",
			change: func() {
				f.broker.Set(func(o *verifytest.OIDC) { o.Cert = f.ca.Issue(t, "other.example.test", time.Now().AddDate(0, 2, 0)) })
			},
			exit: 1, check: "tls.certificate", status: "fail",
			wants: []string{"not valid for verify.example.test (valid for other.example.test)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := f.broker.Keys
			defer func() {
				f.broker.Set(func(o *verifytest.OIDC) { o.Issuer, o.Cert, o.Keys = "https://"+verifyHost, good, keys })
				f.dns.SetA(verifyHost, "203.0.113.7")
			}()
			tt.change()
			r := f.verify(tt.exit)
			if got := statusOf(t, r.out, tt.check); got != tt.status {
				t.Errorf("%s: %s, want %s\n%s", tt.check, got, tt.status, r.out)
			}
			contains(t, "report", r.out, tt.wants...)
			if tt.exit == 1 {
				contains(t, "stderr", r.err, "Error: verify: ")
			} else if r.err != "" {
				t.Errorf("stderr: %s", r.err)
			}
		})
	}
	// The fixture is healthy again after the cases.
	f.verify(0)
}

func TestVerifySkipAndJSON(t *testing.T) {
	f := newVerifyFixture(t, verifyEnv)
	f.broker.Set(func(o *verifytest.OIDC) { o.Issuer += "/" }) // a failure outside the skipped groups

	r := f.verify(1, "--skip", "tls,dns", "--json")
	var rep struct {
		Env     string
		Checks  []verify.Result
		Summary verify.Summary
	}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("verify --json is not JSON: %v\n%s", err, r.out)
	}
	if len(rep.Checks) != len(verify.Checks) || rep.Env != "verify" {
		t.Fatalf("report: %+v", rep)
	}
	got := map[string]verify.Result{}
	for _, c := range rep.Checks {
		got[c.Name] = c
	}
	for _, name := range []string{"tls.certificate", "tls.expiry", "dns.record", "dns.resolve"} {
		if got[name].Status != verify.Skipped || got[name].Value != "skipped by --skip" {
			t.Errorf("%s = %+v, want skipped by --skip", name, got[name])
		}
	}
	if c := got["oidc.issuer"]; c.Status != verify.Fail || !strings.Contains(c.Detail, "trailing slash") {
		t.Errorf("oidc.issuer = %+v", c)
	}
	// The thumbprint still compares the chain: skipping tls skips only its checks.
	if c := got["oidc.thumbprint"]; c.Status != verify.OK {
		t.Errorf("oidc.thumbprint = %+v", c)
	}
	if rep.Summary.Fail != 1 || rep.Summary.Skipped != 6 {
		t.Errorf("summary = %+v", rep.Summary)
	}
	contains(t, "stderr", r.err, "Error: verify: 1 check failed")

	// Text output lists them as skipped too.
	r = f.verify(1, "--skip", "tls", "--skip", "dns.resolve")
	for _, check := range []string{"tls.certificate", "tls.expiry", "dns.resolve"} {
		contains(t, check, line(t, r.out, check), "skipped", "skipped by --skip")
	}

	// An unknown check is refused before any AWS call.
	r = f.must(1, "verify", "--env", "verify", "--skip", "tsl")
	contains(t, "stderr", r.err, "--skip tsl: no such check or group")
}

func TestVerifyAbsentAndUndeclared(t *testing.T) {
	// The core env has no DNS record, host or address: those checks are
	// skipped. Before apply, the declared resources are absent: failures.
	c := newCLI(t, coreFile)
	r := c.must(1, "verify", "--env", "core", "--skip", "tls,oidc.discovery,oidc.issuer,oidc.jwks")
	contains(t, "report", r.out,
		"no route53_record declared",
		"no ec2_instance declared",
		"no elastic_ip declared",
		"oidc (iam_oidc_provider) is declared but does not exist",
		"role (iam_role) is declared but does not exist",
		"bucket (s3_bucket) is declared but does not exist",
		"run envctl apply")
	c.must(0, "apply", "--env", "core", "--auto-approve")
	r = c.must(0, "verify", "--env", "core", "--skip", "tls,oidc.discovery,oidc.issuer,oidc.jwks")
	contains(t, "report", r.out, "Verify: 4 ok, 0 warn, 0 failed, 10 skipped.", "no thumbprints configured")
}

// verifyHostEnv adds the host and its address to the verify env.
var verifyHostEnv = strings.Replace(verifyEnv, `    values: ["203.0.113.7"]`, `    values: ["${ip.public_ip}"]
  host:
    type: ec2_instance
    ami: ami-12c6146b
    instance_type: t3.micro
  ip:
    type: elastic_ip
    instance: ${host.id}`, 1)

func TestVerifyHostAndAddress(t *testing.T) {
	f := newVerifyFixture(t, verifyHostEnv)
	r := f.must(0, "show", "--env", "verify", "--json")
	var shown struct {
		Resources []struct {
			ID      string
			Exports map[string]string
		}
	}
	if err := json.Unmarshal([]byte(r.out), &shown); err != nil {
		t.Fatal(err)
	}
	var eip, instance string
	for _, res := range shown.Resources {
		switch res.ID {
		case "ip":
			eip = res.Exports["public_ip"]
		case "host":
			instance = res.Exports["id"]
		}
	}
	f.dns.SetA(verifyHost, eip)
	r = f.verify(0)
	for _, check := range []string{"dns.record", "dns.resolve", "host.instance", "host.eip"} {
		if got := statusOf(t, r.out, check); got != "ok" {
			t.Errorf("%s: %s\n%s", check, got, r.out)
		}
	}
	contains(t, "report", r.out,
		fmt.Sprintf("verify.example.test A %s = EIP", eip),
		fmt.Sprintf("%s running", instance),
		fmt.Sprintf("%s associated with %s", eip, instance))

	// The record is changed out of band to another address.
	zones, err := f.clients.Route53.ListHostedZonesByName(moto.Context(t), &route53.ListHostedZonesByNameInput{DNSName: aws.String("example.test")})
	if err != nil || len(zones.HostedZones) == 0 {
		t.Fatalf("zone: %v", err)
	}
	if _, err := f.clients.Route53.ChangeResourceRecordSets(moto.Context(t), &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: zones.HostedZones[0].Id,
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{
			Action: r53types.ChangeActionUpsert,
			ResourceRecordSet: &r53types.ResourceRecordSet{
				Name: aws.String(verifyHost), Type: r53types.RRTypeA, TTL: aws.Int64(60),
				ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("198.51.100.9")}},
			},
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	r = f.verify(1)
	contains(t, "dns.record", line(t, r.out, "dns.record"), "fail", fmt.Sprintf("verify.example.test A 198.51.100.9 ≠ EIP %s", eip))
}
