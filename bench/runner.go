package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/awsapi"
)

// Tool is a provisioner under test.
type Tool string

// The tools compared.
const (
	Envctl    Tool = "envctl"
	Terraform Tool = "terraform"
)

// Op is a measured operation.
type Op string

// The operations measured on every workload, in the order they run.
const (
	OpApply   Op = "apply"   // apply from nothing
	OpPlan    Op = "plan"    // plan right after apply: no changes expected
	OpDestroy Op = "destroy" // destroy everything
)

// Ops lists the operations in the order they run.
var Ops = []Op{OpApply, OpPlan, OpDestroy}

// Options configure a benchmark run.
type Options struct {
	// Repo is the envctl module root.
	Repo string
	// Pairs lists N for the scale workloads.
	Pairs []int
	// Example includes the example env workload.
	Example bool
	// Runs is how many times each tool runs each workload.
	Runs int
	// Latency is added to every AWS request by the proxy.
	Latency time.Duration
	// Parallelism is envctl's --parallelism; TFParallelism Terraform's.
	Parallelism, TFParallelism int
	// TerraformBin and TFPluginDir locate Terraform and the AWS provider;
	// NoTerraform measures envctl alone.
	TerraformBin, TFPluginDir string
	NoTerraform               bool
	// OpTimeout bounds one apply, plan or destroy.
	OpTimeout time.Duration
	// ValidateRuns is how many times envctl validate is timed per env.
	ValidateRuns int
	// GoBench runs the Go micro-benchmarks with -benchtime GoBenchTime.
	GoBench     bool
	GoBenchTime string
	// WorkDir holds binaries, generated envs and logs; Keep leaves it.
	WorkDir string
	Keep    bool
	// Log receives progress lines.
	Log io.Writer `json:"-"`
	// Command is the command line that produced the run, for the report.
	Command string
}

// OpResult is one measured operation.
type OpResult struct {
	Run    int
	Wall   time.Duration
	Counts *Counts
	// MaxRSS is the peak resident set size in bytes.
	MaxRSS int64
	// Slowest is the resource whose change took longest, from the tool's
	// "complete after" lines, and SlowestTime how long it took.
	Slowest     string
	SlowestTime time.Duration
	// Note records something unexpected that did not stop the run, such as
	// a plan after apply that still shows changes.
	Note string
}

// ToolResult is what one tool did on one workload.
type ToolResult struct {
	// Ops holds the successful runs of each operation.
	Ops map[Op][]OpResult
	// Failure is the first failure; the tool is not run again on the
	// workload after one.
	Failure string
	// NotRun says why the tool did not run at all.
	NotRun string
}

// WorkloadResult is the measurements of one workload.
type WorkloadResult struct {
	W     *Workload
	Tools map[Tool]*ToolResult
	// Rounds holds, per operation, the latency rounds on envctl's critical
	// path measured in each run on the workload's calibration env.
	Rounds map[Op][]float64
	// ZeroLatency holds, per operation, envctl's wall time in seconds on the
	// workload's env without added latency, one per run.
	ZeroLatency map[Op][]float64
	// CalibrationErr is why measuring the rounds failed, if it did.
	CalibrationErr string
}

// Report is everything one benchmark run measured.
type Report struct {
	Opts    Options
	Machine Machine
	TF      TerraformProvider
	// TFErr says why Terraform was not measured, if it was not.
	TFErr      string
	Workloads  []*WorkloadResult
	Validate   []ValidateResult
	GoBench    []GoBenchResult
	GoBenchErr string
	Started    time.Time
	Elapsed    time.Duration
	// Stopped says why the run ended early, if it did.
	Stopped string
}

type runner struct {
	o      Options
	moto   *moto.Server
	envctl string
	proxy  string
	tfrc   string
	tf     TerraformProvider
	tfOK   bool
	rep    *Report
	// setup talks to moto directly, for set-up that is not measured.
	setup *awsapi.Clients
}

func (r *runner) logf(format string, args ...any) {
	if r.o.Log != nil {
		fmt.Fprintf(r.o.Log, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
}

// Run builds envctl and awsproxy, starts moto_server and runs every
// workload. It returns a report even when parts failed; the error is for
// problems that stop everything (no moto_server, a build failure).
func Run(ctx context.Context, o Options) (*Report, error) {
	rep := &Report{Opts: o, Started: time.Now()}
	defer func() { rep.Elapsed = time.Since(rep.Started) }()
	r := &runner{o: o, rep: rep}
	if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return rep, err
	}
	r.logf("building envctl and awsproxy into %s", o.WorkDir)
	r.envctl = filepath.Join(o.WorkDir, "bin", "envctl")
	r.proxy = filepath.Join(o.WorkDir, "bin", "awsproxy")
	for pkg, out := range map[string]string{"./cmd/envctl": r.envctl, "./internal/awsproxy/cmd/awsproxy": r.proxy} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = o.Repo
		if b, err := cmd.CombinedOutput(); err != nil {
			return rep, fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	if o.NoTerraform {
		rep.TFErr = "skipped (-no-terraform)"
	} else if tf, err := FindTerraform(o.TerraformBin, o.TFPluginDir); err != nil {
		rep.TFErr = err.Error()
		r.logf("Terraform unavailable, measuring envctl alone: %v", err)
	} else {
		r.tf, r.tfOK, rep.TF = tf, true, tf
		r.logf("Terraform %s, AWS provider %s from %s", tf.Version, tf.ProviderVersion, tf.PluginDir)
	}
	r.tfrc = filepath.Join(o.WorkDir, "terraformrc")
	if err := os.WriteFile(r.tfrc, []byte("# empty: the benchmark passes -plugin-dir to terraform init\n"), 0o644); err != nil {
		return rep, err
	}
	rep.Machine = DescribeMachine(ctx, o.Repo, r.tf)

	r.logf("starting moto_server")
	// The harness itself talks to moto only to set workloads up (a hosted
	// zone); fake credentials keep the SDK away from any real profile.
	moto.SetTestCredentials()
	srv, err := moto.Start()
	if err != nil {
		return rep, err
	}
	defer srv.Stop()
	r.moto = srv

	var workloads []*Workload
	if o.Example {
		w, err := NewExampleWorkload(o.Repo, filepath.Join(o.WorkDir, "workloads"), r.tf)
		if err != nil {
			return rep, err
		}
		workloads = append(workloads, w)
	}
	for _, n := range o.Pairs {
		w, err := NewScaleWorkload(filepath.Join(o.WorkDir, "workloads"), n, r.tf)
		if err != nil {
			return rep, err
		}
		workloads = append(workloads, w)
	}

	r.runValidate(ctx, workloads)
	if o.GoBench {
		r.logf("running the Go micro-benchmarks (-benchtime %s)", o.GoBenchTime)
		rep.GoBench, err = RunGoBench(ctx, o.Repo, o.GoBenchTime)
		if err != nil {
			rep.GoBenchErr = err.Error()
			r.logf("Go micro-benchmarks: %v", err)
		}
	}
	for _, w := range workloads {
		if ctx.Err() != nil {
			rep.Stopped = fmt.Sprintf("stopped before workload %s: %v", w.Name, ctx.Err())
			break
		}
		rep.Workloads = append(rep.Workloads, r.runWorkload(ctx, w))
	}
	if ctx.Err() != nil && rep.Stopped == "" {
		rep.Stopped = fmt.Sprintf("stopped: %v", ctx.Err())
	}
	return rep, nil
}

// childEnv is the environment of every child: the harness's own without
// anything AWS or Terraform, plus fake credentials that only moto accepts.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "TF_") || k == "CI" || k == "NO_COLOR" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"NO_COLOR=1")
	return append(env, extra...)
}

func (r *runner) tfEnv() []string {
	return childEnv("TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1", "TF_CLI_CONFIG_FILE="+r.tfrc)
}

// resetMoto empties moto, warms it up and creates what the workload
// expects to exist, all straight to moto, not through the proxy: set-up is
// not measured.
func (r *runner) resetMoto(ctx context.Context, w *Workload) error {
	if err := r.moto.Reset(); err != nil {
		return fmt.Errorf("%w: %v", errInfra, err)
	}
	if r.setup == nil {
		c, err := awsapi.New(ctx, awsapi.Options{Region: "us-east-1", EndpointURL: r.moto.URL})
		if err != nil {
			return err
		}
		r.setup = c
	}
	c := r.setup
	// moto builds a service's backend on its first request after start and
	// after every reset (EC2: about a second the first time, 50-200 ms
	// after a reset). One cheap call per service keeps that out of whichever
	// tool happens to run first; errors do not matter here.
	_, _ = c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	_, _ = c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	_, _ = c.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")})
	_, _ = c.IAM.ListRoles(ctx, &iam.ListRolesInput{})
	_, _ = c.S3.ListBuckets(ctx, &s3.ListBucketsInput{})
	_, _ = c.Route53.ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	if w.Zone == "" {
		return nil
	}
	_, err := c.Route53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name:            aws.String(w.Zone),
		CallerReference: aws.String(fmt.Sprintf("envctl-bench-%d", time.Now().UnixNano())),
	})
	if err != nil {
		return fmt.Errorf("create hosted zone %s: %w", w.Zone, err)
	}
	return nil
}

func (r *runner) runWorkload(ctx context.Context, w *Workload) *WorkloadResult {
	res := &WorkloadResult{W: w, Rounds: map[Op][]float64{}, ZeroLatency: map[Op][]float64{}, Tools: map[Tool]*ToolResult{
		Envctl:    {Ops: map[Op][]OpResult{}},
		Terraform: {Ops: map[Op][]OpResult{}},
	}}
	r.logf("workload %s: %s", w.Name, w.Title)
	if w.LoadErr != "" {
		res.Tools[Envctl].Failure = "the env file does not load (a driver not finished?): " + tail(w.LoadErr, 6)
		r.logf("  envctl: %s", res.Tools[Envctl].Failure)
	}
	tools := []Tool{Envctl}
	if !r.tfOK {
		res.Tools[Terraform].NotRun = "Terraform unavailable: " + r.rep.TFErr
	} else if err := r.terraformInit(ctx, w); err != nil {
		res.Tools[Terraform].Failure = "terraform init: " + err.Error()
		r.logf("  terraform: %s", res.Tools[Terraform].Failure)
	} else {
		tools = append(tools, Terraform)
	}
	for run := 1; run <= r.o.Runs; run++ {
		order := slices.Clone(tools)
		if run%2 == 0 {
			slices.Reverse(order) // neither tool always goes first
		}
		for _, tool := range order {
			tr := res.Tools[tool]
			if tr.Failure != "" || ctx.Err() != nil {
				continue
			}
			r.runTool(ctx, w, tool, run, tr)
			if tool == Envctl && tr.Failure == "" && res.CalibrationErr == "" {
				err := r.calibrate(ctx, w, run, res)
				if errors.Is(err, errInfra) && ctx.Err() == nil {
					r.logf("  envctl calibration run %d: %v; once more", run, firstLine(err.Error()))
					err = r.calibrate(ctx, w, run, res)
				}
				if err != nil {
					res.CalibrationErr = fmt.Sprintf("run %d: %v", run, err)
					r.logf("  envctl calibration run %d FAILED: %v", run, firstLine(err.Error()))
				}
			}
		}
	}
	return res
}

// errInfra marks failures of the benchmark's own machinery (the proxy, the
// emulator's reset) rather than of the tool under test: the run is tried
// once more instead of counting as the tool's failure.
var errInfra = errors.New("benchmark infrastructure")

// runTool runs apply, plan and destroy of one tool from an empty moto and
// records the results in tr, or the failure that stops the tool on this
// workload. A run broken by the harness's own machinery is repeated once.
func (r *runner) runTool(ctx context.Context, w *Workload, tool Tool, run int, tr *ToolResult) {
	var results map[Op]OpResult
	var err error
	for attempt := 1; attempt <= 2; attempt++ {
		results, err = r.runOps(ctx, w, tool, run)
		if err == nil || !errors.Is(err, errInfra) || ctx.Err() != nil {
			break
		}
		r.logf("  %s run %d: %v; running it once more", tool, run, firstLine(err.Error()))
	}
	for _, op := range Ops {
		if or, ok := results[op]; ok {
			tr.Ops[op] = append(tr.Ops[op], or)
		}
	}
	if err != nil {
		tr.Failure = fmt.Sprintf("run %d, %v", run, err)
		r.logf("  %s run %d FAILED: %v", tool, run, firstLine(err.Error()))
	}
}

// runOps is one attempt at apply, plan and destroy; it stops at the first
// failure and returns what succeeded before it.
func (r *runner) runOps(ctx context.Context, w *Workload, tool Tool, run int) (map[Op]OpResult, error) {
	if err := r.resetMoto(ctx, w); err != nil {
		return nil, fmt.Errorf("set up moto: %w", err)
	}
	if tool == Terraform {
		for _, f := range []string{"terraform.tfstate", "terraform.tfstate.backup"} {
			_ = os.Remove(filepath.Join(w.TFDir, f))
		}
	}
	results := map[Op]OpResult{}
	for _, op := range Ops {
		or, err := r.runOp(ctx, w, tool, op, run)
		if err != nil {
			return results, fmt.Errorf("%s: %w", op, err)
		}
		results[op] = *or
		r.logf("  %-9s %-7s run %d: %8s  %5d requests  peak RSS %s%s", tool, op, run,
			or.Wall.Round(time.Millisecond), or.Counts.Total, formatBytes(or.MaxRSS), noteSuffix(or.Note))
	}
	return results, nil
}

// calibrationRepeats is how often each sequence on the calibration env runs.
const calibrationRepeats = 3

// calibrate measures what the latency costs envctl in each operation:
// apply, plan and destroy on the calibration env once with the benchmark's
// latency and once without (the rounds on the critical path, see Rounds),
// and on the workload's env without latency (what remains is envctl's and
// moto's own time). Each sequence starts from an empty moto; those on the
// calibration env run calibrationRepeats times and the fastest time of each
// operation counts.
func (r *runner) calibrate(ctx context.Context, w *Workload, run int, res *WorkloadResult) error {
	type sequence struct {
		dir, env string
		latency  time.Duration
		repeats  int
		walls    map[Op]time.Duration
	}
	calibL := &sequence{dir: w.CalibDir, env: w.CalibName, latency: r.o.Latency, repeats: calibrationRepeats}
	calib0 := &sequence{dir: w.CalibDir, env: w.CalibName, repeats: calibrationRepeats}
	main0 := calib0
	seqs := []*sequence{calibL, calib0}
	if w.CalibDir != w.EnvDir || w.CalibName != w.EnvName {
		// Once: at large N this is as slow as the measured run itself.
		main0 = &sequence{dir: w.EnvDir, env: w.EnvName, repeats: 1}
		seqs = append(seqs, main0)
	}
	for _, sq := range seqs {
		sq.walls = map[Op]time.Duration{}
		// The fastest of a few repetitions: noise only ever adds time.
		for rep := 1; rep <= sq.repeats; rep++ {
			if err := r.resetMoto(ctx, w); err != nil {
				return err
			}
			for _, op := range Ops {
				c, _, err := r.exec(ctx, Envctl, op, sq.dir, sq.env, sq.latency, fmt.Sprintf("%s/calibration-%s-%s-%s-run%d.%d", w.Name, sq.env, op, sq.latency, run, rep))
				if err != nil {
					return fmt.Errorf("%s of %s at latency %s: %w", op, sq.env, sq.latency, err)
				}
				if c.ExitCode != 0 {
					return fmt.Errorf("%s of %s at latency %s: exit %d:\n%s", op, sq.env, sq.latency, c.ExitCode, tail(c.Stderr+"\n"+c.Stdout, 10))
				}
				if old, ok := sq.walls[op]; !ok || c.Wall < old {
					sq.walls[op] = c.Wall
				}
			}
		}
	}
	var parts []string
	for _, op := range Ops {
		rounds := Rounds(calibL.walls[op], calib0.walls[op], r.o.Latency)
		res.Rounds[op] = append(res.Rounds[op], rounds)
		res.ZeroLatency[op] = append(res.ZeroLatency[op], main0.walls[op].Seconds())
		parts = append(parts, fmt.Sprintf("%s %.1f rounds (%s at 0 ms)", op, rounds, main0.walls[op].Round(time.Millisecond)))
	}
	r.logf("  envctl    latency run %d: %s", run, strings.Join(parts, ", "))
	return nil
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return "  (" + note + ")"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// terraformInit runs terraform init once per workload from the local plugin
// mirror; it is not measured.
func (r *runner) terraformInit(ctx context.Context, w *Workload) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	c, err := runChild(ctx, w.TFDir, r.tfEnv(), r.tf.Bin, "init", "-input=false", "-no-color", "-plugin-dir="+r.tf.PluginDir)
	if err != nil {
		return err
	}
	if c.ExitCode != 0 {
		return fmt.Errorf("exit %d:\n%s", c.ExitCode, tail(c.Stderr+c.Stdout, 12))
	}
	return nil
}

// completeLine matches the per-resource completion lines envctl and
// Terraform both print: "role_0001: Creation complete after 312ms".
var completeLine = regexp.MustCompile(`(?m)^(\S+): (?:Creation|Destruction|Modifications) complete after ([0-9][0-9a-zµ.]*)`)

// slowest finds the longest per-resource completion time in out.
func slowest(out string) (string, time.Duration) {
	var id string
	var longest time.Duration
	for _, m := range completeLine.FindAllStringSubmatch(out, -1) {
		if d, err := time.ParseDuration(m[2]); err == nil && d > longest {
			id, longest = m[1], d
		}
	}
	return id, longest
}

// runOp runs one measured operation of one tool on the workload.
func (r *runner) runOp(ctx context.Context, w *Workload, tool Tool, op Op, run int) (*OpResult, error) {
	dir, env := w.EnvDir, w.EnvName
	if tool == Terraform {
		dir = w.TFDir
	}
	c, counts, err := r.exec(ctx, tool, op, dir, env, r.o.Latency, fmt.Sprintf("%s/%s-%s-run%d", w.Name, tool, op, run))
	if err != nil {
		return nil, err
	}
	res := &OpResult{Run: run, Wall: c.Wall, Counts: counts, MaxRSS: c.MaxRSS}
	res.Slowest, res.SlowestTime = slowest(c.Stdout)
	switch {
	case op == OpPlan && c.ExitCode == 2:
		res.Note = "the plan right after apply is not empty (exit 2): " + planSummary(c.Stdout)
	case c.ExitCode != 0:
		return nil, fmt.Errorf("exit %d:\n%s", c.ExitCode, tail(c.Stderr+"\n"+c.Stdout, 15))
	}
	return res, nil
}

// exec runs one operation of one tool behind a fresh proxy with the given
// latency: envctl on the env dir/env.yaml, Terraform in dir. It returns the
// finished process and the proxy's counts; a non-zero exit is not an error
// here. The output is kept under WorkDir/logs/logName.log.
func (r *runner) exec(ctx context.Context, tool Tool, op Op, dir, env string, latency time.Duration, logName string) (*child, *Counts, error) {
	p, err := startProxy(ctx, r.proxy, r.moto.URL, latency, filepath.Join(r.o.WorkDir, "counts.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errInfra, err)
	}
	var (
		bin, workDir string
		args, envv   []string
	)
	switch tool {
	case Envctl:
		workDir, bin, envv = r.o.Repo, r.envctl, childEnv()
		args = []string{"--dir", dir, "--endpoint-url", p.URL, "--no-color", "--parallelism", strconv.Itoa(r.o.Parallelism), string(op), "--env", env}
	case Terraform:
		workDir, bin, envv = dir, r.tf.Bin, r.tfEnv()
		args = []string{string(op), "-input=false", "-no-color", "-parallelism=" + strconv.Itoa(r.o.TFParallelism), "-var", "endpoint=" + p.URL}
	}
	switch {
	case op == OpPlan && tool == Envctl:
		args = append(args, "--detailed-exitcode")
	case op == OpPlan:
		args = append(args, "-detailed-exitcode")
	case tool == Envctl:
		args = append(args, "--auto-approve")
	default:
		args = append(args, "-auto-approve")
	}
	opCtx, cancel := context.WithTimeout(ctx, r.o.OpTimeout)
	c, runErr := runChild(opCtx, workDir, envv, bin, args...)
	cancel()
	counts, countErr := p.stop()
	if c != nil {
		r.saveLog(logName, c)
	}
	if runErr != nil {
		return c, counts, runErr
	}
	if countErr != nil {
		return c, nil, fmt.Errorf("%w: %v", errInfra, countErr)
	}
	return c, counts, nil
}

// planSummary returns the summary line of a plan's output.
func planSummary(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Plan:") {
			return strings.TrimSpace(line)
		}
	}
	return tail(out, 3)
}

// saveLog keeps each operation's output under WorkDir/logs, for -keep.
func (r *runner) saveLog(name string, c *child) {
	path := filepath.Join(r.o.WorkDir, "logs", name+".log")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return
	}
	body := fmt.Sprintf("exit %d after %s\n--- stdout\n%s\n--- stderr\n%s", c.ExitCode, c.Wall, c.Stdout, c.Stderr)
	_ = os.WriteFile(path, []byte(body), 0o644)
}

// ValidateResult is the start-up measurement of envctl validate on one env.
type ValidateResult struct {
	Name     string
	Walls    []time.Duration
	Requests int
	ExitCode int
	Err      string
}

// runValidate times envctl validate on the example env, the core env and
// the largest generated env, through a proxy that shows it calls no AWS.
func (r *runner) runValidate(ctx context.Context, workloads []*Workload) {
	type target struct{ name, dir, env string }
	targets := []target{
		{"testdata/example/test.yaml", filepath.Join(r.o.Repo, "testdata", "example"), "test"},
		{"testdata/core/core.yaml", filepath.Join(r.o.Repo, "testdata", "core"), "core"},
	}
	var largest *Workload
	for _, w := range workloads {
		if w.Pairs > 0 && (largest == nil || w.Pairs > largest.Pairs) {
			largest = w
		}
	}
	if largest != nil {
		targets = append(targets, target{fmt.Sprintf("generated, N=%d (%d resources)", largest.Pairs, 2*largest.Pairs), largest.EnvDir, largest.EnvName})
	}
	for _, t := range targets {
		vr := ValidateResult{Name: t.name}
		r.logf("timing envctl validate on %s (%d runs)", t.name, r.o.ValidateRuns)
		p, err := startProxy(ctx, r.proxy, r.moto.URL, r.o.Latency, filepath.Join(r.o.WorkDir, "counts.json"))
		if err != nil {
			vr.Err = err.Error()
			r.rep.Validate = append(r.rep.Validate, vr)
			continue
		}
		args := []string{"--dir", t.dir, "--endpoint-url", p.URL, "--no-color", "validate", "--env", t.env}
		// One untimed run first, so the binary is in the page cache.
		for i := 0; i <= r.o.ValidateRuns && ctx.Err() == nil; i++ {
			vctx, cancel := context.WithTimeout(ctx, time.Minute)
			c, err := runChild(vctx, r.o.Repo, childEnv(), r.envctl, args...)
			cancel()
			if err != nil {
				vr.Err = err.Error()
				break
			}
			vr.ExitCode = c.ExitCode
			if c.ExitCode != 0 {
				vr.Err = tail(c.Stderr, 4)
			}
			if i > 0 {
				vr.Walls = append(vr.Walls, c.Wall)
			}
		}
		if counts, err := p.stop(); err != nil {
			vr.Err = strings.TrimSpace(vr.Err + "\n" + err.Error())
		} else {
			vr.Requests = counts.Total
		}
		r.rep.Validate = append(r.rep.Validate, vr)
	}
}
