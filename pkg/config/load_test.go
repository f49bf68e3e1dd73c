package config_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/litentry/envctl/pkg/config"
)

func TestLoadExampleTestEnv(t *testing.T) {
	env, err := config.Load("../../testdata/example/test.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if env.Name != "test" || env.AccountID != "123456789012" || env.Region != "us-east-1" || env.Protect {
		t.Errorf("env = %s %s %s protect=%v", env.Name, env.AccountID, env.Region, env.Protect)
	}
	var ids []string
	for _, r := range env.Resources {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]string{"web_sg", "host", "ip", "dns", "oidc", "role", "bucket"}, ids); diff != "" {
		t.Errorf("resource ids (-want +got):\n%s", diff)
	}
	bucket := env.Resource("bucket")
	if got := bucket.Attrs["name"]; got != "agentkeys-mail-test-123456789012" {
		t.Errorf("bucket name = %v: vars must be overridden by the extending file and see ${env.account_id}", got)
	}
	if bucket.Attrs["force_destroy"] != true || len(bucket.Attrs["lifecycle"].([]any)) != 1 || bucket.Attrs["versioning"] != true {
		t.Errorf("bucket attrs not merged from prod and test: %v", bucket.Attrs)
	}
	if got := env.Resource("oidc").Attrs["url"]; got != "https://test-broker.example.org" {
		t.Errorf("oidc url = %v", got)
	}
	role := env.Resource("role")
	if diff := cmp.Diff([]string{"bucket", "oidc"}, role.Deps); diff != "" {
		t.Errorf("role deps (-want +got):\n%s", diff)
	}
	trust := role.Attrs["trust_policy"].(map[string]any)
	cond := trust["Statement"].([]any)[0].(map[string]any)["Condition"].(map[string]any)["StringEquals"].(map[string]any)
	if _, ok := cond["test-broker.example.org:aud"]; !ok {
		t.Errorf("condition keys = %v; want ${var.hostname} interpolated in the map key", cond)
	}
	res := role.Attrs["inline_policies"].(map[string]any)["data-access"].(map[string]any)["Statement"].([]any)[0].(map[string]any)["Resource"]
	tmpl, ok := res.(*config.Template)
	if !ok || tmpl.String() != "${bucket.arn}/${aws:PrincipalTag/agentkeys_user}/*" {
		t.Errorf("inline policy resource = %#v; want the bucket reference kept and the IAM variable passed through", res)
	}
	tags := bucket.Attrs["tags"].(map[string]any)
	if tags["project"] != "agentkeys" {
		t.Errorf("env tags not added to the bucket: %v", tags)
	}
	if !strings.Contains(env.Resource("host").Attrs["user_data"].(string), "agentkeys broker") {
		t.Errorf("user_data_file was not read relative to the file that declares it")
	}
	if !env.Resource("host").Sensitive["user_data"] {
		t.Errorf("user_data must be sensitive")
	}
}

func TestProdAndTestShareNoIdentifiers(t *testing.T) {
	for _, dir := range []string{"../../envs", "../../testdata/example"} {
		prod, err := config.Load(filepath.Join(dir, "prod.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		test, err := config.Load(filepath.Join(dir, "test.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !prod.Protect || test.Protect {
			t.Errorf("%s: prod must be protected and test not", dir)
		}
		for _, id := range []string{"web_sg", "dns", "oidc", "role", "bucket"} {
			p, q := prod.Resource(id), test.Resource(id)
			for _, attr := range []string{"name", "url"} {
				if p.Attrs[attr] != nil && p.Attrs[attr] == q.Attrs[attr] {
					t.Errorf("%s: %s.%s is %v in both envs", dir, id, attr, p.Attrs[attr])
				}
			}
		}
	}
}

func TestDigestChangesWithContent(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		path := filepath.Join(dir, "d.yaml")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		env, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return env.Digest
	}
	base := "env: d\naccount_id: \"123456789012\"\nregion: us-east-1\nresources:\n  b: {type: s3_bucket, name: abc-def}\n"
	a := write(base)
	if b := write("# a comment changes nothing\n" + base); a != b {
		t.Errorf("digest changed with a comment")
	}
	if c := write(strings.Replace(base, "abc-def", "abc-deg", 1)); a == c {
		t.Errorf("digest did not change with a value")
	}
}

// TestBadFiles loads every file under testdata/bad whose first line says
// "# want: LINE:COL: TEXT" and checks the error's position and text.
func TestBadFiles(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/bad/*.yaml")
	cases := 0
	for _, path := range files {
		want := wantLine(t, path)
		if want == "" {
			continue // a file other cases extend
		}
		cases++
		t.Run(filepath.Base(path), func(t *testing.T) {
			start := time.Now()
			_, err := config.Load(path)
			if err == nil {
				t.Fatalf("Load succeeded; want an error %q", want)
			}
			if !errors.Is(err, config.ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			pos, text, _ := strings.Cut(want, ": ")
			rel := filepath.ToSlash(path)
			if pos != "0:0" && !strings.Contains(err.Error(), rel+":"+pos+": error: ") {
				t.Errorf("error lacks position %s:%s:\n%v", rel, pos, err)
			}
			if !strings.Contains(err.Error(), text) {
				t.Errorf("error lacks %q:\n%v", text, err)
			}
			if strings.Contains(err.Error(), "goroutine") || strings.Contains(err.Error(), "panic") {
				t.Errorf("error looks like a crash:\n%v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
	if cases < 20 {
		t.Fatalf("only %d bad-file cases found", cases)
	}
}

func wantLine(t *testing.T, path string) string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	want, ok := strings.CutPrefix(strings.TrimSpace(line), "# want: ")
	if !ok {
		return ""
	}
	return want
}

func TestInterpolation(t *testing.T) {
	dir := t.TempDir()
	body := `env: i
account_id: "123456789012"
region: eu-west-1
vars:
  base: agentkeys
  name: ${var.base}-${env.name}-${env.region}
resources:
  b:
    type: s3_bucket
    name: ${var.name}
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Deny
          Principal: "*"
          Action: "s3:*"
          Resource: "arn:aws:s3:::$${literal}/${aws:username}"
`
	path := filepath.Join(dir, "i.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	env, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b := env.Resource("b")
	if got := b.Attrs["name"]; got != "agentkeys-i-eu-west-1" {
		t.Errorf("name = %v", got)
	}
	got := b.Attrs["policy"].(map[string]any)["Statement"].([]any)[0].(map[string]any)["Resource"]
	if got != "arn:aws:s3:::${literal}/${aws:username}" {
		t.Errorf("resource = %v; want $${ as a literal ${ and IAM variables untouched", got)
	}
}
