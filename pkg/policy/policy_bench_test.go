package policy_test

import (
	"fmt"
	"testing"

	"github.com/litentry/envctl/pkg/policy"
)

// benchDoc returns a policy document with n statements shaped like the ones
// envctl manages (actions, resources, a condition), as encoding/json
// decodes them. With sids false the statements have no Sid, so Diff must
// match them by content. reversed lists them in the opposite order, which
// Normalize must undo.
func benchDoc(n int, sids, reversed bool) map[string]any {
	st := make([]any, n)
	for i := 0; i < n; i++ {
		s := map[string]any{
			"Effect":   "Allow",
			"Action":   []any{"s3:PutObject", "s3:GetObject"},
			"Resource": fmt.Sprintf("arn:aws:s3:::bucket-%d/${aws:PrincipalTag/user}/*", i),
			"Condition": map[string]any{
				"StringEquals": map[string]any{"aws:RequestedRegion": []any{"us-east-1", "eu-west-1"}},
				"Bool":         map[string]any{"aws:SecureTransport": true},
			},
		}
		if sids {
			s["Sid"] = fmt.Sprintf("Statement%d", i)
		}
		j := i
		if reversed {
			j = n - 1 - i
		}
		st[j] = s
	}
	return map[string]any{"Version": "2012-10-17", "Statement": st}
}

var sizes = []int{10, 1000}

// BenchmarkNormalize measures bringing a document to its canonical form.
func BenchmarkNormalize(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("statements=%d", n), func(b *testing.B) {
			doc := benchDoc(n, true, true)
			b.ReportAllocs()
			for b.Loop() {
				policy.Normalize(doc)
			}
		})
	}
}

// BenchmarkEqual measures comparing two documents that differ only in
// statement order and value types, the no-change path of every plan.
func BenchmarkEqual(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("statements=%d", n), func(b *testing.B) {
			x, y := benchDoc(n, true, false), benchDoc(n, true, true)
			if !policy.Equal(x, y) {
				b.Fatal("the documents must be equal")
			}
			b.ReportAllocs()
			for b.Loop() {
				policy.Equal(x, y)
			}
		})
	}
}

// BenchmarkDiff measures diffing two documents where one statement changed,
// with statements matched by Sid and, without Sids, by content.
func BenchmarkDiff(b *testing.B) {
	for _, sids := range []bool{true, false} {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("sids=%v/statements=%d", sids, n), func(b *testing.B) {
				before, after := benchDoc(n, sids, false), benchDoc(n, sids, true)
				changed := after["Statement"].([]any)[n/2].(map[string]any)
				changed["Action"] = "s3:*"
				if len(policy.Diff("policy", before, after)) == 0 {
					b.Fatal("the documents must differ")
				}
				b.ReportAllocs()
				for b.Loop() {
					policy.Diff("policy", before, after)
				}
			})
		}
	}
}
