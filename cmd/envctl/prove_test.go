package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/verify/verifytest"
)

// stepLine is how prove prints a step, without its duration.
func stepLine(status, name, text string) string {
	return fmt.Sprintf("%-4s  %-13s %s", status, name, text)
}

// coreWithBucketPolicy replaces the core bucket's policy: moto_server
// evaluates bucket policies without conditions (a Deny with any Condition
// denies every request), so DenyInsecureTransport would refuse every object
// call. policy "" leaves the bucket without one.
func coreWithBucketPolicy(c *harness, policy string) {
	c.edit("core.yaml", func(s string) string {
		i := strings.Index(s, "    policy:\n")
		return s[:i] + policy
	})
}

// proveToken mints a web identity token for the core env's provider.
func proveToken(t *testing.T) string {
	t.Helper()
	return verifytest.NewIssuer(t).Token(t, map[string]any{
		"iss": "https://core-broker.example.org",
		"aud": "sts.amazonaws.com",
		"sub": "agentkeys:user:pr-42",
		"iat": time.Now().Unix(),
		"exp": time.Now().Add(10 * time.Minute).Unix(),
		"https://aws.amazon.com/tags": map[string]any{
			"principal_tags":      map[string]any{"agentkeys_user": []string{"pr-42"}},
			"transitive_tag_keys": []string{},
		},
	})
}

// prove runs envctl prove with a GitHub-like environment plus vars.
func (c *harness) prove(vars map[string]string, args ...string) result {
	c.t.Helper()
	getenv := func(k string) string { return vars[k] }
	return c.runWith(&IO{In: strings.NewReader(""), Getenv: getenv}, append([]string{"prove", "--env", "core"}, args...)...)
}

// objects lists the keys in the core bucket under prefix.
func (c *harness) objects(prefix string) []string {
	c.t.Helper()
	out, err := c.clients.S3.ListObjectsV2(moto.Context(c.t), &s3.ListObjectsV2Input{Bucket: aws.String(coreBucket), Prefix: aws.String(prefix)})
	if err != nil {
		c.t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func noToken(t *testing.T, token string, r result) {
	t.Helper()
	for _, part := range strings.Split(token, ".") {
		if strings.Contains(r.out, part) || strings.Contains(r.err, part) {
			t.Fatalf("the token (or part of it) was printed:\nstdout:\n%s\nstderr:\n%s", r.out, r.err)
		}
	}
}

func TestProveAgainstMoto(t *testing.T) {
	c := newCLI(t, coreFile)
	coreWithBucketPolicy(c, "")
	c.must(0, "apply", "--env", "core", "--auto-approve")
	token := proveToken(t)
	gh := map[string]string{"PROVE_TOKEN": token, "GITHUB_RUN_ID": "777", "GITHUB_REF": "refs/pull/42/merge"}

	// Moto does not enforce bucket or IAM policies: steps 1–3 pass, the
	// negative check must not, and the proof fails.
	r := c.prove(gh, "--token-env", "PROVE_TOKEN")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	contains(t, "prove", r.out,
		"Proof for env core: role arn:aws:iam::123456789012:role/agentkeys-data-role-core, bucket "+coreBucket+", namespace pr-42/run-777/",
		stepLine("ok", "1 token", "--token-env PROVE_TOKEN: iss https://core-broker.example.org, aud sts.amazonaws.com, sub agentkeys:user:pr-42, expires in"),
		stepLine("ok", "2 assume-role", "arn:aws:sts::123456789012:assumed-role/agentkeys-data-role-core/envctl-prove-777; session tags: agentkeys_user=pr-42"),
		stepLine("ok", "3 write", "s3://")+coreBucket+"/pr-42/run-777/envctl-prove-",
		stepLine("ok", "3 read back", "s3://")+coreBucket+"/pr-42/run-777/envctl-prove-",
		stepLine("ok", "3 delete", "s3://")+coreBucket+"/pr-42/run-777/envctl-prove-",
		stepLine("fail", "4 isolation", "read s3://")+coreBucket+"/envctl-prove-canary/envctl-prove-777-",
		"isolation not enforced",
		"\nFAIL: 4 isolation: read s3://")
	contains(t, "stderr", r.err, "Error: prove: FAIL")
	noToken(t, token, r)
	if keys := c.objects(""); len(keys) != 0 {
		t.Errorf("objects left behind: %v", keys)
	}
	// Step lines carry their duration.
	if !strings.Contains(line(t, r.out, "1"), "ms)") && !strings.Contains(line(t, r.out, "1"), "s)") {
		t.Errorf("no duration: %s", line(t, r.out, "1"))
	}

	// --keep leaves this run's object; --namespace replaces GITHUB_*; the
	// token comes from a file.
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = c.prove(nil, "--token-file", tokenFile, "--namespace", "local/dev-1", "--keep")
	contains(t, "prove --keep", r.out, stepLine("ok", "3 keep", "s3://"), "left in place (--keep)", "namespace local/dev-1/", "envctl-prove-local-dev-1", "isolation not enforced")
	noToken(t, token, r)
	if keys := c.objects("local/dev-1/"); len(keys) != 1 || !strings.HasPrefix(keys[0], "local/dev-1/envctl-prove-") {
		t.Errorf("kept objects = %v", keys)
	}
	if keys := c.objects("envctl-prove-canary/"); len(keys) != 1 {
		t.Errorf("--keep: canary objects = %v, want the one of this run", keys)
	}

	// --token-cmd.
	r = c.prove(map[string]string{"GITHUB_RUN_ID": "778"}, "--token-cmd", "cat "+tokenFile)
	contains(t, "prove --token-cmd", r.out, stepLine("ok", "1 token", "--token-cmd: iss https://core-broker.example.org"), "namespace run-778/", stepLine("ok", "3 delete", "s3://"))
	noToken(t, token, r)
}

func TestProvePassesWhenReadsOutsideAreDenied(t *testing.T) {
	c := newCLI(t, coreFile)
	// A bucket policy moto does evaluate: reads of the canary prefix are
	// denied to everyone, as IAM would deny them to the role on AWS.
	coreWithBucketPolicy(c, `    policy:
      Version: "2012-10-17"
      Statement:
        - Sid: DenyCanaryReads
          Effect: Deny
          Principal: "*"
          Action: s3:GetObject
          Resource: arn:aws:s3:::agentkeys-mail-core-${env.account_id}/envctl-prove-canary/*
`)
	c.must(0, "apply", "--env", "core", "--auto-approve")
	token := proveToken(t)
	r := c.prove(map[string]string{"T": token, "GITHUB_RUN_ID": "9", "GITHUB_REF": "refs/pull/5/merge"}, "--token-env", "T")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	contains(t, "prove", r.out,
		stepLine("ok", "3 delete", "s3://"+coreBucket+"/pr-5/run-9/envctl-prove-"),
		stepLine("ok", "4 isolation", "read s3://"+coreBucket+"/envctl-prove-canary/envctl-prove-9-"),
		"denied (Forbidden (HTTP 403)) as required",
		"\nPASS\n")
	noToken(t, token, r)
	if keys := c.objects(""); len(keys) != 0 {
		t.Errorf("objects left behind: %v", keys)
	}
}

func TestProveNeverPrintsTheToken(t *testing.T) {
	c := newCLI(t, coreFile)
	c.must(0, "apply", "--env", "core", "--auto-approve")
	token := proveToken(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		vars  map[string]string
		wants []string
	}{
		{
			name:  "a failing command that prints the token",
			args:  []string{"--token-cmd", "echo \"bearer rejected for $(cat " + tokenFile + ")\" >&2; exit 3", "--namespace", "x"},
			wants: []string{stepLine("fail", "1 token", "--token-cmd: exit status 3: bearer rejected for [token]")},
		},
		{
			name:  "not a JWT",
			args:  []string{"--token-env", "T", "--namespace", "x"},
			vars:  map[string]string{"T": "not-a-token"},
			wants: []string{stepLine("fail", "1 token", "--token-env T: not a JWT")},
		},
		{
			name:  "an empty variable",
			args:  []string{"--token-env", "T", "--namespace", "x"},
			wants: []string{stepLine("fail", "1 token", "--token-env T: empty token")},
		},
		{
			name:  "a missing file",
			args:  []string{"--token-file", filepath.Join(t.TempDir(), "none"), "--namespace", "x"},
			wants: []string{"read: no such file or directory"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.prove(tt.vars, tt.args...)
			if r.code != 1 {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
			}
			contains(t, "prove", r.out, tt.wants...)
			contains(t, "prove", r.out, "\nFAIL: 1 token")
			noToken(t, token, r)
		})
	}
}

func TestProveUsage(t *testing.T) {
	c := newCLI(t, coreFile)
	for _, tt := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"--namespace", "x"}, nil, "exactly one of --token-file, --token-env and --token-cmd"},
		{[]string{"--token-env", "A", "--token-file", "f", "--namespace", "x"}, nil, "exactly one of"},
		{[]string{"--token-env", "A"}, nil, "--namespace outside GitHub Actions"},
		{[]string{"--token-env", "A", "--namespace", "../etc"}, nil, `namespace "../etc"`},
		// Nothing applied yet: the role does not exist.
		{[]string{"--token-env", "A", "--namespace", "x"}, nil, "role (iam_role) does not exist; run envctl apply first"},
	} {
		r := c.prove(tt.vars, tt.args...)
		if r.code != 1 || !strings.Contains(r.err, tt.want) {
			t.Errorf("prove %v: exit %d, stderr %q; want %q", tt.args, r.code, r.err, tt.want)
		}
	}
}
