package bench

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// GoBenchPackages are the packages whose pure parts have Go benchmarks.
var GoBenchPackages = []string{"./pkg/config", "./pkg/policy", "./pkg/plan"}

// GoBenchResult is one line of go test -bench -benchmem output.
type GoBenchResult struct {
	Package     string
	Name        string
	N           int64
	NsPerOp     float64
	BytesPerOp  int64
	AllocsPerOp int64
}

// RunGoBench runs the Go benchmarks of GoBenchPackages in repo and parses
// the results. Results parsed before a failure are returned with the error.
func RunGoBench(ctx context.Context, repo, benchtime string) ([]GoBenchResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1", "-benchtime", benchtime, "-timeout", "14m"}, GoBenchPackages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	res := ParseGoBench(string(out))
	if err != nil {
		return res, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, failureLines(string(out)))
	}
	return res, nil
}

// failureLine matches what says why go test failed: FAIL lines, a fatal
// error or panic, and the benchmarks' own messages; not stack frames.
var failureLine = regexp.MustCompile(`^(--- FAIL|FAIL|fatal error|panic:|\s+\S+_test\.go:\d+: )`)

// failureLines picks the lines that explain a go test failure, or the last
// lines of its output when none match.
func failureLines(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if failureLine.MatchString(line) && len(keep) < 20 {
			keep = append(keep, line)
		}
	}
	if len(keep) == 0 {
		return tail(out, 10)
	}
	return strings.Join(keep, "\n")
}

// ParseGoBench reads go test -bench -benchmem output.
func ParseGoBench(out string) []GoBenchResult {
	var res []GoBenchResult
	pkg := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		n, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		r := GoBenchResult{Package: pkg, Name: trimProcs(fields[0]), N: n}
		for i := 2; i+1 < len(fields); i += 2 {
			v, unit := fields[i], fields[i+1]
			switch unit {
			case "ns/op":
				r.NsPerOp, _ = strconv.ParseFloat(v, 64)
			case "B/op":
				r.BytesPerOp, _ = strconv.ParseInt(v, 10, 64)
			case "allocs/op":
				r.AllocsPerOp, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		res = append(res, r)
	}
	return res
}

// trimProcs drops the -GOMAXPROCS suffix go test adds to benchmark names.
func trimProcs(name string) string {
	i := strings.LastIndex(name, "-")
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}
