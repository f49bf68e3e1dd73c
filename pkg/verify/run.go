package verify

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Checks lists every check in the order Run reports them. The part before
// the dot is the check's group; --skip accepts either.
var Checks = []string{
	"dns.record",
	"dns.resolve",
	"host.instance",
	"host.eip",
	"tls.certificate",
	"tls.expiry",
	"oidc.discovery",
	"oidc.issuer",
	"oidc.jwks",
	"oidc.audience",
	"oidc.thumbprint",
	"iam.trust",
	"s3.public_access",
	"s3.policy",
}

// ParseSkip checks names given to --skip (check names or groups such as
// "tls") and returns them as a set.
func ParseSkip(names []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		known := slices.Contains(Checks, n)
		for _, c := range Checks {
			known = known || strings.HasPrefix(c, n+".")
		}
		if !known {
			return nil, fmt.Errorf("--skip %s: no such check or group (checks: %s)", n, strings.Join(Checks, ", "))
		}
		out[n] = true
	}
	return out, nil
}

// Inputs are the env's resources as envctl read them. A nil field means
// the env declares no resource of that type, and its checks are skipped.
type Inputs struct {
	Record   *Record
	EIP      *EIP
	Instance *Instance
	Provider *Provider
	Role     *Role
	Bucket   *Bucket
}

// Declared identifies a declared resource and says whether it exists.
type Declared struct {
	// ID is the resource's id in the env file.
	ID string
	// Live is false when the resource is declared but absent.
	Live bool
}

// Record is a route53_record.
type Record struct {
	Declared
	Name, Type string
	Values     []string // live values
}

// EIP is an elastic_ip.
type EIP struct {
	Declared
	PublicIP string
	Instance string // id of the associated instance, "" when none
}

// Instance is an ec2_instance.
type Instance struct {
	Declared
	InstanceID string
	State      string // "running", "stopped", ...
}

// Provider is an iam_oidc_provider.
type Provider struct {
	Declared
	URL         string // declared, so known even when absent
	ARN         string
	ClientIDs   []string
	Thumbprints []string
}

// Role is an iam_role.
type Role struct {
	Declared
	Name        string
	TrustPolicy map[string]any
	// OtherProviders maps the host/path of other envs' providers to their
	// env names.
	OtherProviders map[string]string
}

// Bucket is an s3_bucket.
type Bucket struct {
	Declared
	Name              string
	BlockPublicAccess bool
	Policy            map[string]any // live; nil when none
	DeclaredPolicy    map[string]any // resolved from the file; nil when none
}

// Options tune the checks.
type Options struct {
	Network Network
	// Resolver answers dns.resolve; nil means the system resolver.
	Resolver Resolver
	// ResolverName names it in the report ("system resolver", "10.0.0.2:53").
	ResolverName string
	// Audience is the client ID tokens carry; "" means DefaultAudience.
	Audience           string
	WarnDays, FailDays int
	// Skip holds check names and groups not to run.
	Skip map[string]bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o *Options) skipped(check string) bool {
	group, _, _ := strings.Cut(check, ".")
	return o.Skip[check] || o.Skip[group]
}

func absent(check string, d Declared, typ string) Result {
	return fail(check, fmt.Sprintf("%s (%s) is declared but does not exist", d.ID, typ), "run envctl apply")
}

// Run runs every check that is not skipped and returns one result per
// entry of Checks, in that order.
func Run(ctx context.Context, in Inputs, o Options) []Result {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Audience == "" {
		o.Audience = DefaultAudience
	}
	if o.WarnDays == 0 && o.FailDays == 0 {
		o.WarnDays, o.FailDays = DefaultWarnDays, DefaultFailDays
	}
	if o.Resolver == nil {
		o.Resolver, o.ResolverName = net.DefaultResolver, "system resolver"
	}
	r := &runner{in: in, o: o}
	var out []Result
	for _, name := range Checks {
		if o.skipped(name) {
			out = append(out, Result{Name: name, Status: Skipped, Value: "skipped by --skip"})
			continue
		}
		res := r.run(ctx, name)
		res.Name = name
		out = append(out, res)
	}
	return out
}

// runner runs one check at a time, fetching the certificate chain and the
// discovery document once for all the checks that need them.
type runner struct {
	in Inputs
	o  Options

	chainDone     bool
	chainReported bool
	chain         []*x509.Certificate
	chainErr      error
	disc          *Discovery
	discRes       Result
	discDone      bool
}

func (r *runner) run(ctx context.Context, name string) Result {
	in := r.in
	switch name {
	case "dns.record":
		switch {
		case in.Record == nil:
			return skipped(name, "no route53_record declared")
		case !in.Record.Live:
			return absent(name, in.Record.Declared, "route53_record")
		case in.EIP == nil:
			return skipped(name, fmt.Sprintf("%s %s %s; no elastic_ip declared to compare with", in.Record.Name, in.Record.Type, strings.Join(in.Record.Values, ",")))
		case !in.EIP.Live:
			return absent(name, in.EIP.Declared, "elastic_ip")
		}
		return CheckRecord(in.Record.Name, in.Record.Type, in.Record.Values, in.EIP.PublicIP)
	case "dns.resolve":
		if in.Record == nil {
			return skipped(name, "no route53_record declared")
		}
		if in.Record.Type != "A" && in.Record.Type != "AAAA" {
			return skipped(name, "record type "+in.Record.Type+" (only A and AAAA are resolved)")
		}
		var want []string
		switch {
		case in.EIP != nil && in.EIP.Live:
			want = []string{in.EIP.PublicIP}
		case in.Record.Live:
			want = in.Record.Values
		default:
			return absent(name, in.Record.Declared, "route53_record")
		}
		return CheckResolve(ctx, r.o.Resolver, r.o.ResolverName, in.Record.Name, want)
	case "host.instance":
		switch {
		case in.Instance == nil:
			return skipped(name, "no ec2_instance declared")
		case !in.Instance.Live:
			return absent(name, in.Instance.Declared, "ec2_instance")
		}
		return CheckInstance(in.Instance.InstanceID, in.Instance.State)
	case "host.eip":
		switch {
		case in.EIP == nil:
			return skipped(name, "no elastic_ip declared")
		case !in.EIP.Live:
			return absent(name, in.EIP.Declared, "elastic_ip")
		case in.Instance == nil:
			return skipped(name, "no ec2_instance declared")
		case !in.Instance.Live:
			return absent(name, in.Instance.Declared, "ec2_instance")
		}
		return CheckEIP(in.EIP.PublicIP, in.EIP.Instance, in.Instance.InstanceID)
	case "tls.certificate", "tls.expiry", "oidc.thumbprint":
		if in.Provider == nil {
			return skipped(name, "no iam_oidc_provider declared")
		}
		if name == "oidc.thumbprint" {
			if !in.Provider.Live {
				return absent(name, in.Provider.Declared, "iam_oidc_provider")
			}
			if len(in.Provider.Thumbprints) == 0 {
				return CheckThumbprint(nil, nil)
			}
		}
		host, hostport, err := providerHost(in.Provider.URL)
		if err != nil {
			return fail(name, in.Provider.URL, err.Error())
		}
		chain, err := r.fetchChain(ctx, hostport, host)
		if err != nil {
			// The connection error is reported once, by the first check
			// that runs.
			if name == "tls.certificate" || r.o.skipped("tls.certificate") && !r.chainReported {
				r.chainReported = true
				return fail(name, "connect to "+hostport, err.Error())
			}
			return skipped(name, "no certificate: the connection failed (see above)")
		}
		switch name {
		case "tls.certificate":
			return CheckCertificate(chain, host, r.o.Network.Roots, r.o.Now())
		case "tls.expiry":
			return CheckExpiry(chain, r.o.Now(), r.o.WarnDays, r.o.FailDays)
		}
		return CheckThumbprint(chain, in.Provider.Thumbprints)
	case "oidc.discovery", "oidc.issuer", "oidc.jwks":
		if in.Provider == nil {
			return skipped(name, "no iam_oidc_provider declared")
		}
		d, res := r.discovery(ctx)
		switch {
		case name == "oidc.discovery":
			return res
		case d == nil:
			return skipped(name, "no discovery document (see oidc.discovery)")
		case name == "oidc.issuer":
			return CheckIssuer(d, in.Provider.URL)
		case d.JWKSURI == "":
			return skipped(name, "no jwks_uri (see oidc.discovery)")
		}
		return CheckJWKS(ctx, r.o.Network.Client(), d, r.o.Now())
	case "oidc.audience":
		switch {
		case in.Provider == nil:
			return skipped(name, "no iam_oidc_provider declared")
		case !in.Provider.Live:
			return absent(name, in.Provider.Declared, "iam_oidc_provider")
		}
		return CheckAudience(in.Provider.ClientIDs, r.o.Audience)
	case "iam.trust":
		switch {
		case in.Role == nil:
			return skipped(name, "no iam_role declared")
		case !in.Role.Live:
			return absent(name, in.Role.Declared, "iam_role")
		case in.Provider == nil:
			return skipped(name, "no iam_oidc_provider declared")
		}
		return CheckTrust(in.Role.Name, in.Role.TrustPolicy, in.Provider.ARN, in.Role.OtherProviders)
	case "s3.public_access", "s3.policy":
		switch {
		case in.Bucket == nil:
			return skipped(name, "no s3_bucket declared")
		case !in.Bucket.Live:
			return absent(name, in.Bucket.Declared, "s3_bucket")
		case name == "s3.public_access":
			return CheckPublicAccess(in.Bucket.Name, in.Bucket.BlockPublicAccess)
		}
		return CheckBucketPolicy(in.Bucket.Name, in.Bucket.Policy, in.Bucket.DeclaredPolicy)
	}
	return fail(name, "", "unknown check")
}

func (r *runner) fetchChain(ctx context.Context, hostport, host string) ([]*x509.Certificate, error) {
	if !r.chainDone {
		r.chainDone = true
		r.chain, r.chainErr = r.o.Network.FetchChain(ctx, hostport, host)
	}
	return r.chain, r.chainErr
}

func (r *runner) discovery(ctx context.Context) (*Discovery, Result) {
	if !r.discDone {
		r.discDone = true
		r.disc, r.discRes = FetchDiscovery(ctx, r.o.Network.Client(), r.in.Provider.URL)
	}
	return r.disc, r.discRes
}

// providerHost returns the host of a provider URL (the broker's name) and
// the host:port to connect to.
func providerHost(providerURL string) (host, hostport string, err error) {
	u, err := url.Parse(providerURL)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return "", "", fmt.Errorf("provider URL %q is not an https URL", providerURL)
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return u.Hostname(), net.JoinHostPort(u.Hostname(), port), nil
}
