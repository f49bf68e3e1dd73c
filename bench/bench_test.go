package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestScaleWorkloadLoads(t *testing.T) {
	w, err := NewScaleWorkload(t.TempDir(), 3, TerraformProvider{})
	if err != nil {
		t.Fatal(err)
	}
	if w.LoadErr != "" {
		t.Fatalf("the generated env does not load: %s", w.LoadErr)
	}
	want := map[string]int{
		"bucket_0001": 1, "bucket_0002": 1, "bucket_0003": 1,
		"role_0001": 2, "role_0002": 2, "role_0003": 2,
	}
	if diff := cmp.Diff(want, w.Graph.Level); diff != "" {
		t.Errorf("dependency levels (-want +got):\n%s", diff)
	}
	if w.Declared != 6 || w.Graph.Depth() != 2 {
		t.Errorf("declared %d, depth %d; want 6 and 2", w.Declared, w.Graph.Depth())
	}
	if _, err := os.Stat(filepath.Join(w.CalibDir, w.CalibName+".yaml")); err != nil {
		t.Errorf("no calibration env: %v", err)
	}
}

func TestScaleTerraformDeclaresEveryPair(t *testing.T) {
	hcl := ScaleTerraform(4)
	if got := strings.Count(hcl, "\nresource \""); got != 4*scaleTFPerPair {
		t.Errorf("%d resources, want %d", got, 4*scaleTFPerPair)
	}
	for _, s := range []string{`bucket = "envctl-bench-0004-123456789012"`, `name = "envctl-bench-0004"`, `"${aws_s3_bucket.bucket_0004.arn}/*"`} {
		if !strings.Contains(hcl, s) {
			t.Errorf("Terraform configuration lacks %s", s)
		}
	}
	if got := strings.Count(exampleTerraform, "\nresource \""); got != exampleTFResources {
		t.Errorf("example: %d resources, exampleTFResources says %d", got, exampleTFResources)
	}
}

func TestProviderHCLPointsEveryServiceAtTheProxy(t *testing.T) {
	hcl := providerHCL("5.100.0", map[string]string{"project": "x"})
	for _, svc := range []string{"ec2", "iam", "route53", "s3", "ssm", "sts"} {
		if !strings.Contains(hcl, svc+strings.Repeat(" ", 8-len(svc))+"= var.endpoint") {
			t.Errorf("endpoint %s is not var.endpoint:\n%s", svc, hcl)
		}
	}
	if !strings.Contains(hcl, `version = "5.100.0"`) || !strings.Contains(hcl, `project = "x"`) {
		t.Errorf("version or default tags missing:\n%s", hcl)
	}
}

func TestFloor(t *testing.T) {
	// 9 + 17/4 = 13.25 requests of 10 ms.
	f := Floor{Chain: 9, Total: 17, Parallelism: 4, Latency: 10 * time.Millisecond}
	if got, want := f.Time(), 132500*time.Microsecond; got != want {
		t.Errorf("Time() = %v, want %v", got, want)
	}
	if got := Rounds(700*time.Millisecond, 220*time.Millisecond, 30*time.Millisecond); got != 16 {
		t.Errorf("Rounds = %v, want 16", got)
	}
	if got := Rounds(200*time.Millisecond, 220*time.Millisecond, 30*time.Millisecond); got != 0 {
		t.Errorf("Rounds with a faster run at latency = %v, want 0", got)
	}
}

func TestStats(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want Spread
	}{
		{"none", nil, Spread{}},
		{"odd", []float64{3, 1, 2}, Spread{Median: 2, Min: 1, Max: 3, N: 3}},
		{"even", []float64{4, 1, 2, 3}, Spread{Median: 2.5, Min: 1, Max: 4, N: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, SpreadOf(tt.xs)); diff != "" {
				t.Errorf("SpreadOf (-want +got):\n%s", diff)
			}
		})
	}
	a, b, ok := LinearFit([]float64{10, 50, 200}, []float64{25, 105, 405})
	if !ok || a != 2 || b != 5 {
		t.Errorf("LinearFit = %v, %v, %v; want 2, 5, true", a, b, ok)
	}
	if _, _, ok := LinearFit([]float64{10}, []float64{1}); ok {
		t.Error("LinearFit of one point must not be ok")
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
pkg: github.com/litentry/envctl/pkg/config
BenchmarkLoad/resources=10-2         	     337	    808817 ns/op	  292701 B/op	    4328 allocs/op
--- FAIL: BenchmarkOther
pkg: github.com/litentry/envctl/pkg/policy
BenchmarkNormalize/statements=1000-16	      21	  11401208 ns/op	 3154943 B/op	   53016 allocs/op
PASS
`
	want := []GoBenchResult{
		{Package: "github.com/litentry/envctl/pkg/config", Name: "BenchmarkLoad/resources=10", N: 337, NsPerOp: 808817, BytesPerOp: 292701, AllocsPerOp: 4328},
		{Package: "github.com/litentry/envctl/pkg/policy", Name: "BenchmarkNormalize/statements=1000", N: 21, NsPerOp: 11401208, BytesPerOp: 3154943, AllocsPerOp: 53016},
	}
	if diff := cmp.Diff(want, ParseGoBench(out)); diff != "" {
		t.Errorf("ParseGoBench (-want +got):\n%s", diff)
	}
}

func TestFailureLinesSkipStackFrames(t *testing.T) {
	out := "goos: linux\nfatal error: concurrent map read and map write\n\ngoroutine 14 [running]:\n" +
		"github.com/x/plan.walk(...)\n\t/work/pkg/plan/graph.go:102 +0x67d\n" +
		"    plan_bench_test.go:164: walk ran fn 19 times\n--- FAIL: BenchmarkWalk\nexit status 2\nFAIL\tgithub.com/x/plan\t7.4s\n"
	want := "fatal error: concurrent map read and map write\n    plan_bench_test.go:164: walk ran fn 19 times\n--- FAIL: BenchmarkWalk\nFAIL\tgithub.com/x/plan\t7.4s"
	if got := failureLines(out); got != want {
		t.Errorf("failureLines =\n%s\nwant\n%s", got, want)
	}
}

func TestSlowest(t *testing.T) {
	out := "bucket_0001: Creating...\nbucket_0001: Creation complete after 312ms\n" +
		"aws_s3_bucket_lifecycle_configuration.bucket: Creation complete after 1m5s [id=x]\n" +
		"role_0001: Destruction complete after 2.5s\n"
	id, d := slowest(out)
	if id != "aws_s3_bucket_lifecycle_configuration.bucket" || d != 65*time.Second {
		t.Errorf("slowest = %q %v", id, d)
	}
}

// TestWriteMarkdown renders a small report with both tools, a failure and
// a missing Terraform, and checks the parts a reader relies on.
func TestWriteMarkdown(t *testing.T) {
	w, err := NewScaleWorkload(t.TempDir(), 2, TerraformProvider{})
	if err != nil {
		t.Fatal(err)
	}
	counts := func(n int) *Counts {
		return &Counts{Requests: map[string]int{"sts:GetCallerIdentity": 1, "s3:HeadBucket": n - 1}, Total: n}
	}
	ops := func(wall time.Duration, n int) map[Op][]OpResult {
		m := map[Op][]OpResult{}
		for _, op := range Ops {
			for run := 1; run <= 3; run++ {
				m[op] = append(m[op], OpResult{Run: run, Wall: wall * time.Duration(run), Counts: counts(n), MaxRSS: 30e6})
			}
		}
		return m
	}
	rep := &Report{
		Opts: Options{Runs: 3, Latency: 30 * time.Millisecond, Parallelism: 16, TFParallelism: 10, Command: "go run ./bench/cmd/envctl-bench -n 2", GoBench: true, GoBenchTime: "1s"},
		Workloads: []*WorkloadResult{
			{W: w, Tools: map[Tool]*ToolResult{Envctl: {Ops: ops(time.Second, 20)}, Terraform: {Ops: ops(10*time.Second, 80)}}},
			{W: &Workload{Name: "example", Title: "the example", Declared: 7, TFResources: 14}, Tools: map[Tool]*ToolResult{
				Envctl:    {Ops: map[Op][]OpResult{}, Failure: "the env file does not load"},
				Terraform: {Ops: map[Op][]OpResult{}, NotRun: "Terraform unavailable"},
			}},
		},
		GoBench: []GoBenchResult{{Package: "github.com/litentry/envctl/pkg/config", Name: "BenchmarkLoad/resources=10", N: 1, NsPerOp: 800000}},
	}
	var buf bytes.Buffer
	WriteMarkdown(&buf, rep)
	md := buf.String()

	// -save and -render: the report survives a JSON round trip unchanged.
	saved, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var loaded Report
	if err := json.Unmarshal(saved, &loaded); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	WriteMarkdown(&again, &loaded)
	if diff := cmp.Diff(md, again.String()); diff != "" {
		t.Errorf("report after a JSON round trip (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		"go run ./bench/cmd/envctl-bench -n 2",
		"## Workload scale-2",
		"| apply from nothing | envctl | 2.00 s (1.00 s–3.00 s) | 0.10 (0.10–0.10) | 20 (0) | 5.0 |",
		"| plan, no changes | Terraform | not measured: Terraform unavailable |",
		"**example, envctl failed.**",
		"| pkg/config | BenchmarkLoad/resources=10 | 800 µs |",
		"## Method",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestFindTerraformSaysWhatIsMissing(t *testing.T) {
	if _, err := FindTerraform(filepath.Join(t.TempDir(), "terraform"), ""); err == nil || !strings.Contains(err.Error(), "terraform not found") {
		t.Errorf("missing binary: err = %v", err)
	}
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Skip("terraform not installed: the plugin-mirror case needs it")
	}
	if _, err := FindTerraform("terraform", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no local plugin mirror") {
		t.Errorf("empty plugin dir: err = %v", err)
	}
}

func TestAWSProviderVersionsNewestFirst(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"5.9.0", "5.100.0", "4.67.0"} {
		p := filepath.Join(dir, "registry.terraform.io", "hashicorp", "aws", v, runtime.GOOS+"_"+runtime.GOARCH)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "terraform-provider-aws_v"+v+"_x5"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"5.100.0", "5.9.0", "4.67.0"}, awsProviderVersions(dir)); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
}
