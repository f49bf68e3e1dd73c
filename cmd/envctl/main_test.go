package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/awsapi"
)

func TestMain(m *testing.M) { os.Exit(moto.Main(m)) }

// harness runs envctl in-process against one moto_server.
type harness struct {
	t       *testing.T
	srv     *moto.Server
	dir     string
	clients *awsapi.Clients
	// endpoint is where envctl sends AWS calls: moto, or a proxy before it.
	endpoint string
}

// newCLI starts from an empty emulator and a copy of the given env files.
func newCLI(t *testing.T, files ...string) *harness {
	t.Helper()
	srv := moto.ForTest(t)
	dir := t.TempDir()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Files the env file reads (user_data_file) stay where they are.
		abs, _ := filepath.Abs(filepath.Dir(f))
		data = []byte(strings.ReplaceAll(string(data), "_file: ../", "_file: "+abs+"/../"))
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := awsapi.New(context.Background(), awsapi.Options{Region: "us-east-1", EndpointURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, srv: srv, dir: dir, clients: c, endpoint: srv.URL}
}

// result is what one envctl run printed and returned.
type result struct {
	out, err string
	code     int
}

func (c *harness) run(args ...string) result {
	c.t.Helper()
	return c.runWith(&IO{In: strings.NewReader(""), Getenv: func(string) string { return "" }}, args...)
}

func (c *harness) runWith(io *IO, args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	io.Out, io.Err = &out, &errb
	full := append([]string{"envctl", "--dir", c.dir, "--endpoint-url", c.endpoint}, args...)
	code := Run(moto.Context(c.t), full, io)
	return result{out: out.String(), err: errb.String(), code: code}
}

// must runs envctl and fails the test unless it exits with want.
func (c *harness) must(want int, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != want {
		c.t.Fatalf("envctl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.out, r.err)
	}
	return r
}

// edit rewrites the env file through fn.
func (c *harness) edit(name string, fn func(string) string) {
	c.t.Helper()
	path := filepath.Join(c.dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatal(err)
	}
	next := fn(string(data))
	if next == string(data) {
		c.t.Fatalf("edit of %s changed nothing", name)
	}
	if err := os.WriteFile(path, []byte(next), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}
