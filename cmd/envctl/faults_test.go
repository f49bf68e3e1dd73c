package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/litentry/envctl/internal/awsproxy"
	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/resources"
)

var allFaults = []awsproxy.Kind{awsproxy.Throttle, awsproxy.InternalError, awsproxy.DropBeforeServer, awsproxy.DropAfterServer}

// proxied puts a fault-injection proxy between envctl and moto.
func proxied(t *testing.T, c *harness, cfg awsproxy.Config) *awsproxy.Proxy {
	t.Helper()
	cfg.Target = c.srv.URL
	p, err := awsproxy.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	c.endpoint = p.URL()
	return p
}

// owned counts, per type, the live resources tagged for env; and checks
// that nothing envctl can see in the emulator lacks envctl's tags.
func owned(t *testing.T, c *harness, env string) map[string]int {
	t.Helper()
	ctx := moto.Context(t)
	counts := map[string]int{}
	for typ, d := range resources.Drivers(c.clients) {
		lives, err := d.List(ctx, env)
		if err != nil {
			t.Fatalf("list %s: %v", typ, err)
		}
		counts[typ] = len(lives)
	}
	roles, _ := c.clients.IAM.ListRoles(ctx, &iam.ListRolesInput{})
	buckets, _ := c.clients.S3.ListBuckets(ctx, &s3.ListBucketsInput{})
	providers, _ := c.clients.IAM.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	nbuckets := 0
	for _, b := range buckets.Buckets {
		if aws.ToString(b.Name) != "envctl-locks" { // the lock bucket is not the env's
			nbuckets++
		}
	}
	untagged := len(roles.Roles) - counts["iam_role"] + nbuckets - counts["s3_bucket"] + len(providers.OpenIDConnectProviderList) - counts["iam_oidc_provider"]
	if untagged != 0 {
		t.Errorf("%d IAM roles, buckets or providers exist without the env's tags (roles %d, buckets %d, providers %d; tagged %v)",
			untagged, len(roles.Roles), len(buckets.Buckets), len(providers.OpenIDConnectProviderList), counts)
	}
	instances, _ := c.clients.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}}}})
	n := 0
	for _, r := range instances.Reservations {
		n += len(r.Instances)
	}
	addrs, _ := c.clients.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	groups, _ := c.clients.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	ngroups := 0
	for _, g := range groups.SecurityGroups {
		if aws.ToString(g.GroupName) != "default" {
			ngroups++
		}
	}
	if n != counts["ec2_instance"] || len(addrs.Addresses) != counts["elastic_ip"] || ngroups != counts["ec2_security_group"] {
		t.Errorf("untracked EC2 resources: %d instances, %d addresses, %d groups exist; tagged %v", n, len(addrs.Addresses), ngroups, counts)
	}
	return counts
}

func wantOneEach(t *testing.T, counts map[string]int, types ...string) {
	t.Helper()
	for _, typ := range types {
		if counts[typ] != 1 {
			t.Errorf("%d %s resources for the env, want exactly 1 (all: %v)", counts[typ], typ, counts)
		}
	}
}

var allTypes = []string{"iam_oidc_provider", "iam_role", "s3_bucket", "ec2_security_group", "ec2_instance", "elastic_ip", "route53_record"}

// converge applies until success, at most n times.
func converge(t *testing.T, c *harness, env string, n int) {
	t.Helper()
	var last result
	for i := 0; i < n; i++ {
		last = c.run("apply", "--env", env, "--auto-approve")
		if last.code == 0 {
			return
		}
		if strings.Contains(last.err, "goroutine ") || strings.Contains(last.err, "panic:") {
			t.Fatalf("crash:\n%s", last.err)
		}
	}
	t.Fatalf("apply did not converge in %d runs; last:\n%s\n%s", n, last.out, last.err)
}

// soak widens the fault loops for make soak.
var soak = os.Getenv("ENVCTL_SOAK") != ""

func TestConvergesUnderFaults(t *testing.T) {
	seeds := []int64{1, 2, 3, 4}
	if soak {
		for s := int64(5); s <= 40; s++ {
			seeds = append(seeds, s)
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			c, _ := newExample(t)
			p := proxied(t, c, awsproxy.Config{Seed: seed, FaultRate: 0.2, Faults: allFaults})
			converge(t, c, "test", 6)
			p.SetFaultRate(0)
			c.must(0, "plan", "--env", "test", "--detailed-exitcode")
			wantOneEach(t, owned(t, c, "test"), allTypes...)
			if len(p.Faulted()) == 0 {
				t.Errorf("no fault was injected; the test proves nothing")
			}
		})
	}
}

func TestLostCreateResponses(t *testing.T) {
	for _, action := range []string{"ec2:RunInstances", "ec2:AllocateAddress", "ec2:CreateSecurityGroup", "ec2:AssociateAddress",
		"route53:ChangeResourceRecordSets", "iam:CreateRole", "s3:CreateBucket", "iam:CreateOpenIDConnectProvider", "s3:PutBucketTagging", "iam:PutRolePolicy"} {
		t.Run(action, func(t *testing.T) {
			c, _ := newExample(t)
			var mu sync.Mutex
			dropped := 0
			p := proxied(t, c, awsproxy.Config{Seed: 1, FaultRate: 1, Faults: []awsproxy.Kind{awsproxy.DropAfterServer}, Match: func(r awsproxy.Request) bool {
				mu.Lock()
				defer mu.Unlock()
				if r.Key() == action && dropped == 0 {
					dropped++
					return true
				}
				return false
			}})
			converge(t, c, "test", 3)
			if p.Faulted()[action] != 1 {
				t.Fatalf("faulted = %v; want one dropped %s response", p.Faulted(), action)
			}
			c.must(0, "plan", "--env", "test", "--detailed-exitcode")
			wantOneEach(t, owned(t, c, "test"), allTypes...)
		})
	}
}

func TestThrottlingStormFinishesWithBoundedRequests(t *testing.T) {
	c := newCLI(t, coreFile)
	p := proxied(t, c, awsproxy.Config{Latency: 5 * time.Millisecond})
	c.must(0, "apply", "--env", "core", "--auto-approve")
	baseline := total(p.Counts())
	c.must(0, "destroy", "--env", "core", "--auto-approve")
	p.Reset()
	if err := p.SetConfig(awsproxy.Config{Target: c.srv.URL, Latency: 5 * time.Millisecond, Seed: 9, FaultRate: 0.5, Faults: []awsproxy.Kind{awsproxy.Throttle}}); err != nil {
		t.Fatal(err)
	}
	c.must(0, "apply", "--env", "core", "--auto-approve")
	stormed := total(p.Counts())
	// Half the requests are throttled, so about twice the requests are
	// expected; a tight retry loop would send far more.
	if stormed > 4*baseline {
		t.Errorf("%d requests under throttling vs %d without: retries are not backing off", stormed, baseline)
	}
	if total(p.Faulted()) == 0 {
		t.Errorf("no request was throttled")
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestHostileEnvFilesTouchNothing(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/bad/*.yaml")
	c := newCLI(t, files...)
	p := proxied(t, c, awsproxy.Config{})
	cases := 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if !strings.HasPrefix(string(data), "# want: ") {
			continue
		}
		cases++
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		for _, cmd := range [][]string{{"plan"}, {"apply", "--auto-approve"}} {
			r := c.run(append(cmd, "--env", name)...)
			if r.code != 1 || !strings.Contains(r.err, name+".yaml") || !strings.Contains(r.err, ": error: ") {
				t.Errorf("%s %s: exit %d, want 1 with a file:line:col error\n%s", cmd[0], name, r.code, r.err)
			}
			if strings.Contains(r.err, "goroutine ") {
				t.Errorf("%s %s printed a stack trace", cmd[0], name)
			}
		}
	}
	if cases < 20 {
		t.Errorf("only %d bad files", cases)
	}
	if n := total(p.Counts()); n != 0 {
		t.Errorf("invalid env files caused %d AWS requests (%v); want none", n, p.Counts())
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	const secretKey, token, marker = "SECRETkeyDoNotPrint0123456789", "SESSIONtokenDoNotPrint", "policy-marker-do-not-print"
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretKey)
	t.Setenv("AWS_SESSION_TOKEN", token)
	c := newCLI(t, coreFile)
	c.edit("core.yaml", func(s string) string {
		s = strings.Replace(s, "    force_destroy: true\n", "    force_destroy: true\n    sensitive: [policy]\n", 1)
		return strings.Replace(s, `aws:SecureTransport: "false"`, `aws:SecureTransport: "false"}, StringNotEquals: {aws:UserAgent: "`+marker+`"`, 1)
	})
	var all strings.Builder
	record := func(r result) { all.WriteString(r.out + r.err) }
	planFile := filepath.Join(c.dir, "core.plan")
	record(c.must(0, "validate"))
	record(c.must(2, "plan", "--env", "core", "--detailed-exitcode"))
	record(c.must(0, "plan", "--env", "core", "--json"))
	record(c.must(0, "plan", "--env", "core", "--format", "markdown", "--out", planFile))
	record(c.must(0, "show", planFile))
	planData, _ := os.ReadFile(planFile)
	all.Write(planData)
	record(c.must(0, "apply", "--env", "core", "--auto-approve"))
	record(c.must(0, "show", "--env", "core"))
	record(c.must(0, "show", "--env", "core", "--json"))
	record(c.must(0, "destroy", "--env", "core", "--auto-approve"))
	for _, secret := range []string{secretKey, token, marker} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("output contains %q", secret)
		}
	}
	if !strings.Contains(all.String(), "(sensitive, sha256:") {
		t.Errorf("the sensitive policy is not shown masked anywhere")
	}
}

// buildEnvctl builds the binary once per test run, for tests that signal it.
var buildEnvctl = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "envctl-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "envctl")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// start runs the built binary against the harness's endpoint.
func (c *harness) start(t *testing.T, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	bin, err := buildEnvctl()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"--dir", c.dir, "--endpoint-url", c.endpoint}, args...)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, bufio.NewScanner(stderr)
}

func TestInterruptReleasesLock(t *testing.T) {
	c := newCLI(t, coreFile)
	withLock(t, c)
	proxied(t, c, awsproxy.Config{Latency: 150 * time.Millisecond})
	cmd, lines := c.start(t, "apply", "--env", "core", "--auto-approve")
	var out strings.Builder
	interrupted := false
	for lines.Scan() {
		line := lines.Text()
		out.WriteString(line + "\n")
		if !interrupted && strings.Contains(line, "Creating...") {
			_ = cmd.Process.Signal(syscall.SIGINT)
			interrupted = true
		}
	}
	err := cmd.Wait()
	if !interrupted {
		t.Fatalf("apply never started creating:\n%s", out.String())
	}
	if err == nil {
		t.Errorf("interrupted apply exited 0:\n%s", out.String())
	}
	for _, want := range []string{"Interrupt received", "Released lock", "Apply failed."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	ctx := moto.Context(t)
	if _, err := c.clients.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("envctl-locks"), Key: aws.String("envs/core.lock")}); err == nil {
		t.Errorf("lock object still there after Ctrl-C")
	}
	c.endpoint = c.srv.URL
	converge(t, c, "core", 2)
	wantOneEach(t, owned(t, c, "core"), "iam_oidc_provider", "iam_role", "s3_bucket")
}

func TestCrashAnywhereThenConverge(t *testing.T) {
	// SIGKILL at spread-out points of a full apply; every time, a fresh
	// apply converges and nothing is duplicated or left untagged.
	points := 20
	if testing.Short() {
		points = 4
	}
	if soak {
		points = 60
	}
	// A full apply of the example env through 20 ms latency takes about a
	// second; the kill points spread over it, from before the first create
	// to after the last.
	for i := 0; i < points; i++ {
		delay := time.Duration(40+i*60*20/points) * time.Millisecond
		t.Run(fmt.Sprint("kill after ", delay), func(t *testing.T) {
			c, _ := newExample(t)
			proxied(t, c, awsproxy.Config{Latency: 20 * time.Millisecond})
			cmd, lines := c.start(t, "apply", "--env", "test", "--auto-approve")
			go func() {
				for lines.Scan() {
				}
			}()
			time.Sleep(delay)
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			c.endpoint = c.srv.URL
			if r := c.run("plan", "--env", "test"); strings.Contains(r.out, "bucket (s3_bucket) will be adopted") {
				// AWS tags a bucket in the CreateBucket call; moto ignores
				// those tags, so a kill between CreateBucket and
				// PutBucketTagging leaves a bare bucket only here. It must
				// be bare: nothing else was written to it.
				tags, err := c.clients.S3.GetBucketTagging(moto.Context(t), &s3.GetBucketTaggingInput{Bucket: aws.String("agentkeys-mail-test-123456789012")})
				if err == nil && len(tags.TagSet) > 0 {
					t.Fatalf("bucket carries foreign tags after a crash: %v", tags.TagSet)
				}
				t.Logf("killed inside the emulator-only window between CreateBucket and PutBucketTagging; adopting")
				c.must(0, "apply", "--env", "test", "--auto-approve", "--adopt")
			}
			converge(t, c, "test", 2)
			c.must(0, "plan", "--env", "test", "--detailed-exitcode")
			wantOneEach(t, owned(t, c, "test"), allTypes...)
		})
	}
}

func TestSecondInterruptAbortsAtOnce(t *testing.T) {
	c := newCLI(t, coreFile)
	proxied(t, c, awsproxy.Config{Latency: 2 * time.Second})
	cmd, lines := c.start(t, "apply", "--env", "core", "--auto-approve")
	var out strings.Builder
	for lines.Scan() {
		line := lines.Text()
		out.WriteString(line + "\n")
		if strings.Contains(line, "Creating...") {
			_ = cmd.Process.Signal(syscall.SIGINT)
			time.Sleep(100 * time.Millisecond)
			_ = cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	go func() {
		for lines.Scan() {
			out.WriteString(lines.Text() + "\n")
		}
	}()
	err := cmd.Wait()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 130 {
		t.Fatalf("exit = %v, want 130 after a second Ctrl-C\n%s", err, out.String())
	}
}
