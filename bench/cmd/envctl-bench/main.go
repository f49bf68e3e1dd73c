// Command envctl-bench compares envctl with Terraform on a local
// moto_server behind a latency proxy and writes docs/benchmarks.md. It is
// what make bench runs; see package bench for what it measures.
//
//	go run ./bench/cmd/envctl-bench -out docs/benchmarks.md -n 10,50,200,500
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/litentry/envctl/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "envctl-bench:", err)
		os.Exit(1)
	}
}

// options are the command's flags beyond bench.Options.
type options struct {
	bench.Options
	out     string
	pairs   string
	timeout time.Duration
	// save writes the measurements as JSON; render makes the report from
	// such a file without measuring anything.
	save, render string
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("envctl-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "write the report here (- for stdout)")
	fs.StringVar(&o.pairs, "n", joinInts(bench.DefaultPairs), "comma-separated N for the scale workloads (N bucket/role pairs); 0 or empty for none; the full set is "+joinInts(bench.FullPairs))
	fs.IntVar(&o.Runs, "runs", bench.DefaultRuns, "runs per tool, operation and workload")
	fs.DurationVar(&o.Latency, "latency", bench.DefaultLatency, "latency the proxy adds to every AWS request")
	fs.IntVar(&o.Parallelism, "parallelism", 16, "envctl --parallelism")
	fs.IntVar(&o.TFParallelism, "tf-parallelism", bench.DefaultTFParallelism, "terraform -parallelism")
	fs.StringVar(&o.TerraformBin, "terraform", "terraform", "terraform binary")
	fs.StringVar(&o.TFPluginDir, "tf-plugin-dir", "", "root of a local plugin mirror holding the AWS provider (default: look in the usual places)")
	fs.BoolVar(&o.NoTerraform, "no-terraform", false, "measure envctl alone")
	fs.BoolVar(&o.Example, "example", true, "include the example env (testdata/example/test.yaml)")
	fs.DurationVar(&o.OpTimeout, "op-timeout", 15*time.Minute, "bound on one apply, plan or destroy")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Hour, "bound on the whole run; the report keeps what was measured (the full -n 10,50,200,500 takes well over an hour on 2 cores)")
	fs.IntVar(&o.ValidateRuns, "validate-runs", bench.DefaultValidateRuns, "timed runs of envctl validate per env")
	fs.BoolVar(&o.GoBench, "gobench", true, "run the Go micro-benchmarks of "+strings.Join(bench.GoBenchPackages, ", "))
	fs.StringVar(&o.GoBenchTime, "benchtime", "1s", "go test -benchtime for the micro-benchmarks")
	fs.StringVar(&o.WorkDir, "workdir", "", "directory for binaries, generated envs and logs (default: a temporary one)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the work directory (logs of every operation)")
	fs.StringVar(&o.save, "save", "", "also write the measurements as JSON to this file")
	fs.StringVar(&o.render, "render", "", "write the report from measurements saved with -save, measuring nothing")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, s := range strings.Split(o.pairs, ",") {
		s = strings.TrimSpace(s)
		if s == "" || s == "0" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > bench.MaxPairs {
			return nil, fmt.Errorf("-n: %q is not a number of pairs in 1..%d", s, bench.MaxPairs)
		}
		o.Pairs = append(o.Pairs, n)
	}
	switch {
	case o.Runs < 1 || o.Runs > 100:
		return nil, fmt.Errorf("-runs %d: expected 1..100", o.Runs)
	case o.Parallelism < 1 || o.TFParallelism < 1:
		return nil, errors.New("-parallelism and -tf-parallelism must be at least 1")
	case o.ValidateRuns < 1 || o.ValidateRuns > 1000:
		return nil, fmt.Errorf("-validate-runs %d: expected 1..1000", o.ValidateRuns)
	case o.OpTimeout <= 0 || o.timeout <= 0:
		return nil, errors.New("-op-timeout and -timeout must be positive")
	}
	o.Command = reproduce(fs)
	return o, nil
}

// notMeasuring lists the flags that change where things go, not what is
// measured; the report's command leaves them out.
var notMeasuring = map[string]bool{"out": true, "save": true, "render": true, "keep": true, "workdir": true}

// reproduce returns the command that measures the same things: make bench
// with BENCH_FLAGS when the report goes to docs/benchmarks.md, else go run.
func reproduce(fs *flag.FlagSet) string {
	var args []string
	fs.Visit(func(f *flag.Flag) {
		if !notMeasuring[f.Name] {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	if out := fs.Lookup("out").Value.String(); out != "docs/benchmarks.md" {
		return strings.TrimSpace("go run ./bench/cmd/envctl-bench -out=" + shellJoin([]string{out}) + " " + shellJoin(args))
	}
	if len(args) == 0 {
		return "make bench"
	}
	return "make bench BENCH_FLAGS=" + shellJoin([]string{strings.Join(args, " ")})
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if o.render != "" {
		b, err := os.ReadFile(o.render)
		if err != nil {
			return err
		}
		var rep bench.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			return fmt.Errorf("%s: %w", o.render, err)
		}
		return writeReport(o, &rep, stderr)
	}
	repo, err := moduleRoot()
	if err != nil {
		return err
	}
	o.Repo, o.Log = repo, stderr
	if o.WorkDir == "" {
		dir, err := os.MkdirTemp("", "envctl-bench-")
		if err != nil {
			return err
		}
		o.WorkDir = dir
		if !o.Keep {
			defer os.RemoveAll(dir)
		}
	}
	if o.Keep {
		fmt.Fprintf(stderr, "work directory (kept): %s\n", o.WorkDir)
	}
	runCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	rep, err := bench.Run(runCtx, o.Options)
	switch {
	case err != nil:
		// Nothing was measured: keep the report that is there.
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted; %s left as it was", o.out)
	}
	// A run stopped by -timeout is written: the report says what is missing.
	if o.save != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := writeOut(o.save, append(b, '\n')); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", o.save)
	}
	return writeReport(o, rep, stderr)
}

// writeReport renders rep as Markdown to -out.
func writeReport(o *options, rep *bench.Report, stderr io.Writer) error {
	var buf bytes.Buffer
	bench.WriteMarkdown(&buf, rep)
	if err := writeOut(o.out, buf.Bytes()); err != nil {
		return err
	}
	if o.out != "-" {
		fmt.Fprintf(stderr, "wrote %s (measured in %s)\n", o.out, rep.Elapsed.Round(time.Second))
	}
	return nil
}

// writeOut writes the report through a temporary file and a rename.
func writeOut(path string, b []byte) error {
	if path == "-" {
		_, err := os.Stdout.Write(b)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".envctl-bench-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// moduleRoot finds the envctl module root at or above the working
// directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for i := 0; i < 64; i++ {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/litentry/envctl\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("run envctl-bench inside the envctl module (no go.mod of github.com/litentry/envctl above the working directory)")
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// shellJoin quotes args for a copy-pasteable command line.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:") == "" {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
