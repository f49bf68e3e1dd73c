package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/urfave/cli/v2"

	"github.com/litentry/envctl/pkg/awsapi"
	"github.com/litentry/envctl/pkg/plan"
	"github.com/litentry/envctl/pkg/verify"
)

// ProveOptions are the inputs of envctl prove.
type ProveOptions struct {
	Globals
	Env string
	// Exactly one token source.
	TokenFile, TokenEnv, TokenCmd string
	// Namespace is the object prefix of this run; "" means from GITHUB_*.
	Namespace string
	// Role and Bucket pick resources by id when the env declares several.
	Role, Bucket string
	Keep         bool
}

func proveCommand(io *IO) *cli.Command {
	return &cli.Command{
		Name:  "prove",
		Usage: "end-to-end proof: web identity token → STS → own prefix read/write → other prefixes denied",
		UsageText: "envctl prove --env NAME (--token-file FILE | --token-env VAR | --token-cmd CMD) [--namespace NS] [--keep]\n" +
			"   the namespace defaults to pr-<PR>/run-<RUN> (or run-<RUN>) from GITHUB_REF and GITHUB_RUN_ID",
		Flags: withCommon(
			&cli.StringFlag{Name: "env", Usage: "the env to prove (DIR/NAME.yaml)"},
			&cli.StringFlag{Name: "token-file", Usage: "read the web identity token from FILE"},
			&cli.StringFlag{Name: "token-env", Usage: "read the web identity token from the environment variable VAR"},
			&cli.StringFlag{Name: "token-cmd", Usage: "run CMD with sh -c and read the token from its standard output"},
			&cli.StringFlag{Name: "namespace", Usage: "object prefix of this run (default pr-<PR>/run-<RUN> from GITHUB_*)"},
			&cli.StringFlag{Name: "role", Usage: "id of the iam_role to assume when the env declares several"},
			&cli.StringFlag{Name: "bucket", Usage: "id of the s3_bucket to use when the env declares several"},
			&cli.BoolFlag{Name: "keep", Usage: "leave this run's object and the canary in place for debugging"},
		),
		Action: func(c *cli.Context) error {
			name, err := requireEnv(c)
			if err != nil {
				return err
			}
			return runProve(c.Context, io, ProveOptions{
				Globals: globals(c), Env: name,
				TokenFile: c.String("token-file"), TokenEnv: c.String("token-env"), TokenCmd: c.String("token-cmd"),
				Namespace: c.String("namespace"), Role: c.String("role"), Bucket: c.String("bucket"), Keep: c.Bool("keep"),
			})
		},
	}
}

// prover prints the steps of one proof. Everything it prints passes
// through redact, so the token can never reach the output.
type prover struct {
	io     *IO
	st     plan.Style
	token  string
	failed string // the first failure, for the final line
}

// jwtLike matches anything shaped like a JWT, so that a token printed by a
// failing --token-cmd is hidden before it was ever read.
var jwtLike = regexp.MustCompile(`[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)

func (p *prover) redact(s string) string {
	if p.token != "" {
		s = strings.ReplaceAll(s, p.token, "[token]")
	}
	return jwtLike.ReplaceAllString(s, "[token]")
}

// step prints one step's line with its duration; err marks it failed.
func (p *prover) step(name string, start time.Time, err error, format string, args ...any) bool {
	status, text := "ok", fmt.Sprintf(format, args...)
	if err != nil {
		status = "fail"
		if text != "" {
			text += ": "
		}
		text += awsErrorText(err)
		if p.failed == "" {
			p.failed = name + ": " + text
		}
	}
	d := time.Since(start).Round(time.Millisecond)
	fmt.Fprintf(p.io.Out, "  %s  %-13s %s (%s)\n", statusColor(p.st, verify.Status(status), 4), name, p.redact(text), d)
	return err == nil
}

func runProve(ctx context.Context, io *IO, o ProveOptions) error {
	sources := 0
	for _, s := range []string{o.TokenFile, o.TokenEnv, o.TokenCmd} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return errors.New("prove needs exactly one of --token-file, --token-env and --token-cmd")
	}
	ns, err := proveNamespace(o.Namespace, io.Getenv)
	if err != nil {
		return err
	}
	session := sessionName(io.Getenv("GITHUB_RUN_ID"), ns)

	s, err := openSession(ctx, o.Globals, o.Env)
	if err != nil {
		return err
	}
	pl, err := s.engine.Plan(ctx, s.env, false)
	if err != nil {
		return err
	}
	roleARN, err := liveExport(pl, "iam_role", o.Role, "arn")
	if err != nil {
		return err
	}
	bucket, err := liveExport(pl, "s3_bucket", o.Bucket, "name")
	if err != nil {
		return err
	}

	p := &prover{io: io, st: o.style(io)}
	fmt.Fprintf(io.Out, "Proof for env %s: role %s, bucket %s, namespace %s/\n\n", s.env.Name, roleARN, bucket, ns)

	// 1. The token.
	start := time.Now()
	token, from, err := readToken(ctx, o, io.Getenv)
	p.token = token
	if err == nil {
		from += ": " + describeToken(token)
	}
	if !p.step("1 token", start, err, "%s", from) {
		return p.finish()
	}

	// 2. STS, unsigned: the token is the credential.
	start = time.Now()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, anonymousConfig(s.env.Region, o.EndpointURL)...)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	out, err := sts.NewFromConfig(cfg).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(roleARN),
		RoleSessionName:  aws.String(session),
		WebIdentityToken: aws.String(token),
		DurationSeconds:  aws.Int32(900),
	})
	if err != nil {
		p.step("2 assume-role", start, err, "AssumeRoleWithWebIdentity %s as %s", roleARN, session)
		return p.finish()
	}
	p.step("2 assume-role", start, nil, "%s; session tags: %s", aws.ToString(out.AssumedRoleUser.Arn), sessionTags(token))

	// 3. Write, read back and delete under the namespace, with a client
	// that holds only the assumed role's credentials.
	creds := *out.Credentials
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{
				AccessKeyID: aws.ToString(creds.AccessKeyId), SecretAccessKey: aws.ToString(creds.SecretAccessKey),
				SessionToken: aws.ToString(creds.SessionToken), Source: "AssumeRoleWithWebIdentity", CanExpire: true,
				Expires: aws.ToTime(creds.Expiration),
			}, nil
		}))
		so.UsePathStyle = o.EndpointURL != "" || cfg.BaseEndpoint != nil
		so.DisableLogOutputChecksumValidationSkipped = true
	})
	nonce := randomHex(8)
	key := fmt.Sprintf("%s/envctl-prove-%s.txt", ns, nonce)
	loc := "s3://" + bucket + "/" + key
	body := []byte(fmt.Sprintf("envctl prove %s %s %s\n", s.env.Name, session, nonce))

	start = time.Now()
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if !p.step("3 write", start, err, "%s (%d bytes)", loc, len(body)) {
		return p.finish()
	}

	start = time.Now()
	got, err := readObject(ctx, client, bucket, key)
	if err == nil && !bytes.Equal(got, body) {
		err = fmt.Errorf("read back %d bytes that differ from the %d written", len(got), len(body))
	}
	p.step("3 read back", start, err, "%s", loc)

	// Clean up whatever the read gave; also after Ctrl-C.
	start = time.Now()
	if o.Keep {
		p.step("3 keep", start, nil, "%s left in place (--keep)", loc)
	} else {
		_, err := client.DeleteObject(context.WithoutCancel(ctx), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		p.step("3 delete", start, err, "%s", loc)
	}
	if p.failed != "" {
		return p.finish()
	}

	// 4. Outside the namespace, reads must be denied.
	start = time.Now()
	outKey := fmt.Sprintf("envctl-prove-canary/%s-%s.txt", session, nonce)
	outLoc := "s3://" + bucket + "/" + outKey
	// A canary written with the operator's credentials makes the probe
	// conclusive: S3 may answer 403 for a missing key to a role that cannot
	// list the bucket, even when it could read the key.
	_, seedErr := s.clients.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(outKey), Body: strings.NewReader("envctl prove canary\n")})
	if seedErr == nil && !o.Keep {
		defer func() {
			_, _ = s.clients.S3.DeleteObject(context.WithoutCancel(ctx), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(outKey)})
		}()
	}
	_, err = readObject(ctx, client, bucket, outKey)
	switch {
	case err == nil:
		p.step("4 isolation", start, errors.New("isolation not enforced: the assumed role read an object outside its namespace"), "read %s", outLoc)
	case awsapi.HTTPStatus(err) == http.StatusForbidden:
		note := ""
		if seedErr != nil {
			note = " (no canary: the operator's credentials could not write one, so the key was missing)"
		}
		if seedErr == nil && o.Keep {
			note = " (canary left in place: --keep)"
		}
		p.step("4 isolation", start, nil, "read %s denied (%s) as required%s", outLoc, awsErrorText(err), note)
	case awsapi.HTTPStatus(err) == http.StatusNotFound:
		p.step("4 isolation", start, errors.New("isolation not enforced: the read was authorized (the key does not exist)"), "read %s", outLoc)
	default:
		p.step("4 isolation", start, fmt.Errorf("could not tell whether isolation is enforced: %s", awsErrorText(err)), "read %s", outLoc)
	}
	return p.finish()
}

// finish prints the verdict and returns an error on failure.
func (p *prover) finish() error {
	if p.failed == "" {
		fmt.Fprintf(p.io.Out, "\n%s\n", p.st.Bold("PASS"))
		return nil
	}
	fmt.Fprintf(p.io.Out, "\n%s: %s\n", p.st.Bold("FAIL"), p.redact(p.failed))
	return errors.New("prove: FAIL")
}

// proveNamespace returns the run's object prefix: --namespace, or
// pr-<PR>/run-<RUN> for a pull request (GITHUB_REF refs/pull/<PR>/merge)
// and run-<RUN> otherwise (GITHUB_RUN_ID).
func proveNamespace(flag string, getenv func(string) string) (string, error) {
	ns := strings.Trim(flag, "/")
	if ns == "" {
		run := getenv("GITHUB_RUN_ID")
		if run == "" {
			return "", errors.New("prove needs --namespace outside GitHub Actions (GITHUB_RUN_ID is not set)")
		}
		ns = "run-" + run
		if ref := getenv("GITHUB_REF"); strings.HasPrefix(ref, "refs/pull/") {
			pr, _, _ := strings.Cut(strings.TrimPrefix(ref, "refs/pull/"), "/")
			ns = "pr-" + pr + "/" + ns
		}
	}
	if !namespacePattern.MatchString(ns) || strings.Contains(ns, "//") || slicesContainsDots(ns) {
		return "", fmt.Errorf("namespace %q: expected letters, digits and . _ - separated by /", ns)
	}
	return ns, nil
}

var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,200}$`)

func slicesContainsDots(ns string) bool {
	for _, part := range strings.Split(ns, "/") {
		if part == "." || part == ".." {
			return true
		}
	}
	return false
}

// sessionName derives the STS session name from the run: envctl-prove-<RUN>
// under GitHub Actions, else from the namespace. STS allows [\w+=,.@-]{2,64}.
func sessionName(runID, ns string) string {
	name := "envctl-prove-" + runID
	if runID == "" {
		name = "envctl-prove-" + ns
	}
	name = sessionUnsafe.ReplaceAllString(name, "-")
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

var sessionUnsafe = regexp.MustCompile(`[^A-Za-z0-9_+=,.@-]`)

// liveExport returns an export of the env's live resource of typ: the one
// named id, or the only one declared.
func liveExport(p *plan.Plan, typ, id, attr string) (string, error) {
	var found []*plan.Change
	for _, c := range p.Changes {
		if c.Type == typ && c.Action != plan.Delete && (id == "" || c.ID == id) {
			found = append(found, c)
		}
	}
	flag := strings.TrimPrefix(typ, "iam_")
	flag = strings.TrimPrefix(flag, "s3_")
	switch {
	case len(found) == 0 && id != "":
		return "", fmt.Errorf("--%s %s: the env declares no %s with that id", flag, id, typ)
	case len(found) == 0:
		return "", fmt.Errorf("the env declares no %s", typ)
	case len(found) > 1:
		var ids []string
		for _, c := range found {
			ids = append(ids, c.ID)
		}
		return "", fmt.Errorf("the env declares several of type %s (%s): choose one with --%s", typ, strings.Join(ids, ", "), flag)
	}
	c := found[0]
	if c.Live() == nil || c.Live().Exports[attr] == "" {
		return "", fmt.Errorf("%s (%s) does not exist; run envctl apply first", c.ID, typ)
	}
	return c.Live().Exports[attr], nil
}

// readToken reads the web identity token from its one source and says
// where it came from. Errors never contain the token.
func readToken(ctx context.Context, o ProveOptions, getenv func(string) string) (token, from string, err error) {
	var raw []byte
	switch {
	case o.TokenFile != "":
		from = "--token-file " + o.TokenFile
		raw, err = os.ReadFile(o.TokenFile)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", from, fmt.Errorf("read: %v", err)
		}
	case o.TokenEnv != "":
		from = "--token-env " + o.TokenEnv
		raw = []byte(getenv(o.TokenEnv))
	default:
		from = "--token-cmd"
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-c", o.TokenCmd)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		raw, err = cmd.Output()
		if err != nil {
			msg := jwtLike.ReplaceAllString(strings.TrimSpace(stderr.String()), "[token]")
			if len(msg) > 500 {
				msg = msg[len(msg)-500:]
			}
			if msg != "" {
				return "", from, fmt.Errorf("%v: %s", err, msg)
			}
			return "", from, err
		}
	}
	token = strings.TrimSpace(string(raw))
	switch {
	case token == "":
		return "", from, errors.New("empty token")
	case strings.Count(token, ".") != 2 || strings.ContainsAny(token, " \t\n"):
		return "", from, errors.New("not a JWT (expected three base64url parts separated by dots)")
	}
	return token, from, nil
}

// claims decodes a JWT's payload without checking its signature: STS does
// that. Only claims are ever shown, never the token.
func claims(token string) map[string]any {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	data, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	return m
}

// describeToken names the claims STS matches: iss, aud, sub and expiry.
func describeToken(token string) string {
	c := claims(token)
	if c == nil {
		return "a JWT whose claims do not decode"
	}
	aud := fmt.Sprint(c["aud"])
	if list, ok := c["aud"].([]any); ok {
		var s []string
		for _, a := range list {
			s = append(s, fmt.Sprint(a))
		}
		aud = strings.Join(s, ",")
	}
	out := fmt.Sprintf("iss %v, aud %s, sub %v", c["iss"], aud, c["sub"])
	if exp, ok := c["exp"].(float64); ok {
		left := time.Until(time.Unix(int64(exp), 0)).Round(time.Second)
		if left > 0 {
			out += fmt.Sprintf(", expires in %s", left)
		} else {
			out += fmt.Sprintf(", expired %s ago", -left)
		}
	}
	return out
}

// sessionTags lists the principal tags the token asks for (the
// https://aws.amazon.com/tags claim). The role's own tags also become
// principal tags; they are not listed here.
func sessionTags(token string) string {
	c := claims(token)
	tagsClaim, _ := c["https://aws.amazon.com/tags"].(map[string]any)
	principal, _ := tagsClaim["principal_tags"].(map[string]any)
	if len(principal) == 0 {
		return "none in the token"
	}
	var out []string
	for k, v := range principal {
		vals := fmt.Sprint(v)
		if list, ok := v.([]any); ok && len(list) == 1 {
			vals = fmt.Sprint(list[0])
		}
		out = append(out, k+"="+vals)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// anonymousConfig loads the region and endpoint without credentials:
// AssumeRoleWithWebIdentity is unsigned, and the S3 client gets the
// assumed role's credentials explicitly.
func anonymousConfig(region, endpoint string) []func(*awsconfig.LoadOptions) error {
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(region),
		awsconfig.WithCredentialsProvider(aws.AnonymousCredentials{}),
	}
	if endpoint != "" {
		opts = append(opts, awsconfig.WithBaseEndpoint(endpoint))
	}
	return opts
}

func readObject(ctx context.Context, c *s3.Client, bucket, key string) ([]byte, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(io.LimitReader(out.Body, 1<<20))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// awsErrorText shortens an SDK error to its code, status and message:
// "AccessDenied (HTTP 403): Access Denied". Other errors are kept whole.
func awsErrorText(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err.Error()
	}
	text := ae.ErrorCode()
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		text += fmt.Sprintf(" (HTTP %d)", re.HTTPStatusCode())
	}
	if msg := ae.ErrorMessage(); msg != "" && msg != ae.ErrorCode() {
		text += ": " + msg
	}
	return text
}
