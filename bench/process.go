package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// child is one finished child process.
type child struct {
	Wall     time.Duration
	ExitCode int
	// MaxRSS is the peak resident set size in bytes of the process or of
	// the largest of its descendants it waited for (Linux ru_maxrss).
	MaxRSS int64
	Stdout string
	Stderr string
}

// runChild runs name with args in dir and env, with its own process group
// so a timeout ends its children too (Terraform's provider plugin). Wall
// time runs from start to exit. A non-zero exit is not an error here; the
// caller decides what exit codes mean.
func runChild(ctx context.Context, dir string, env []string, name string, args ...string) (*child, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr strings.Builder
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	err := cmd.Wait()
	c := &child{Wall: time.Since(start), Stdout: stdout.String(), Stderr: stderr.String()}
	if ps := cmd.ProcessState; ps != nil {
		c.ExitCode = ps.ExitCode()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			c.MaxRSS = int64(ru.Maxrss) * 1024 // kilobytes on Linux
		}
	}
	if ctx.Err() != nil {
		return c, fmt.Errorf("%s: %w after %s", filepath.Base(name), ctx.Err(), c.Wall.Round(time.Millisecond))
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return c, err
	}
	return c, nil
}

// tail returns the last n non-empty lines of s, for error reports.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	var keep []string
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		if strings.TrimSpace(lines[i]) != "" {
			keep = append(keep, lines[i])
		}
	}
	for i, j := 0, len(keep)-1; i < j; i, j = i+1, j-1 {
		keep[i], keep[j] = keep[j], keep[i]
	}
	return strings.Join(keep, "\n")
}

// Counts is the awsproxy -counts-file format (see docs/awsproxy.md).
type Counts struct {
	// Requests is requests per "service:Action", SDK retries included.
	Requests map[string]int `json:"requests"`
	// Faulted is requests per "service:Action" that got a fault.
	Faulted map[string]int `json:"faulted"`
	// Mutating is the number of requests for state-changing actions.
	Mutating int `json:"mutating"`
	// Total is the number of requests.
	Total int `json:"total"`
}

// ByService sums the requests per service ("s3", "iam", ...).
func (c *Counts) ByService() map[string]int {
	out := map[string]int{}
	for k, n := range c.Requests {
		svc, _, _ := strings.Cut(k, ":")
		out[svc] += n
	}
	return out
}

// proxy is one running awsproxy command. The benchmark starts a fresh one
// for every measured operation, so its counts cover exactly that operation.
type proxy struct {
	cmd        *exec.Cmd
	URL        string
	countsFile string
	exited     chan struct{}
	stderr     *strings.Builder
}

// startProxy starts the awsproxy binary in front of target with the given
// latency and waits for the URL on its first stdout line.
func startProxy(ctx context.Context, bin, target string, latency time.Duration, countsFile string) (*proxy, error) {
	cmd := exec.Command(bin, "-target", target, "-latency", latency.String(), "-counts-file", countsFile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &proxy{cmd: cmd, countsFile: countsFile, exited: make(chan struct{}), stderr: &strings.Builder{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start awsproxy: %w", err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			urls <- strings.TrimSpace(sc.Text())
		}
		close(urls)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { _ = cmd.Wait(); close(p.exited) }()
	timer := time.NewTimer(15 * time.Second)
	defer timer.Stop()
	select {
	case u, ok := <-urls:
		if ok && strings.HasPrefix(u, "http") {
			p.URL = u
			return p, nil
		}
		p.kill()
		return nil, fmt.Errorf("awsproxy printed no URL: %s", tail(p.stderr.String(), 5))
	case <-timer.C:
		p.kill()
		return nil, errors.New("awsproxy printed no URL within 15s")
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

func (p *proxy) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// stop sends SIGTERM, waits for the proxy to write its counts and exit,
// and returns the counts.
func (p *proxy) stop() (*Counts, error) {
	select {
	case <-p.exited:
		// Its counts are lost: whatever ended it, the operation's numbers
		// cannot be trusted.
		return nil, fmt.Errorf("awsproxy ended during the operation (%v): %s", p.cmd.ProcessState, tail(p.stderr.String(), 5))
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return nil, fmt.Errorf("stop awsproxy: %w", err)
	}
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.kill()
		return nil, errors.New("awsproxy did not exit within 15s of SIGTERM")
	}
	b, err := os.ReadFile(p.countsFile)
	if err != nil {
		return nil, fmt.Errorf("awsproxy counts: %w (%s)", err, tail(p.stderr.String(), 5))
	}
	_ = os.Remove(p.countsFile)
	var c Counts
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("awsproxy counts %s: %w", p.countsFile, err)
	}
	if c.Requests == nil {
		c.Requests = map[string]int{}
	}
	return &c, nil
}
