package bench

import "time"

// Defaults of the envctl-bench command; make bench runs with them.
var (
	// DefaultPairs are the scale workloads a plain make bench runs. The full
	// set, 10,50,200,500, takes longer (see docs/benchmarks.md).
	DefaultPairs = []int{10, 50}
	// FullPairs is every size the issue asks for.
	FullPairs = []int{10, 50, 200, 500}
)

const (
	// DefaultRuns is how many times each tool runs each workload.
	DefaultRuns = 3
	// DefaultLatency is a fair round trip from a CI runner to an AWS region.
	DefaultLatency = 30 * time.Millisecond
	// DefaultTFParallelism is Terraform's own default.
	DefaultTFParallelism = 10
	// DefaultValidateRuns is how many times envctl validate is timed.
	DefaultValidateRuns = 20
)
