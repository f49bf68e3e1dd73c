package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs      int
	CPUModel  string
	MemTotal  int64 // bytes
	OS        string
	Go        string
	Moto      string
	Terraform string
	Commit    string
}

// DescribeMachine collects the facts the report prints about the machine
// and the versions of everything involved. Unknown facts read "unknown".
func DescribeMachine(ctx context.Context, repo string, tf TerraformProvider) Machine {
	m := Machine{CPUs: runtime.NumCPU(), CPUModel: "unknown", OS: runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 && fields[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
					m.MemTotal = kb * 1024
				}
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += ", Linux " + strings.TrimSpace(string(b))
	}
	m.Go = output(ctx, repo, "go", "env", "GOVERSION")
	m.Moto = motoVersion(ctx)
	m.Terraform = "not available"
	if tf.Version != "" {
		m.Terraform = fmt.Sprintf("%s with the AWS provider %s (plugin mirror %s)", tf.Version, tf.ProviderVersion, tf.PluginDir)
	}
	m.Commit = output(ctx, repo, "git", "rev-parse", "--short", "HEAD")
	if st := output(ctx, repo, "git", "status", "--porcelain"); st != "" && st != "unknown" {
		m.Commit += " with uncommitted changes"
	}
	return m
}

// output runs a short command and returns its trimmed stdout, or "unknown".
func output(ctx context.Context, dir, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// motoVersion asks the Python that runs moto_server for moto's version:
// the interpreter named on moto_server's first line when it is a Python
// script, else python3.
func motoVersion(ctx context.Context) string {
	pythons := []string{"python3"}
	if path, err := exec.LookPath("moto_server"); err == nil {
		if f, err := os.Open(path); err == nil {
			sc := bufio.NewScanner(f)
			if sc.Scan() {
				if line := sc.Text(); strings.HasPrefix(line, "#!") && strings.Contains(line, "python") {
					fields := strings.Fields(strings.TrimPrefix(line, "#!"))
					if len(fields) > 0 && filepath.Base(fields[0]) != "env" {
						pythons = append([]string{fields[0]}, pythons...)
					}
				}
			}
			f.Close()
		}
	}
	for _, py := range pythons {
		if v := output(ctx, "", py, "-c", "import moto; print(moto.__version__)"); v != "unknown" && v != "" {
			return v
		}
	}
	return "unknown"
}
