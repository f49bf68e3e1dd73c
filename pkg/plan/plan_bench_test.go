package plan

import (
	"context"
	"fmt"
	"maps"
	"sync/atomic"
	"testing"

	"github.com/litentry/envctl/pkg/config"
	"github.com/litentry/envctl/pkg/resources"
)

// benchSizes are the resource counts every benchmark here runs at.
var benchSizes = []int{10, 1000}

// benchPair returns desired and live attributes of a bucket and a role in
// the canonical shapes drivers and config.Resolve produce (desired tags
// include the ownership tags the engine adds), equal to each other but for
// a tag set outside envctl, which compare must ignore.
func benchPair(i int) (bucketWant, bucketLive, roleWant, roleLive resources.Attrs) {
	name := fmt.Sprintf("bench-%d-123456789012", i)
	tags := map[string]string{"project": "bench", "pair": fmt.Sprint(i), resources.TagEnv: "bench"}
	bucketPolicy := func() map[string]any {
		return map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
			"Resource":  []any{"arn:aws:s3:::" + name, "arn:aws:s3:::" + name + "/*"},
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		}}}
	}
	bucketTags := maps.Clone(tags)
	bucketTags[resources.TagID] = fmt.Sprintf("bucket_%d", i)
	bucketWant = resources.Attrs{"name": name, "versioning": true, "block_public_access": true,
		"object_ownership": "BucketOwnerEnforced", "force_destroy": false, "policy": bucketPolicy(),
		"tags": maps.Clone(bucketTags)}
	bucketLive = maps.Clone(bucketWant)
	bucketLive["policy"] = bucketPolicy()
	bucketLive["tags"] = maps.Clone(bucketTags)
	bucketLive["tags"].(map[string]string)["unmanaged"] = "set outside envctl"
	delete(bucketLive, "force_destroy")

	trust := func() map[string]any {
		return map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Sid": "EC2Assume", "Effect": "Allow", "Principal": map[string]any{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole",
		}}}
	}
	inline := func() map[string]map[string]any {
		return map[string]map[string]any{"data": {"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Sid": "ReadWrite", "Effect": "Allow", "Action": []any{"s3:GetObject", "s3:PutObject"}, "Resource": "arn:aws:s3:::" + name + "/*",
		}}}}
	}
	roleTags := maps.Clone(tags)
	roleTags[resources.TagID] = fmt.Sprintf("role_%d", i)
	roleWant = resources.Attrs{"name": fmt.Sprintf("bench-%d", i), "path": "/", "trust_policy": trust(),
		"inline_policies": inline(), "tags": maps.Clone(roleTags)}
	roleLive = maps.Clone(roleWant)
	roleLive["trust_policy"], roleLive["inline_policies"] = trust(), inline()
	roleLive["tags"] = maps.Clone(roleTags)
	return bucketWant, bucketLive, roleWant, roleLive
}

// compareCase is one resource to diff.
type compareCase struct {
	schema        *resources.Schema
	desired, live resources.Attrs
}

// benchCompareCases returns n resources to diff (n/2 buckets and n/2
// roles); with changed set, every one differs in a policy and a tag.
func benchCompareCases(b *testing.B, n int, changed bool) []compareCase {
	b.Helper()
	bucket, role := resources.SchemaFor("s3_bucket"), resources.SchemaFor("iam_role")
	if bucket == nil || role == nil {
		b.Fatal("s3_bucket and iam_role must be registered")
	}
	var cases []compareCase
	for i := 0; i < n/2; i++ {
		bw, bl, rw, rl := benchPair(i)
		if changed {
			bw["tags"].(map[string]string)["pair"] = "changed"
			st := rl["inline_policies"].(map[string]map[string]any)["data"]["Statement"].([]any)[0].(map[string]any)
			st["Action"] = "s3:*"
		}
		cases = append(cases, compareCase{bucket, bw, bl}, compareCase{role, rw, rl})
	}
	return cases
}

// BenchmarkCompare measures diffing every declared resource of an env
// against its live attributes when nothing changed: the bulk of the CPU
// work of a no-change plan.
func BenchmarkCompare(b *testing.B) {
	for _, changed := range []bool{false, true} {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("changed=%v/resources=%d", changed, n), func(b *testing.B) {
				cases := benchCompareCases(b, n, changed)
				for _, c := range cases {
					if diffs := compare(c.schema, c.desired, c.live, nil); (len(diffs) > 0) != changed {
						b.Fatalf("%s: diffs %v, want changes=%v: the fixture no longer matches the schema", c.schema.Type, diffs, changed)
					}
				}
				b.ReportAllocs()
				for b.Loop() {
					for _, c := range cases {
						compare(c.schema, c.desired, c.live, nil)
					}
				}
			})
		}
	}
}

// BenchmarkTopoOrder measures ordering an env's resources by dependency,
// which plan and destroy do once per run.
func BenchmarkTopoOrder(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("resources=%d", n), func(b *testing.B) {
			env := &config.Env{Name: "bench"}
			for i := 0; i < n/2; i++ {
				bucket := &config.Resource{ID: fmt.Sprintf("bucket_%d", i), Type: "s3_bucket"}
				role := &config.Resource{ID: fmt.Sprintf("role_%d", i), Type: "iam_role", Deps: []string{bucket.ID}}
				// Roles first, as a file may list them: the order has to be fixed.
				env.Resources = append(env.Resources, role, bucket)
			}
			b.ReportAllocs()
			for b.Loop() {
				if got := topoOrder(env); len(got) != len(env.Resources) {
					b.Fatalf("topoOrder returned %d resources, want %d", len(got), len(env.Resources))
				}
			}
		})
	}
}

// BenchmarkWalk measures the graph walk's own overhead (fn does nothing)
// on n/2 independent bucket → role pairs and on one chain of n resources,
// with the default parallelism. It checks that every node ran exactly once:
// with an fn this fast, a node whose dependencies finish while walk is
// still starting the roots is the case most likely to go wrong. It comes
// last in the file so that a crash there loses no other results.
func BenchmarkWalk(b *testing.B) {
	for _, shape := range []string{"pairs", "chain"} {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/resources=%d", shape, n), func(b *testing.B) {
				nodes := make([]string, n)
				deps := map[string][]string{}
				for i := range nodes {
					nodes[i] = fmt.Sprintf("r%04d", i)
					switch {
					case shape == "pairs" && i%2 == 1:
						deps[nodes[i]] = []string{nodes[i-1]}
					case shape == "chain" && i > 0:
						deps[nodes[i]] = []string{nodes[i-1]}
					}
				}
				var calls atomic.Int64
				count := func(context.Context, string) error { calls.Add(1); return nil }
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					calls.Store(0)
					res := walk(ctx, nodes, deps, DefaultParallelism, count)
					if len(res) != n || calls.Load() != int64(n) {
						b.Fatalf("walk ran fn %d times and returned %d results for %d nodes, want %d of each", calls.Load(), len(res), n, n)
					}
				}
			})
		}
	}
}
