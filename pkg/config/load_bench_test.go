package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/litentry/envctl/pkg/config"
)

// benchEnv returns an env file with n resources: n/2 pairs of a bucket with
// a policy and a role whose inline policy references the bucket, the shape
// of the benchmark's scale workloads. Names go through vars, so loading
// exercises interpolation as well as decoding.
func benchEnv(name string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "env: %s\naccount_id: \"123456789012\"\nregion: us-east-1\ntags: {project: bench}\nvars:\n  prefix: bench\nresources:\n", name)
	for i := 0; i < n/2; i++ {
		fmt.Fprintf(&b, `  bucket_%[1]d:
    type: s3_bucket
    name: ${var.prefix}-%[1]d-${env.account_id}
    versioning: true
    tags: {pair: "%[1]d"}
    policy:
      Version: "2012-10-17"
      Statement:
        - Sid: DenyInsecureTransport
          Effect: Deny
          Principal: "*"
          Action: "s3:*"
          Resource: ["arn:aws:s3:::${var.prefix}-%[1]d-${env.account_id}", "arn:aws:s3:::${var.prefix}-%[1]d-${env.account_id}/*"]
          Condition: {Bool: {aws:SecureTransport: "false"}}
  role_%[1]d:
    type: iam_role
    name: ${var.prefix}-role-%[1]d
    trust_policy:
      Version: "2012-10-17"
      Statement:
        - {Sid: EC2Assume, Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}
    inline_policies:
      data:
        Version: "2012-10-17"
        Statement:
          - {Sid: ReadWrite, Effect: Allow, Action: [s3:GetObject, s3:PutObject], Resource: "${bucket_%[1]d.arn}/*"}
`, i)
	}
	return b.String()
}

func writeBenchFile(b *testing.B, dir, name, content string) string {
	b.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkLoad measures parsing, checking and interpolating one env file.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("resources=%d", n), func(b *testing.B) {
			path := writeBenchFile(b, b.TempDir(), "bench.yaml", benchEnv("bench", n))
			if _, err := config.Load(path); err != nil {
				b.Fatalf("the generated env does not load: %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := config.Load(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoadExtends measures loading an env that extends another: both
// files parsed, deep-merged, then checked as one.
func BenchmarkLoadExtends(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("resources=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			writeBenchFile(b, dir, "base.yaml", benchEnv("base", n))
			child := "env: child\nextends: base.yaml\nvars:\n  prefix: child\nresources:\n  bucket_0:\n    versioning: false\n    tags: {pair: \"override\"}\n"
			path := writeBenchFile(b, dir, "child.yaml", child)
			if _, err := config.Load(path); err != nil {
				b.Fatalf("the generated env does not load: %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := config.Load(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
