// Command awsproxy runs the awsproxy fault-injecting reverse proxy in front
// of a moto_server, for humans and for the benchmark. It prints its URL as
// the first line of stdout (so a script can read it and point
// AWS_ENDPOINT_URL at it), logs to stderr, and on SIGINT or SIGTERM writes
// the request counts as JSON to -counts-file before exiting.
//
//	awsproxy -target http://127.0.0.1:5000 -latency 30ms -counts-file counts.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/litentry/envctl/internal/awsproxy"
)

// options are the command's flags.
type options struct {
	target     string
	listen     string
	latency    time.Duration
	faultRate  float64
	seed       int64
	faults     string
	countsFile string
}

// countsReport is the -counts-file format.
type countsReport struct {
	// Requests is requests per "service:Action", SDK retries included.
	Requests map[string]int `json:"requests"`
	// Faulted is requests per "service:Action" that got a fault.
	Faulted map[string]int `json:"faulted"`
	// Mutating is the number of requests for state-changing actions.
	Mutating int `json:"mutating"`
	// Total is the number of requests.
	Total int `json:"total"`
}

func main() {
	var o options
	fs := flag.NewFlagSet("awsproxy", flag.ContinueOnError)
	fs.StringVar(&o.target, "target", "", "moto_server base URL (required)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on")
	fs.DurationVar(&o.latency, "latency", 0, "latency added to every request")
	fs.Float64Var(&o.faultRate, "fault-rate", 0, "share of requests (0..1) that get a fault")
	fs.Int64Var(&o.seed, "seed", 1, "seed for the fault choice")
	fs.StringVar(&o.faults, "faults", "throttle", "fault kinds to pick from: throttle,500,drop-before,drop-after")
	fs.StringVar(&o.countsFile, "counts-file", "", "write request counts as JSON here on SIGINT/SIGTERM")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "awsproxy:", err)
		os.Exit(1)
	}
}

// run starts the proxy, prints its URL, and serves until ctx is done.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	if o.target == "" {
		return fmt.Errorf("-target is required")
	}
	kinds, err := awsproxy.ParseKinds(o.faults)
	if err != nil {
		return err
	}
	p, err := awsproxy.Start(awsproxy.Config{
		Target:    o.target,
		Listen:    o.listen,
		Latency:   o.latency,
		Seed:      o.seed,
		FaultRate: o.faultRate,
		Faults:    kinds,
		ErrorLog:  log.New(stderr, "", log.LstdFlags),
	})
	if err != nil {
		return err
	}
	defer p.Close()
	fmt.Fprintln(stdout, p.URL())
	fmt.Fprintf(stderr, "awsproxy: %s -> %s, latency %v, fault rate %v (%s), seed %d\n",
		p.URL(), o.target, o.latency, o.faultRate, o.faults, o.seed)
	<-ctx.Done()
	if o.countsFile == "" {
		return nil
	}
	return writeCounts(o.countsFile, p)
}

// writeCounts writes the counts report through a temporary file and a
// rename, so a reader never sees half a file.
func writeCounts(path string, p *awsproxy.Proxy) error {
	r := countsReport{Requests: p.Counts(), Faulted: p.Faulted(), Mutating: p.Mutating()}
	for _, n := range r.Requests {
		r.Total += n
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".awsproxy-counts-*")
	if err != nil {
		return fmt.Errorf("write counts: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write counts: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write counts: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write counts: %w", err)
	}
	return nil
}
