package bench

import (
	"time"
)

// Floor is the latency floor of one operation: the time the added latency
// alone forces, however fast envctl and the emulator were.
type Floor struct {
	// Chain is the number of requests on the longest chain of requests that
	// must follow one another (measured: see Rounds).
	Chain float64
	// Total is the number of requests.
	Total int
	// Parallelism is the concurrency limit the requests share.
	Parallelism int
	// Latency is the latency added to every request.
	Latency time.Duration
}

// Time is Chain × latency + Total × latency ÷ parallelism.
func (f Floor) Time() time.Duration {
	if f.Parallelism < 1 {
		return 0
	}
	reqs := f.Chain + float64(f.Total)/float64(f.Parallelism)
	return time.Duration(reqs * float64(f.Latency))
}

// Rounds is how many latency round trips lie on the critical path of an
// operation: the extra wall time the latency causes, divided by the
// latency. It is measured on an env with one resource per dependency level
// (a single pair for the scale workloads), where no concurrency limit is
// reached, so the extra time is the chain of dependent requests and nothing
// else: the env's dependency depth × the sequential requests a resource
// needs, plus the account check. Process start, CPU and emulator time are
// the same at both latencies and cancel out.
func Rounds(withLatency, withoutLatency, latency time.Duration) float64 {
	if latency <= 0 {
		return 0
	}
	return max(0, float64(withLatency-withoutLatency)/float64(latency))
}
