package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRun drives the command as the benchmark does: read the URL from the
// first stdout line, send traffic, stop it, read the counts file. A stub
// stands in for moto: the command's job is plumbing, which needs no AWS.
func TestRun(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<ok/>")
	}))
	defer upstream.Close()
	countsFile := filepath.Join(t.TempDir(), "counts.json")

	ctx, cancel := context.WithCancel(context.Background())
	stdoutR, stdoutW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, options{
			target: upstream.URL, listen: "127.0.0.1:0", seed: 1, faults: "throttle",
			countsFile: countsFile,
		}, stdoutW, io.Discard)
		stdoutW.Close()
	}()
	line, err := bufio.NewReader(stdoutR).ReadString('\n')
	if err != nil {
		t.Fatalf("read URL line: %v", err)
	}
	url := strings.TrimSpace(line)
	go func() { _, _ = io.Copy(io.Discard, stdoutR) }()

	for _, action := range []string{"CreateRole", "GetRole"} {
		req, _ := http.NewRequest("POST", url+"/", strings.NewReader("Action="+action+"&Version=2010-05-08"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	b, err := os.ReadFile(countsFile)
	if err != nil {
		t.Fatal(err)
	}
	var got countsReport
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := countsReport{
		Requests: map[string]int{"iam:CreateRole": 1, "iam:GetRole": 1},
		Faulted:  map[string]int{},
		Mutating: 1,
		Total:    2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts file (-want +got):\n%s", diff)
	}
}
