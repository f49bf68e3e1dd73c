package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/litentry/envctl/pkg/config"
)

// FuzzLoad feeds arbitrary bytes to the loader (YAML, merge, interpolation,
// schema checks): it must return an env or a config error, never panic.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../../testdata/bad/*.yaml")
	seeds = append(seeds, "../../testdata/core/core.yaml")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data, []byte(""))
		}
	}
	base, _ := os.ReadFile("../../testdata/core/core.yaml")
	f.Add([]byte("env: fz\nextends: base.yaml\nvars: {hostname: x.example.org}\nresources: {bucket: null}\n"), base)
	f.Fuzz(func(t *testing.T, child, base []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "fz.yaml"), child, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "base.yaml"), base, 0o644); err != nil {
			t.Fatal(err)
		}
		env, err := config.Load(filepath.Join(dir, "fz.yaml"))
		if err != nil && !errors.Is(err, config.ErrInvalid) {
			t.Fatalf("error is not a config error: %v", err)
		}
		if err == nil && env == nil {
			t.Fatal("nil env without error")
		}
	})
}
