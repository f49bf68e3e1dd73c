package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/litentry/envctl/pkg/config"
)

// copyEnvs copies the shipped example envs into a temp dir for editing.
func copyEnvs(t *testing.T, from string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"prod.yaml", "test.yaml"} {
		data, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		// user_data_file is relative to the env file; keep it reachable.
		body := strings.ReplaceAll(string(data), "user_data_file: ../", "user_data_file: "+mustAbs(t, from)+"/../")
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCompareShippedEnvsIsStrictClean(t *testing.T) {
	for _, dir := range []string{"../../envs", "../../testdata/example"} {
		c, err := config.Compare(dir, "prod", "test")
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		var vars []string
		for _, v := range c.Vars {
			vars = append(vars, v.Name)
		}
		if diff := cmp.Diff([]string{"bucket_name", "hostname", "role_name"}, vars); diff != "" {
			t.Errorf("%s: vars that differ (-want +got):\n%s", dir, diff)
		}
		var paths []string
		for _, o := range c.Overrides {
			paths = append(paths, o.Kind+" "+o.Path)
		}
		want := []string{"overridden protect", "added resources.bucket.force_destroy", "added resources.bucket.lifecycle"}
		if diff := cmp.Diff(want, paths); diff != "" {
			t.Errorf("%s: overrides (-want +got):\n%s", dir, diff)
		}
		if v := c.Violations(); len(v) != 0 {
			t.Errorf("%s: violations %v", dir, v)
		}
	}
}

func TestCompareFlagsOverrideOutsideAllowList(t *testing.T) {
	dir := copyEnvs(t, "../../testdata/example")
	path := filepath.Join(dir, "test.yaml")
	data, _ := os.ReadFile(path)
	body := strings.Replace(string(data), "resources:\n  bucket:\n", "resources:\n  host:\n    instance_type: t3.large\n  bucket:\n", 1)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Compare(dir, "prod", "test")
	if err != nil {
		t.Fatal(err)
	}
	v := c.Violations()
	if len(v) != 1 || v[0].Path != "resources.host.instance_type" || v[0].Pos.Line == 0 {
		t.Fatalf("violations = %+v; want resources.host.instance_type with a position", v)
	}
}

func TestIsolation(t *testing.T) {
	load := func(dir string) []*config.Env {
		var envs []*config.Env
		for _, n := range []string{"prod", "test"} {
			e, err := config.LoadEnv(dir, n)
			if err != nil {
				t.Fatal(err)
			}
			envs = append(envs, e)
		}
		return envs
	}
	for _, dir := range []string{"../../envs", "../../testdata/example"} {
		if err := config.CheckIsolation(load(dir)); err != nil {
			t.Errorf("%s: shipped envs are not isolated:\n%v", dir, err)
		}
	}
	cases := []struct {
		name, from, to string
		want           []string
	}{
		{
			name: "test trust policy names the prod provider",
			from: `Principal: {Federated: "${oidc.arn}"}`,
			to:   `Principal: {Federated: "arn:aws:iam::123456789012:oidc-provider/broker.example.org"}`,
			want: []string{"test.yaml resources.role.trust_policy names OIDC provider", "broker.example.org"},
		},
		{
			name: "test reuses the prod bucket name",
			from: "  bucket_name: agentkeys-mail-test-${env.account_id}",
			to:   "  bucket_name: agentkeys-mail-${env.account_id}",
			want: []string{"share the bucket name \"agentkeys-mail-123456789012\"", "prod.yaml resources.bucket"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyEnvs(t, "../../testdata/example")
			file := filepath.Join(dir, "test.yaml")
			if strings.Contains(tc.from, "Principal") {
				// Only test changes: it overrides prod's trust policy.
				data, _ := os.ReadFile(filepath.Join(dir, "prod.yaml"))
				i := strings.Index(string(data), "    trust_policy:")
				j := strings.Index(string(data), "    inline_policies:")
				block := strings.Replace(string(data)[i:j], tc.from, tc.to, 1)
				tdata, _ := os.ReadFile(file)
				body := strings.Replace(string(tdata), "resources:\n", "resources:\n  role:\n"+block, 1)
				if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				data, _ := os.ReadFile(file)
				body := strings.Replace(string(data), tc.from, tc.to, 1)
				if body == string(data) {
					t.Fatalf("edit did not apply")
				}
				if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := config.CheckIsolation(load(dir))
			if err == nil {
				t.Fatal("isolation check passed; want a violation")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
