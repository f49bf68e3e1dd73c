package main

import (
	"io"
	"testing"
)

func TestReproduceLeavesOutWhereThingsGo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"make bench", []string{"-out", "docs/benchmarks.md"}, "make bench"},
		{"default out", nil, "make bench"},
		{"flags", []string{"-out", "docs/benchmarks.md", "-n", "10,50,200,500", "-keep", "-save", "/tmp/x.json"}, "make bench BENCH_FLAGS=-n=10,50,200,500"},
		{"two flags", []string{"-n", "10", "-runs", "1"}, "make bench BENCH_FLAGS='-n=10 -runs=1'"},
		{"elsewhere", []string{"-out", "-", "-runs", "1", "-workdir", "/tmp/w"}, "go run ./bench/cmd/envctl-bench -out=- -runs=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parse(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if o.Command != tt.want {
				t.Errorf("Command = %q, want %q", o.Command, tt.want)
			}
		})
	}
}

func TestParseRejectsBadSizes(t *testing.T) {
	for _, args := range [][]string{{"-n", "ten"}, {"-n", "10000"}, {"-runs", "0"}, {"extra"}} {
		if _, err := parse(args, io.Discard); err == nil {
			t.Errorf("parse(%q) accepted", args)
		}
	}
}
