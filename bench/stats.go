package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// Spread is the median, minimum and maximum of a sample.
type Spread struct {
	Median, Min, Max float64
	N                int
}

// SpreadOf summarises xs.
func SpreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	return Spread{Median: Median(xs), Min: slices.Min(xs), Max: slices.Max(xs), N: len(xs)}
}

// seconds converts durations to seconds.
func seconds(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = d.Seconds()
	}
	return out
}

// LinearFit fits y = a·x + b by least squares. With fewer than two distinct
// x it returns ok false.
func LinearFit(xs, ys []float64) (a, b float64, ok bool) {
	if len(xs) != len(ys) || len(xs) < 2 {
		return 0, 0, false
	}
	var sx, sy, sxx, sxy float64
	n := float64(len(xs))
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	den := n*sxx - sx*sx
	if math.Abs(den) < 1e-12 {
		return 0, 0, false
	}
	a = (n*sxy - sx*sy) / den
	b = (sy - a*sx) / n
	return a, b, true
}

// formatSeconds renders a duration given in seconds with a precision that
// suits its size.
func formatSeconds(s float64) string {
	switch {
	case s < 1e-6:
		return fmt.Sprintf("%.0f ns", s*1e9)
	case s < 0.001:
		return fmt.Sprintf("%.0f µs", s*1e6)
	case s < 0.01:
		return fmt.Sprintf("%.2f ms", s*1e3)
	case s < 1:
		return fmt.Sprintf("%.0f ms", s*1e3)
	case s < 10:
		return fmt.Sprintf("%.2f s", s)
	case s < 100:
		return fmt.Sprintf("%.1f s", s)
	}
	return fmt.Sprintf("%.0f s", s)
}

// formatSpread renders "median (min–max)" of seconds.
func formatSpread(sp Spread) string {
	if sp.N == 0 {
		return "—"
	}
	if sp.N == 1 {
		return formatSeconds(sp.Median) + " (1 run)"
	}
	return fmt.Sprintf("%s (%s–%s)", formatSeconds(sp.Median), formatSeconds(sp.Min), formatSeconds(sp.Max))
}

// formatRatio renders a ratio spread: "0.05 (0.04–0.06)".
func formatRatio(sp Spread) string {
	if sp.N == 0 {
		return "—"
	}
	f := func(x float64) string {
		if x >= 10 {
			return fmt.Sprintf("%.0f", x)
		}
		if x >= 0.1 {
			return fmt.Sprintf("%.2f", x)
		}
		return fmt.Sprintf("%.3f", x)
	}
	if sp.N == 1 {
		return f(sp.Median) + " (1 run)"
	}
	return fmt.Sprintf("%s (%s–%s)", f(sp.Median), f(sp.Min), f(sp.Max))
}

// formatBytes renders a byte count in MB (10^6).
func formatBytes(b int64) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/1e6)
}

// formatSize renders a byte count with a decimal unit.
func formatSize(b int64) string {
	switch {
	case b < 1e3:
		return fmt.Sprintf("%d B", b)
	case b < 1e6:
		return fmt.Sprintf("%.1f kB", float64(b)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(b)/1e6)
}

// formatLatency renders a latency as "30 ms".
func formatLatency(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return fmt.Sprintf("%d ms", d/time.Millisecond)
	}
	return d.String()
}
