package bench

import (
	"time"
)

// walls returns the wall times in seconds of the successful runs.
func (r *WorkloadResult) walls(t Tool, op Op) []float64 {
	var out []float64
	for _, o := range r.Tools[t].Ops[op] {
		out = append(out, o.Wall.Seconds())
	}
	return out
}

// Wall summarises the wall times of t doing op.
func (r *WorkloadResult) Wall(t Tool, op Op) Spread { return SpreadOf(r.walls(t, op)) }

// Ratio summarises envctl's wall time divided by Terraform's, run by run:
// both tools measured in the same run, one after the other.
func (r *WorkloadResult) Ratio(op Op) Spread {
	tf := map[int]time.Duration{}
	for _, o := range r.Tools[Terraform].Ops[op] {
		tf[o.Run] = o.Wall
	}
	var xs []float64
	for _, o := range r.Tools[Envctl].Ops[op] {
		if t, ok := tf[o.Run]; ok && t > 0 {
			xs = append(xs, o.Wall.Seconds()/t.Seconds())
		}
	}
	return SpreadOf(xs)
}

// Requests summarises the total AWS requests of t doing op.
func (r *WorkloadResult) Requests(t Tool, op Op) Spread {
	var xs []float64
	for _, o := range r.Tools[t].Ops[op] {
		xs = append(xs, float64(o.Counts.Total))
	}
	return SpreadOf(xs)
}

// Mutating summarises the state-changing requests of t doing op.
func (r *WorkloadResult) Mutating(t Tool, op Op) Spread {
	var xs []float64
	for _, o := range r.Tools[t].Ops[op] {
		xs = append(xs, float64(o.Counts.Mutating))
	}
	return SpreadOf(xs)
}

// PeakRSS is the largest peak RSS of t over every run of op.
func (r *WorkloadResult) PeakRSS(t Tool, op Op) int64 {
	var peak int64
	for _, o := range r.Tools[t].Ops[op] {
		peak = max(peak, o.MaxRSS)
	}
	return peak
}

// Slowest returns the median over runs of the longest single resource
// change, and the resource that took longest in the first run.
func (r *WorkloadResult) Slowest(t Tool, op Op) (string, Spread) {
	var xs []float64
	id := ""
	for _, o := range r.Tools[t].Ops[op] {
		if o.Slowest == "" {
			continue
		}
		if id == "" {
			id = o.Slowest
		}
		xs = append(xs, o.SlowestTime.Seconds())
	}
	return id, SpreadOf(xs)
}

// FirstCounts returns the request counts of the first successful run.
func (r *WorkloadResult) FirstCounts(t Tool, op Op) *Counts {
	ops := r.Tools[t].Ops[op]
	if len(ops) == 0 {
		return nil
	}
	return ops[0].Counts
}

// Floors summarises the latency floor of envctl doing op, run by run: each
// run's requests with the median chain measured on the calibration env.
// ok is false when the chain was not measured.
func (r *WorkloadResult) Floors(op Op, latency time.Duration, parallelism int) (sp Spread, chain float64, ok bool) {
	rounds := r.Rounds[op]
	if len(rounds) == 0 {
		return Spread{}, 0, false
	}
	chain = Median(rounds)
	var xs []float64
	for _, o := range r.Tools[Envctl].Ops[op] {
		f := Floor{Chain: chain, Total: o.Counts.Total, Parallelism: parallelism, Latency: latency}
		xs = append(xs, f.Time().Seconds())
	}
	return SpreadOf(xs), chain, len(xs) > 0
}

// Notes returns the notes of t's runs, without repeats.
func (r *WorkloadResult) Notes(t Tool) []string {
	seen := map[string]bool{}
	var out []string
	for _, op := range Ops {
		for _, o := range r.Tools[t].Ops[op] {
			if o.Note != "" && !seen[o.Note] {
				seen[o.Note] = true
				out = append(out, string(op)+": "+o.Note)
			}
		}
	}
	return out
}
