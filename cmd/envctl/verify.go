package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/urfave/cli/v2"

	"github.com/litentry/envctl/pkg/config"
	"github.com/litentry/envctl/pkg/plan"
	"github.com/litentry/envctl/pkg/resources"
	"github.com/litentry/envctl/pkg/verify"
)

// VerifyOptions are the inputs of envctl verify.
type VerifyOptions struct {
	Globals
	Env      string
	JSON     bool
	Resolver string   // DNS server for dns.resolve; "" = system resolver
	Resolve  []string // HOST:PORT:ADDR overrides for connections
	CAFile   string
	WarnDays int
	FailDays int
	Skip     []string
	Audience string
	Timeout  time.Duration
}

func verifyCommand(io *IO) *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check the live env from the outside: DNS, host, TLS, OIDC discovery, IAM trust, bucket",
		UsageText: "envctl verify --env NAME [--json] [--skip CHECK,...] [--resolver ADDR] [--resolve HOST:PORT:ADDR] [--ca-file FILE] [--warn-days N] [--fail-days N]",
		Flags: withCommon(
			&cli.StringFlag{Name: "env", Usage: "the env to verify (DIR/NAME.yaml)"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as one JSON object"},
			&cli.StringSliceFlag{Name: "skip", Usage: "checks or groups not to run, such as tls,dns.resolve (listed as skipped)"},
			&cli.StringFlag{Name: "resolver", Usage: "DNS server (HOST[:PORT]) for the dns.resolve check; default the system resolver"},
			&cli.StringSliceFlag{Name: "resolve", Usage: "connect to HOST:PORT at ADDR instead (as curl's --resolve); ADDR may carry its own port; repeatable"},
			&cli.StringFlag{Name: "ca-file", Usage: "PEM file of extra trusted root CAs (a private test CA)"},
			&cli.IntFlag{Name: "warn-days", Value: verify.DefaultWarnDays, Usage: "warn when the certificate expires in fewer days"},
			&cli.IntFlag{Name: "fail-days", Value: verify.DefaultFailDays, Usage: "fail when the certificate expires in fewer days"},
			&cli.StringFlag{Name: "audience", Value: verify.DefaultAudience, Usage: "the client ID the OIDC provider must list"},
			&cli.DurationFlag{Name: "timeout", Value: 10 * time.Second, Usage: "timeout of each network request"},
		),
		Action: func(c *cli.Context) error {
			name, err := requireEnv(c)
			if err != nil {
				return err
			}
			return runVerify(c.Context, io, VerifyOptions{
				Globals: globals(c), Env: name, JSON: c.Bool("json"),
				Resolver: c.String("resolver"), Resolve: c.StringSlice("resolve"), CAFile: c.String("ca-file"),
				WarnDays: c.Int("warn-days"), FailDays: c.Int("fail-days"), Skip: c.StringSlice("skip"),
				Audience: c.String("audience"), Timeout: c.Duration("timeout"),
			})
		},
	}
}

// verifyReport is the JSON form of the report; the text form prints the
// same data.
type verifyReport struct {
	Env       string          `json:"env"`
	AccountID string          `json:"account_id"`
	Region    string          `json:"region"`
	Checks    []verify.Result `json:"checks"`
	Summary   verify.Summary  `json:"summary"`
}

func runVerify(ctx context.Context, io *IO, o VerifyOptions) error {
	// Every flag is checked before the first AWS call.
	vo := verify.Options{Audience: o.Audience, WarnDays: o.WarnDays, FailDays: o.FailDays}
	if o.FailDays > o.WarnDays {
		return fmt.Errorf("--fail-days %d is more than --warn-days %d", o.FailDays, o.WarnDays)
	}
	var err error
	if vo.Skip, err = verify.ParseSkip(o.Skip); err != nil {
		return err
	}
	for _, r := range o.Resolve {
		ov, err := verify.ParseResolve(r)
		if err != nil {
			return err
		}
		vo.Network.Overrides = append(vo.Network.Overrides, ov)
	}
	vo.Network.Timeout = o.Timeout
	if o.CAFile != "" {
		if vo.Network.Roots, err = rootsWith(o.CAFile); err != nil {
			return err
		}
	}
	resolver, err := verify.NewResolver(o.Resolver)
	if err != nil {
		return err
	}
	vo.Resolver, vo.ResolverName = resolver, "system resolver"
	if o.Resolver != "" {
		vo.ResolverName = o.Resolver
	}

	s, err := openSession(ctx, o.Globals, o.Env)
	if err != nil {
		return err
	}
	p, err := s.engine.Plan(ctx, s.env, false)
	if err != nil {
		return err
	}
	in, err := verifyInputs(ctx, s, p, o.Dir)
	if err != nil {
		return err
	}
	results := verify.Run(ctx, in, vo)
	rep := verifyReport{Env: p.Env, AccountID: p.AccountID, Region: p.Region, Checks: results, Summary: verify.Summarize(results)}
	if o.JSON {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeVerifyText(io, rep, o.style(io))
	}
	if n := rep.Summary.Fail; n > 0 {
		return fmt.Errorf("verify: %s failed", countNoun(n, "check"))
	}
	return nil
}

// rootsWith returns the system roots plus the certificates in a PEM file.
func rootsWith(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("--ca-file %s: no PEM certificate in the file", path)
	}
	return pool, nil
}

func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// statusColor pads a status word to width and paints it on a terminal.
func statusColor(st plan.Style, s verify.Status, width int) string {
	word := fmt.Sprintf("%-*s", width, s)
	if !st.Color {
		return word
	}
	code := map[verify.Status]string{verify.OK: "\x1b[32m", verify.Warn: "\x1b[33m", verify.Fail: "\x1b[31m"}[s]
	if code == "" {
		return word
	}
	return code + word + "\x1b[0m"
}

func writeVerifyText(io *IO, rep verifyReport, st plan.Style) {
	fmt.Fprintf(io.Out, "Verify env %s (account %s, %s)\n\n", rep.Env, rep.AccountID, rep.Region)
	width := 0
	for _, r := range rep.Checks {
		width = max(width, len(r.Name))
	}
	for _, r := range rep.Checks {
		fmt.Fprintf(io.Out, "  %s %-*s  %s\n", statusColor(st, r.Status, 7), width, r.Name, r.Value)
		if r.Detail != "" {
			fmt.Fprintf(io.Out, "  %-7s %-*s    %s\n", "", width, "", r.Detail)
		}
	}
	s := rep.Summary
	fmt.Fprintf(io.Out, "\nVerify: %d ok, %d warn, %d failed, %d skipped.\n", s.OK, s.Warn, s.Fail, s.Skipped)
}

// verifyInputs turns what the plan read into the checks' inputs: for each
// type the first declared resource (for DNS, the record named like the
// broker), live or absent.
func verifyInputs(ctx context.Context, s *session, p *plan.Plan, dir string) (verify.Inputs, error) {
	changes := map[string]*plan.Change{}
	for _, c := range p.Changes {
		if c.Action != plan.Delete { // orphans are not declared
			changes[c.ID] = c
		}
	}
	lookup := func(r config.Ref) (string, bool) {
		if c := changes[r.ID]; c != nil && c.Live() != nil {
			v, ok := c.Live().Exports[r.Attr]
			return v, ok
		}
		return "", false
	}
	declaredString := func(r *config.Resource, attr string) string {
		a := r.Schema.Attr(attr)
		if a == nil {
			return ""
		}
		v, known, err := config.Resolve(a, r.Attrs[attr], lookup)
		if err != nil || !known {
			return ""
		}
		str, _ := v.(string)
		return str
	}
	byType := map[string][]*config.Resource{}
	for _, r := range s.env.Resources {
		byType[r.Type] = append(byType[r.Type], r)
	}
	first := func(typ string) (*config.Resource, *resources.Live) {
		rs := byType[typ]
		if len(rs) == 0 {
			return nil, nil
		}
		var live *resources.Live
		if c := changes[rs[0].ID]; c != nil {
			live = c.Live()
		}
		return rs[0], live
	}
	var in verify.Inputs

	if r, l := first("iam_oidc_provider"); r != nil {
		pr := &verify.Provider{Declared: verify.Declared{ID: r.ID, Live: l != nil}, URL: declaredString(r, "url")}
		pr.ARN = fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", s.env.AccountID, verify.ProviderPath(pr.URL))
		if l != nil {
			pr.URL = stringAttr(l.Attrs, "url", pr.URL)
			pr.ARN = l.Exports["arn"]
			pr.ClientIDs = listAttr(l.Attrs, "client_ids")
			pr.Thumbprints = listAttr(l.Attrs, "thumbprints")
		}
		in.Provider = pr
	}

	// The record to check is the one named like the broker, else the first.
	if rs := byType["route53_record"]; len(rs) > 0 {
		r := rs[0]
		if in.Provider != nil {
			host := strings.SplitN(verify.ProviderPath(in.Provider.URL), "/", 2)[0]
			for _, x := range rs {
				if strings.TrimSuffix(declaredString(x, "name"), ".") == host {
					r = x
					break
				}
			}
		}
		rec := &verify.Record{Declared: verify.Declared{ID: r.ID}, Name: declaredString(r, "name"), Type: declaredString(r, "record_type")}
		if c := changes[r.ID]; c != nil && c.Live() != nil {
			l := c.Live()
			rec.Live = true
			rec.Name = stringAttr(l.Attrs, "name", rec.Name)
			rec.Type = stringAttr(l.Attrs, "record_type", rec.Type)
			rec.Values = listAttr(l.Attrs, "values")
		}
		in.Record = rec
	}

	if r, l := first("elastic_ip"); r != nil {
		e := &verify.EIP{Declared: verify.Declared{ID: r.ID, Live: l != nil}}
		if l != nil {
			e.PublicIP = l.Exports["public_ip"]
			e.Instance = stringAttr(l.Attrs, "instance", "")
		}
		in.EIP = e
	}

	if r, l := first("ec2_instance"); r != nil {
		inst := &verify.Instance{Declared: verify.Declared{ID: r.ID, Live: l != nil}}
		if l != nil {
			inst.InstanceID = l.Exports["id"]
			if inst.InstanceID == "" {
				inst.InstanceID = l.Handle
			}
			state, err := instanceState(ctx, s, inst.InstanceID)
			if err != nil {
				return in, err
			}
			inst.State = state
		}
		in.Instance = inst
	}

	if r, l := first("iam_role"); r != nil {
		role := &verify.Role{Declared: verify.Declared{ID: r.ID, Live: l != nil}, Name: declaredString(r, "name"), OtherProviders: otherProviders(dir, s.env)}
		if l != nil {
			role.Name = stringAttr(l.Exports, "name", role.Name)
			role.TrustPolicy, _ = l.Attrs["trust_policy"].(map[string]any)
		}
		in.Role = role
	}

	if r, l := first("s3_bucket"); r != nil {
		b := &verify.Bucket{Declared: verify.Declared{ID: r.ID, Live: l != nil}, Name: declaredString(r, "name")}
		if a := r.Schema.Attr("policy"); a != nil && r.Attrs["policy"] != nil {
			if v, known, err := config.Resolve(a, r.Attrs["policy"], lookup); err == nil && known {
				b.DeclaredPolicy, _ = v.(map[string]any)
			}
		}
		if l != nil {
			b.Name = l.Handle
			b.BlockPublicAccess, _ = l.Attrs["block_public_access"].(bool)
			b.Policy, _ = l.Attrs["policy"].(map[string]any)
		}
		in.Bucket = b
	}
	return in, nil
}

// instanceState reads the instance's state from EC2: whether the broker
// runs is not an attribute the env file declares.
func instanceState(ctx context.Context, s *session, id string) (string, error) {
	out, err := s.clients.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return "", fmt.Errorf("host.instance: describe %s: %w", id, err)
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if aws.ToString(i.InstanceId) == id && i.State != nil {
				return string(i.State.Name), nil
			}
		}
	}
	return "", nil
}

// otherProviders maps the host/path of every OIDC provider the other env
// files in dir declare to their env's name. Files that do not load are
// left out: validate reports them.
func otherProviders(dir string, self *config.Env) map[string]string {
	out := map[string]string{}
	own := map[string]bool{}
	for _, r := range self.Resources {
		if u, ok := r.Attrs["url"].(string); ok && r.Type == "iam_oidc_provider" {
			own[verify.ProviderPath(u)] = true
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		if strings.TrimSuffix(filepath.Base(f), ".yaml") == self.Name {
			continue
		}
		env, err := config.Load(f)
		if err != nil {
			continue
		}
		for _, r := range env.Resources {
			if u, ok := r.Attrs["url"].(string); ok && r.Type == "iam_oidc_provider" && !own[verify.ProviderPath(u)] {
				out[verify.ProviderPath(u)] = env.Name
			}
		}
	}
	return out
}

func stringAttr[V any](m map[string]V, key, fallback string) string {
	if s, ok := any(m[key]).(string); ok && s != "" {
		return s
	}
	return fallback
}

func listAttr(m resources.Attrs, key string) []string {
	switch v := m[key].(type) {
	case []string:
		return v
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
