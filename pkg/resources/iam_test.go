package resources_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/awsapi"
	"github.com/litentry/envctl/pkg/resources"
)

const (
	iamTestIssuer = "https://token.actions.githubusercontent.com"
	iamTestThumb1 = "6938fd4d98bab03faadb97b34396831e3780aea1"
	iamTestThumb2 = "1c58a3a8518e8759bf075b76b750d4f2df264fcd"
)

// iamTestPolicy decodes a JSON policy into the canonical desired shape.
func iamTestPolicy(t *testing.T, doc string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("test policy: %v", err)
	}
	return m
}

func iamTestTrust(t *testing.T, sub string) map[string]any {
	return iamTestPolicy(t, `{
		"Version": "2012-10-17",
		"Statement": [{
			"Effect": "Allow",
			"Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
			"Action": "sts:AssumeRoleWithWebIdentity",
			"Condition": {
				"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
				"StringLike": {"token.actions.githubusercontent.com:sub": "`+sub+`"}
			}
		}]
	}`)
}

func iamTestAllow(t *testing.T, action, resource string) map[string]any {
	return iamTestPolicy(t, `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "`+action+`", "Resource": "`+resource+`"}]}`)
}

// iamTestTarget builds a target with the ownership tags set, as the engine
// does.
func iamTestTarget(env, id string, attrs resources.Attrs) resources.Target {
	t := resources.Target{Env: env, ID: id, Attrs: resources.Attrs{}}
	for k, v := range attrs {
		t.Attrs[k] = v
	}
	tags := resources.TagMap(t.Attrs["tags"])
	tags[resources.TagEnv] = env
	tags[resources.TagID] = id
	t.Attrs["tags"] = tags
	return t
}

// iamTestManagedPolicy creates a customer managed policy (moto loads no AWS
// managed policies by default) and returns its ARN.
func iamTestManagedPolicy(t *testing.T, c *awsapi.Clients, name string) string {
	t.Helper()
	doc, _ := json.Marshal(iamTestAllow(t, "s3:ListAllMyBuckets", "*"))
	out, err := c.IAM.CreatePolicy(moto.Context(t), &iam.CreatePolicyInput{
		PolicyName: aws.String(name), PolicyDocument: aws.String(string(doc))})
	if err != nil {
		t.Fatalf("create managed policy %s: %v", name, err)
	}
	return aws.ToString(out.Policy.Arn)
}

func iamWantAttr(t *testing.T, live *resources.Live, attr string, want any) {
	t.Helper()
	if diff := cmp.Diff(want, live.Attrs[attr]); diff != "" {
		t.Errorf("live %s (-want +got):\n%s", attr, diff)
	}
}

func TestIAMOIDCProviderConformance(t *testing.T) {
	runConformance(t, conformanceCase{
		Type: "iam_oidc_provider",
		Create: resources.Attrs{
			"url":         iamTestIssuer,
			"client_ids":  []string{"sts.amazonaws.com"},
			"thumbprints": []string{iamTestThumb1},
			"tags":        map[string]string{"team": "platform"},
		},
		CheckCreated: func(t *testing.T, live *resources.Live) {
			iamWantAttr(t, live, "url", iamTestIssuer)
			iamWantAttr(t, live, "client_ids", []string{"sts.amazonaws.com"})
			iamWantAttr(t, live, "thumbprints", []string{iamTestThumb1})
			if got, want := live.Exports["arn"], "arn:aws:iam::"+moto.AccountID+":oidc-provider/token.actions.githubusercontent.com"; got != want {
				t.Errorf("arn = %q, want %q", got, want)
			}
			if live.Tags()["team"] != "platform" {
				t.Errorf("tags = %v, want team=platform", live.Tags())
			}
		},
		// moto has no AddClientID/RemoveClientID; client_ids updates are
		// covered by TestIAMOIDCProviderUpdateClientIDs.
		Update: resources.Attrs{
			"thumbprints": []string{iamTestThumb1, iamTestThumb2},
			"tags":        map[string]string{"team": "security", resources.TagEnv: "conf", resources.TagID: "res"},
		},
		Changed: []string{"thumbprints", "tags"},
		CheckUpdated: func(t *testing.T, live *resources.Live) {
			// Reported sorted: the order has no meaning to IAM.
			iamWantAttr(t, live, "thumbprints", []string{iamTestThumb2, iamTestThumb1})
			if live.Tags()["team"] != "security" {
				t.Errorf("tags = %v, want team=security", live.Tags())
			}
		},
	})
}

func TestIAMRoleConformance(t *testing.T) {
	// moto names customer managed policies deterministically, so the update
	// step can name them before Setup creates them.
	arn := func(name string) string { return "arn:aws:iam::" + moto.AccountID + ":policy/" + name }
	boundary, ro, rw := arn("boundary"), arn("ro"), arn("rw")
	runConformance(t, conformanceCase{
		Type: "iam_role",
		Setup: func(t *testing.T, target *resources.Target) {
			// drivers resets moto again, harmless: nothing exists yet.
			_, c := drivers(t)
			for _, n := range []string{"boundary", "ro", "rw"} {
				if got := iamTestManagedPolicy(t, c, n); got != arn(n) {
					t.Fatalf("managed policy ARN = %q, want %q", got, arn(n))
				}
			}
		},
		Create: resources.Attrs{
			"name":                 "ci-deploy",
			"path":                 "/ci/",
			"description":          "GitHub Actions deploys",
			"trust_policy":         iamTestTrust(t, "repo:litentry/envctl:environment:test"),
			"inline_policies":      map[string]map[string]any{"read": iamTestAllow(t, "s3:GetObject", "arn:aws:s3:::b/*")},
			"max_session_duration": int64(7200),
			"managed_policy_arns":  []string{ro},
			"permissions_boundary": boundary,
			"tags":                 map[string]string{"team": "platform"},
		},
		CheckCreated: func(t *testing.T, live *resources.Live) {
			iamWantAttr(t, live, "name", "ci-deploy")
			iamWantAttr(t, live, "path", "/ci/")
			iamWantAttr(t, live, "description", "GitHub Actions deploys")
			iamWantAttr(t, live, "trust_policy", iamTestTrust(t, "repo:litentry/envctl:environment:test"))
			iamWantAttr(t, live, "inline_policies", map[string]map[string]any{"read": iamTestAllow(t, "s3:GetObject", "arn:aws:s3:::b/*")})
			iamWantAttr(t, live, "managed_policy_arns", []string{ro})
			iamWantAttr(t, live, "max_session_duration", int64(7200))
			iamWantAttr(t, live, "permissions_boundary", boundary)
			if got, want := live.Exports["arn"], "arn:aws:iam::"+moto.AccountID+":role/ci/ci-deploy"; got != want {
				t.Errorf("arn = %q, want %q", got, want)
			}
			if live.Exports["name"] != "ci-deploy" || live.Exports["unique_id"] == "" {
				t.Errorf("exports = %v", live.Exports)
			}
		},
		Update: resources.Attrs{
			"description":          "",
			"trust_policy":         iamTestTrust(t, "repo:litentry/envctl:*"),
			"inline_policies":      map[string]map[string]any{"write": iamTestAllow(t, "s3:PutObject", "arn:aws:s3:::b/*")},
			"max_session_duration": int64(3600),
			"managed_policy_arns":  []string{rw},
			"permissions_boundary": "",
			"tags":                 map[string]string{"team": "security", resources.TagEnv: "conf", resources.TagID: "res"},
		},
		Changed: []string{"description", "trust_policy", "inline_policies", "managed_policy_arns", "max_session_duration", "permissions_boundary", "tags"},
		CheckUpdated: func(t *testing.T, live *resources.Live) {
			iamWantAttr(t, live, "description", "")
			iamWantAttr(t, live, "trust_policy", iamTestTrust(t, "repo:litentry/envctl:*"))
			iamWantAttr(t, live, "inline_policies", map[string]map[string]any{"write": iamTestAllow(t, "s3:PutObject", "arn:aws:s3:::b/*")})
			iamWantAttr(t, live, "managed_policy_arns", []string{rw})
			iamWantAttr(t, live, "max_session_duration", int64(3600))
			iamWantAttr(t, live, "permissions_boundary", "")
			if live.Tags()["team"] != "security" {
				t.Errorf("tags = %v, want team=security", live.Tags())
			}
		},
	})
}

// iamRecordingProxy sits in front of moto and answers the IAM actions moto
// does not implement, recording their form parameters.
type iamRecordingProxy struct {
	mu    sync.Mutex
	calls []url.Values
}

func (p *iamRecordingProxy) recorded() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.calls...)
}

func iamProxyDrivers(t *testing.T, fake ...string) (map[string]resources.Driver, *awsapi.Clients, *iamRecordingProxy) {
	t.Helper()
	srv := moto.ForTest(t)
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rec := &iamRecordingProxy{}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		for _, action := range fake {
			if form.Get("Action") == action {
				rec.mu.Lock()
				rec.calls = append(rec.calls, form)
				rec.mu.Unlock()
				w.Header().Set("Content-Type", "text/xml")
				_, _ = io.WriteString(w, `<`+action+`Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></`+action+`Response>`)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	c, err := awsapi.New(context.Background(), awsapi.Options{Region: "us-east-1", EndpointURL: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	return resources.Drivers(c), c, rec
}

// moto implements neither AddClientIDToOpenIDConnectProvider nor
// RemoveClientIDFromOpenIDConnectProvider (HTTP 500), so this test checks
// the calls Update makes rather than their effect.
func TestIAMOIDCProviderUpdateClientIDs(t *testing.T) {
	ds, _, rec := iamProxyDrivers(t, "AddClientIDToOpenIDConnectProvider", "RemoveClientIDFromOpenIDConnectProvider")
	d := ds["iam_oidc_provider"]
	ctx := moto.Context(t)
	target := iamTestTarget("test", "gh", resources.Attrs{
		"url":        iamTestIssuer,
		"client_ids": []string{"sts.amazonaws.com", "old-audience"},
	})
	live, err := d.Create(ctx, target)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	iamWantAttr(t, live, "client_ids", []string{"old-audience", "sts.amazonaws.com"})

	target.Attrs["client_ids"] = []string{"new-audience", "sts.amazonaws.com"}
	if _, err := d.Update(ctx, live, target, []string{"client_ids"}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	type call struct{ Action, Arn, ClientID string }
	var got []call
	for _, f := range rec.recorded() {
		got = append(got, call{f.Get("Action"), f.Get("OpenIDConnectProviderArn"), f.Get("ClientID")})
	}
	want := []call{
		{"AddClientIDToOpenIDConnectProvider", live.Handle, "new-audience"},
		{"RemoveClientIDFromOpenIDConnectProvider", live.Handle, "old-audience"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("client id calls (-want +got):\n%s", diff)
	}
}

func TestIAMOIDCProviderThumbprintsOmitted(t *testing.T) {
	if a := resources.SchemaFor("iam_oidc_provider").Attr("thumbprints"); a == nil || a.Default != nil || a.Required {
		t.Fatalf("thumbprints must be optional without a default, so an IAM-fetched thumbprint is never drift: %+v", a)
	}
	ds, _ := drivers(t)
	d := ds["iam_oidc_provider"]
	ctx := moto.Context(t)
	target := iamTestTarget("test", "gh", resources.Attrs{"url": iamTestIssuer + "/org", "client_ids": []string{"sts.amazonaws.com"}})
	live, err := d.Create(ctx, target)
	if err != nil {
		t.Fatalf("Create without thumbprints: %v", err)
	}
	iamWantAttr(t, live, "url", iamTestIssuer+"/org")
	if _, ok := live.Attrs["thumbprints"].([]string); !ok {
		t.Errorf("thumbprints must still be reported as []string, got %T", live.Attrs["thumbprints"])
	}
}

func TestIAMRoleOwnsInlinePolicies(t *testing.T) {
	ds, c := drivers(t)
	d := ds["iam_role"]
	ctx := moto.Context(t)
	keep := iamTestAllow(t, "s3:GetObject", "*")
	target := iamTestTarget("test", "role", resources.Attrs{
		"name":            "owner",
		"path":            "/",
		"trust_policy":    iamTestTrust(t, "repo:o/r:*"),
		"inline_policies": map[string]map[string]any{"keep": keep},
	})
	if _, err := d.Create(ctx, target); err != nil {
		t.Fatalf("Create: %v", err)
	}
	put := func(name string) {
		doc, _ := json.Marshal(iamTestAllow(t, "ec2:*", "*"))
		if _, err := c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("owner"),
			PolicyName: aws.String(name), PolicyDocument: aws.String(string(doc))}); err != nil {
			t.Fatal(err)
		}
	}
	put("stray")
	live, err := d.Find(ctx, target)
	if err != nil || live == nil {
		t.Fatalf("Find = %v, %v", live, err)
	}
	// The stray policy is visible, so the plan can show its deletion.
	iamWantAttr(t, live, "inline_policies", map[string]map[string]any{"keep": keep, "stray": iamTestAllow(t, "ec2:*", "*")})
	// One more put between plan and apply is not the file's either.
	put("late")
	updated, err := d.Update(ctx, live, target, []string{"inline_policies"})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	iamWantAttr(t, updated, "inline_policies", map[string]map[string]any{"keep": keep})

	// The default (empty map) removes every inline policy.
	target.Attrs["inline_policies"] = map[string]map[string]any{}
	updated, err = d.Update(ctx, updated, target, []string{"inline_policies"})
	if err != nil {
		t.Fatalf("Update to none: %v", err)
	}
	iamWantAttr(t, updated, "inline_policies", map[string]map[string]any{})
}

func TestIAMRolePolicyDecoding(t *testing.T) {
	ds, c := drivers(t)
	d := ds["iam_role"]
	ctx := moto.Context(t)
	// Characters that URL encoding changes: space, +, &, =, %, /, ?, #,
	// quotes and non-ASCII.
	trust := iamTestTrust(t, `repo:o/a+b c&d=e%20f?g#h:\"x\" é`)
	inline := iamTestPolicy(t, `{"Version":"2012-10-17","Statement":[{"Sid":"A1","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::b/a+b c/*","Condition":{"StringEquals":{"s3:prefix":["x&y","100%"]}}}]}`)
	target := iamTestTarget("test", "role", resources.Attrs{
		"name":            "decode",
		"path":            "/",
		"trust_policy":    trust,
		"inline_policies": map[string]map[string]any{"p": inline},
	})
	if _, err := d.Create(ctx, target); err != nil {
		t.Fatalf("Create: %v", err)
	}
	raw, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("decode")})
	if err != nil {
		t.Fatal(err)
	}
	if doc := aws.ToString(raw.Role.AssumeRolePolicyDocument); !strings.HasPrefix(doc, "%7B") {
		t.Fatalf("precondition: GetRole should return the document URL-encoded, as IAM does; got %.40s", doc)
	}
	live, err := d.Find(ctx, target)
	if err != nil || live == nil {
		t.Fatalf("Find = %v, %v", live, err)
	}
	iamWantAttr(t, live, "trust_policy", trust)
	iamWantAttr(t, live, "inline_policies", map[string]map[string]any{"p": inline})
}

func TestIAMCreateTwiceConverges(t *testing.T) {
	ds, c := drivers(t)
	ctx := moto.Context(t)

	role := iamTestTarget("test", "role", resources.Attrs{
		"name":            "twice",
		"path":            "/",
		"trust_policy":    iamTestTrust(t, "repo:o/r:*"),
		"inline_policies": map[string]map[string]any{"p": iamTestAllow(t, "s3:GetObject", "*")},
	})
	first, err := ds["iam_role"].Create(ctx, role)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	// The first attempt died after CreateRole: the inline policy is missing.
	if _, err := c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("twice"), PolicyName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	second, err := ds["iam_role"].Create(ctx, role)
	if err != nil {
		t.Fatalf("Create again: %v", err)
	}
	if second.Exports["unique_id"] != first.Exports["unique_id"] {
		t.Errorf("Create again made a new role: %v vs %v", second.Exports, first.Exports)
	}
	iamWantAttr(t, second, "inline_policies", role.Attrs["inline_policies"])

	oidc := iamTestTarget("test", "gh", resources.Attrs{"url": iamTestIssuer, "client_ids": []string{"sts.amazonaws.com"}})
	p1, err := ds["iam_oidc_provider"].Create(ctx, oidc)
	if err != nil {
		t.Fatalf("Create provider: %v", err)
	}
	p2, err := ds["iam_oidc_provider"].Create(ctx, oidc)
	if err != nil {
		t.Fatalf("Create provider again: %v", err)
	}
	if p1.Handle != p2.Handle {
		t.Errorf("handles differ: %q vs %q", p1.Handle, p2.Handle)
	}
}

// Create must not take over a resource of the same name that another env
// (or no env) owns.
func TestIAMCreateRefusesForeign(t *testing.T) {
	ds, c := drivers(t)
	ctx := moto.Context(t)
	doc, _ := json.Marshal(iamTestTrust(t, "repo:o/r:*"))
	if _, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("taken"),
		AssumeRolePolicyDocument: aws.String(string(doc)),
		Tags:                     []iamtypes.Tag{{Key: aws.String(resources.TagEnv), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	role := iamTestTarget("test", "role", resources.Attrs{"name": "taken", "path": "/", "trust_policy": iamTestTrust(t, "repo:x/y:*"),
		"inline_policies": map[string]map[string]any{}})
	if _, err := ds["iam_role"].Create(ctx, role); err == nil || !strings.Contains(err.Error(), "not owned") {
		t.Errorf("Create over prod's role = %v; want a not-owned error", err)
	}
	raw, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("taken")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := url.QueryUnescape(aws.ToString(raw.Role.AssumeRolePolicyDocument)); got != string(doc) {
		t.Errorf("foreign role's trust policy changed to %s", got)
	}

	if _, err := c.IAM.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(iamTestIssuer), ClientIDList: []string{"sts.amazonaws.com"}}); err != nil {
		t.Fatal(err)
	}
	oidc := iamTestTarget("test", "gh", resources.Attrs{"url": iamTestIssuer})
	if _, err := ds["iam_oidc_provider"].Create(ctx, oidc); err == nil || !strings.Contains(err.Error(), "not owned") {
		t.Errorf("Create over an untagged provider = %v; want a not-owned error", err)
	}
}

func TestIAMRoleListByEnv(t *testing.T) {
	ds, c := drivers(t)
	d := ds["iam_role"]
	ctx := moto.Context(t)
	mk := func(env, name string) {
		t.Helper()
		tg := iamTestTarget(env, name, resources.Attrs{"name": name, "path": "/", "trust_policy": iamTestTrust(t, "repo:o/r:*"),
			"inline_policies": map[string]map[string]any{"p": iamTestAllow(t, "s3:GetObject", "*")}})
		if _, err := d.Create(ctx, tg); err != nil {
			t.Fatalf("Create %s: %v", name, err)
		}
	}
	mk("test", "test-a")
	mk("test", "test-b")
	mk("prod", "prod-a")
	doc, _ := json.Marshal(iamTestTrust(t, "repo:o/r:*"))
	for name, tags := range map[string][]iamtypes.Tag{
		"untagged": nil,
		"other":    {{Key: aws.String("team"), Value: aws.String("test")}},
	} {
		if _, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name),
			AssumeRolePolicyDocument: aws.String(string(doc)), Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	listed, err := d.List(ctx, "test")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	got := map[string]string{}
	for _, l := range listed {
		got[l.Handle] = l.Tags()[resources.TagID]
		// List gives the full live view, not the partial one ListRoles has.
		iamWantAttr(t, l, "inline_policies", map[string]map[string]any{"p": iamTestAllow(t, "s3:GetObject", "*")})
		iamWantAttr(t, l, "trust_policy", iamTestTrust(t, "repo:o/r:*"))
	}
	if diff := cmp.Diff(map[string]string{"test-a": "test-a", "test-b": "test-b"}, got); diff != "" {
		t.Errorf("List(test) handle → envctl:id (-want +got):\n%s", diff)
	}
}

func TestIAMOIDCProviderListByEnv(t *testing.T) {
	ds, c := drivers(t)
	d := ds["iam_oidc_provider"]
	ctx := moto.Context(t)
	if _, err := d.Create(ctx, iamTestTarget("test", "gh", resources.Attrs{"url": iamTestIssuer, "client_ids": []string{"sts.amazonaws.com"}})); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Create(ctx, iamTestTarget("prod", "gl", resources.Attrs{"url": "https://gitlab.com", "client_ids": []string{"x"}})); err != nil {
		t.Fatal(err)
	}
	if _, err := c.IAM.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://accounts.google.com"), ClientIDList: []string{"y"}}); err != nil {
		t.Fatal(err)
	}
	listed, err := d.List(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].Attrs["url"] != iamTestIssuer || listed[0].Tags()[resources.TagID] != "gh" {
		t.Errorf("List(test) = %d providers, want only the GitHub one", len(listed))
		for _, l := range listed {
			t.Logf("  %s %v", l.Handle, l.Tags())
		}
	}
}

func TestIAMRoleDeleteDetachesEverything(t *testing.T) {
	ds, c := drivers(t)
	d := ds["iam_role"]
	ctx := moto.Context(t)
	policy := iamTestManagedPolicy(t, c, "attached")
	target := iamTestTarget("test", "role", resources.Attrs{
		"name":                "busy",
		"path":                "/",
		"trust_policy":        iamTestTrust(t, "repo:o/r:*"),
		"inline_policies":     map[string]map[string]any{"p": iamTestAllow(t, "s3:GetObject", "*")},
		"managed_policy_arns": []string{policy},
	})
	live, err := d.Create(ctx, target)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := c.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("busy-profile")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{
		InstanceProfileName: aws.String("busy-profile"), RoleName: aws.String("busy")}); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, live); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got, err := d.Find(ctx, target); err != nil || got != nil {
		t.Errorf("Find after delete = %v, %v", got, err)
	}
	// The managed policy itself is not the role's: it stays.
	if _, err := c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(policy)}); err != nil {
		t.Errorf("managed policy gone with the role: %v", err)
	}
}

func TestIAMChecks(t *testing.T) {
	check := func(typ, attr string) func(any) error {
		a := resources.SchemaFor(typ).Attr(attr)
		if a == nil || a.Check == nil {
			t.Fatalf("%s.%s has no Check", typ, attr)
		}
		return a.Check
	}
	thumbs := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = strings.Repeat(string(rune('a'+i)), 40)
		}
		return out
	}
	tests := []struct {
		name    string
		check   func(any) error
		value   any
		wantErr bool
	}{
		{"url github", check("iam_oidc_provider", "url"), "https://token.actions.githubusercontent.com", false},
		{"url with path", check("iam_oidc_provider", "url"), "https://oidc.eks.us-east-1.amazonaws.com/id/ABC123", false},
		{"url trailing slash", check("iam_oidc_provider", "url"), "https://token.actions.githubusercontent.com/", true},
		{"url path trailing slash", check("iam_oidc_provider", "url"), "https://example.com/id/", true},
		{"url port", check("iam_oidc_provider", "url"), "https://example.com:8443", true},
		{"url query", check("iam_oidc_provider", "url"), "https://example.com?a=b", true},
		{"url empty query", check("iam_oidc_provider", "url"), "https://example.com?", true},
		{"url fragment", check("iam_oidc_provider", "url"), "https://example.com#x", true},
		{"url http", check("iam_oidc_provider", "url"), "http://example.com", true},
		{"url no scheme", check("iam_oidc_provider", "url"), "token.actions.githubusercontent.com", true},
		{"url no host", check("iam_oidc_provider", "url"), "https://", true},
		{"url userinfo", check("iam_oidc_provider", "url"), "https://u:p@example.com", true},
		{"url upper-case scheme", check("iam_oidc_provider", "url"), "HTTPS://example.com", true},
		{"url not a string", check("iam_oidc_provider", "url"), 42, true},
		{"thumbprints ok", check("iam_oidc_provider", "thumbprints"), []string{iamTestThumb1, strings.ToUpper(iamTestThumb2)}, false},
		{"thumbprints five", check("iam_oidc_provider", "thumbprints"), thumbs(5), false},
		{"thumbprints six", check("iam_oidc_provider", "thumbprints"), thumbs(6), true},
		{"thumbprint short", check("iam_oidc_provider", "thumbprints"), []string{iamTestThumb1[:39]}, true},
		{"thumbprint not hex", check("iam_oidc_provider", "thumbprints"), []string{strings.Repeat("g", 40)}, true},
		{"client ids ok", check("iam_oidc_provider", "client_ids"), []string{"sts.amazonaws.com"}, false},
		{"client id empty", check("iam_oidc_provider", "client_ids"), []string{""}, true},
		{"client id twice", check("iam_oidc_provider", "client_ids"), []string{"a", "a"}, true},
		{"role name ok", check("iam_role", "name"), "ci-deploy_v2+x=y,z.w@q", false},
		{"role name 64", check("iam_role", "name"), strings.Repeat("r", 64), false},
		{"role name 65", check("iam_role", "name"), strings.Repeat("r", 65), true},
		{"role name empty", check("iam_role", "name"), "", true},
		{"role name slash", check("iam_role", "name"), "ci/deploy", true},
		{"role name space", check("iam_role", "name"), "ci deploy", true},
		{"path root", check("iam_role", "path"), "/", false},
		{"path nested", check("iam_role", "path"), "/ci/deploy/", false},
		{"path no leading slash", check("iam_role", "path"), "ci/", true},
		{"path no trailing slash", check("iam_role", "path"), "/ci", true},
		{"path empty", check("iam_role", "path"), "", true},
		{"path space", check("iam_role", "path"), "/c i/", true},
		{"session min", check("iam_role", "max_session_duration"), int64(3600), false},
		{"session max", check("iam_role", "max_session_duration"), int64(43200), false},
		{"session low", check("iam_role", "max_session_duration"), int64(3599), true},
		{"session high", check("iam_role", "max_session_duration"), int64(43201), true},
		{"boundary arn", check("iam_role", "permissions_boundary"), "arn:aws:iam::123456789012:policy/boundary", false},
		{"boundary none", check("iam_role", "permissions_boundary"), "", false},
		{"boundary role arn", check("iam_role", "permissions_boundary"), "arn:aws:iam::123456789012:role/x", true},
		{"managed aws", check("iam_role", "managed_policy_arns"), []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, false},
		{"managed not arn", check("iam_role", "managed_policy_arns"), []string{"ReadOnlyAccess"}, true},
		{"inline name ok", check("iam_role", "inline_policies"), map[string]map[string]any{"s3-read": {}}, false},
		{"inline name bad", check("iam_role", "inline_policies"), map[string]map[string]any{"s3 read": {}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(tt.value)
			if (err != nil) != tt.wantErr {
				t.Errorf("Check(%v) = %v, want error: %v", tt.value, err, tt.wantErr)
			}
		})
	}
}
