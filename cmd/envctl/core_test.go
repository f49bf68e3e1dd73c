package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/litentry/envctl/internal/moto"
)

const coreFile = "../../testdata/core/core.yaml"
const coreBucket = "agentkeys-mail-core-123456789012"
const coreRole = "agentkeys-data-role-core"

func TestCoreLifecycle(t *testing.T) {
	c := newCLI(t, coreFile)

	c.must(0, "validate", "--env", "core")
	r := c.must(2, "plan", "--env", "core", "--detailed-exitcode")
	contains(t, "first plan", r.out,
		"+ oidc (iam_oidc_provider) will be created",
		"+ role (iam_role) will be created",
		"+ bucket (s3_bucket) will be created",
		"(known after apply)",
		"Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy, 0 to adopt.")

	r = c.must(0, "apply", "--env", "core", "--auto-approve")
	contains(t, "apply", r.out, "oidc: Creation complete after", "role: Creation complete after", "Apply complete! Resources: 3 added")

	r = c.must(0, "plan", "--env", "core", "--detailed-exitcode")
	contains(t, "second plan", r.out, "No changes.")

	// The role's trust policy names the provider created in the same run.
	ctx := moto.Context(t)
	role, err := c.clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(coreRole)})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
	contains(t, "trust policy", doc, "arn:aws:iam::123456789012:oidc-provider/core-broker.example.org")

	r = c.must(0, "show", "--env", "core", "--json")
	var shown struct {
		Resources []struct {
			ID, Status string
			Exports    map[string]string
		}
	}
	if err := json.Unmarshal([]byte(r.out), &shown); err != nil {
		t.Fatalf("show --json: %v\n%s", err, r.out)
	}
	for _, res := range shown.Resources {
		if res.Status != "in sync" {
			t.Errorf("show: %s is %s", res.ID, res.Status)
		}
	}

	r = c.must(0, "destroy", "--env", "core", "--auto-approve")
	contains(t, "destroy", r.out, "Destroy complete! Resources: 0 added, 0 changed, 0 replaced, 3 destroyed")
	if _, err := c.clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(coreRole)}); err == nil {
		t.Errorf("role still exists after destroy")
	}
	if _, err := c.clients.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(coreBucket)}); err == nil {
		t.Errorf("bucket still exists after destroy")
	}
	providers, _ := c.clients.IAM.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if len(providers.OpenIDConnectProviderList) != 0 {
		t.Errorf("destroy left %d OIDC providers", len(providers.OpenIDConnectProviderList))
	}
}

func TestOutOfBandChangesAreRepaired(t *testing.T) {
	c := newCLI(t, coreFile)
	c.must(0, "apply", "--env", "core", "--auto-approve")
	ctx := moto.Context(t)

	// Someone widens the trust policy and drops the bucket policy's condition.
	trust := `{"Version":"2012-10-17","Statement":[{"Sid":"BrokerIssuedTokens","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/core-broker.example.org"},"Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"],"Condition":{"StringEquals":{"core-broker.example.org:aud":"anyone"}}}]}`
	if _, err := c.clients.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(coreRole), PolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	bucketPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + coreBucket + `","arn:aws:s3:::` + coreBucket + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`
	if _, err := c.clients.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(coreBucket), Policy: aws.String(bucketPolicy)}); err != nil {
		t.Fatal(err)
	}

	r := c.must(2, "plan", "--env", "core", "--detailed-exitcode")
	contains(t, "drift plan", r.out,
		"~ role (iam_role) will be updated in place",
		`~ trust_policy.Statement[BrokerIssuedTokens].Condition = {"StringEquals":{"core-broker.example.org:aud":["anyone"]}} → {"StringEquals":{"core-broker.example.org:aud":["sts.amazonaws.com"]}}`,
		"~ bucket (s3_bucket) will be updated in place",
		`policy.Statement[DenyInsecureTransport].Condition`,
		"Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy, 0 to adopt.")
	if strings.Contains(r.out, "oidc (") {
		t.Errorf("the provider did not change but is in the plan:\n%s", r.out)
	}

	c.must(0, "apply", "--env", "core", "--auto-approve")
	c.must(0, "plan", "--env", "core", "--detailed-exitcode")
}

func TestEquivalentPolicyShowsNoChange(t *testing.T) {
	c := newCLI(t, coreFile)
	c.must(0, "apply", "--env", "core", "--auto-approve")
	ctx := moto.Context(t)
	// Same meaning, written differently: single-element lists as strings,
	// a statement object instead of a list, reordered actions and keys.
	trust := `{"Version":"2012-10-17","Statement":{"Condition":{"StringEquals":{"core-broker.example.org:aud":["sts.amazonaws.com"]}},"Action":["sts:TagSession","sts:AssumeRoleWithWebIdentity"],"Principal":{"Federated":["arn:aws:iam::123456789012:oidc-provider/core-broker.example.org"]},"Effect":"Allow","Sid":"BrokerIssuedTokens"}}`
	if _, err := c.clients.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(coreRole), PolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	r := c.must(0, "plan", "--env", "core", "--detailed-exitcode")
	contains(t, "plan", r.out, "No changes.")
}

func TestAdoptFlow(t *testing.T) {
	c := newCLI(t, coreFile)
	ctx := moto.Context(t)
	if _, err := c.clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(coreBucket)}); err != nil {
		t.Fatal(err)
	}
	r := c.must(2, "plan", "--env", "core", "--detailed-exitcode")
	contains(t, "plan", r.out, "> bucket (s3_bucket) will be adopted", "1 to adopt")

	r = c.must(1, "apply", "--env", "core", "--auto-approve")
	contains(t, "apply without --adopt", r.err, "adopt: true", "--adopt", coreBucket)
	if _, err := c.clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(coreRole)}); err == nil {
		t.Fatalf("a refused apply created the role")
	}

	c.must(0, "apply", "--env", "core", "--auto-approve", "--adopt")
	tags, err := c.clients.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(coreBucket)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tag := range tags.TagSet {
		found = found || (aws.ToString(tag.Key) == "envctl:env" && aws.ToString(tag.Value) == "core")
	}
	if !found {
		t.Errorf("adopted bucket lacks envctl:env=core: %v", tags.TagSet)
	}
	c.must(0, "plan", "--env", "core", "--detailed-exitcode")
}

func TestOrphanIsDeleted(t *testing.T) {
	c := newCLI(t, coreFile)
	c.must(0, "apply", "--env", "core", "--auto-approve")
	c.edit("core.yaml", func(s string) string {
		i := strings.Index(s, "  bucket:\n")
		// The role's policy references the bucket; point it elsewhere.
		return strings.Replace(s[:i], "${bucket.arn}", "arn:aws:s3:::elsewhere", 1)
	})
	r := c.must(2, "plan", "--env", "core", "--detailed-exitcode")
	contains(t, "plan", r.out, "- bucket (s3_bucket) will be destroyed: not in", "1 to destroy")
	c.must(0, "apply", "--env", "core", "--auto-approve")
	if _, err := c.clients.S3.HeadBucket(moto.Context(t), &s3.HeadBucketInput{Bucket: aws.String(coreBucket)}); err == nil {
		t.Errorf("orphan bucket still exists")
	}
	c.must(0, "plan", "--env", "core", "--detailed-exitcode")
}

func TestWrongAccountRefusedBeforeAnyCall(t *testing.T) {
	c := newCLI(t, coreFile)
	c.edit("core.yaml", func(s string) string { return strings.Replace(s, `"123456789012"`, `"999999999999"`, 1) })
	for _, cmd := range [][]string{{"plan", "--env", "core"}, {"apply", "--env", "core", "--auto-approve"}, {"destroy", "--env", "core", "--auto-approve"}, {"show", "--env", "core"}} {
		r := c.must(1, cmd...)
		contains(t, cmd[0], r.err, "123456789012", "999999999999", "nothing was read or changed")
	}
	roles, _ := c.clients.IAM.ListRoles(moto.Context(t), &iam.ListRolesInput{})
	if len(roles.Roles) != 0 {
		t.Errorf("a refused apply created %d roles", len(roles.Roles))
	}
}

func TestProtectRefusesDestroy(t *testing.T) {
	c := newCLI(t, coreFile)
	c.edit("core.yaml", func(s string) string {
		return strings.Replace(s, "region: us-east-1\n", "region: us-east-1\nprotect: true\n", 1)
	})
	c.must(0, "apply", "--env", "core", "--auto-approve")
	r := c.must(1, "destroy", "--env", "core", "--auto-approve")
	contains(t, "destroy", r.err, "protected")
	// Removing the resource from the file does not bypass protection.
	c.edit("core.yaml", func(s string) string {
		i := strings.Index(s, "  bucket:\n")
		return strings.Replace(s[:i], "${bucket.arn}", "arn:aws:s3:::elsewhere", 1)
	})
	r = c.must(1, "plan", "--env", "core")
	contains(t, "plan without the bucket", r.err, "bucket (s3_bucket): protected")
	if _, err := c.clients.S3.HeadBucket(moto.Context(t), &s3.HeadBucketInput{Bucket: aws.String(coreBucket)}); err != nil {
		t.Errorf("protected bucket is gone: %v", err)
	}
}

func TestApplyNeedsApprovalWithoutTerminal(t *testing.T) {
	c := newCLI(t, coreFile)
	r := c.must(1, "apply", "--env", "core")
	contains(t, "apply", r.err, "--auto-approve", "nothing was changed")
	roles, _ := c.clients.IAM.ListRoles(moto.Context(t), &iam.ListRolesInput{})
	if len(roles.Roles) != 0 {
		t.Errorf("unapproved apply created roles")
	}
	// On a terminal, anything but "yes" cancels.
	r = c.runWith(&IO{In: strings.NewReader("no\n"), InIsTTY: true, Getenv: func(string) string { return "" }}, "apply", "--env", "core")
	if r.code != 1 || !strings.Contains(r.err, "cancelled") {
		t.Errorf("answer no: exit %d, stderr %s", r.code, r.err)
	}
	r = c.runWith(&IO{In: strings.NewReader("yes\n"), InIsTTY: true, Getenv: func(string) string { return "" }}, "apply", "--env", "core")
	if r.code != 0 {
		t.Errorf("answer yes: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}

func TestPlanJSONAndFlagPlacement(t *testing.T) {
	c := newCLI(t, coreFile)
	// Common flags after the command work as well as before it.
	r := c.must(0, "plan", "--env", "core", "--json", "--no-color", "--dir", c.dir)
	var p struct {
		Env       string `json:"env"`
		AccountID string `json:"account_id"`
		Region    string `json:"region"`
		Changes   []struct {
			ID, Type, Action, Reason string
			Diffs                    []struct {
				Path          string
				Before, After any
			}
		}
		Summary map[string]int
	}
	if err := json.Unmarshal([]byte(r.out), &p); err != nil {
		t.Fatalf("plan --json is not JSON: %v\n%s", err, r.out)
	}
	if p.Env != "core" || p.AccountID != "123456789012" || p.Region != "us-east-1" || len(p.Changes) != 3 || p.Summary["create"] != 3 {
		t.Errorf("plan json = %+v", p)
	}
	for _, ch := range p.Changes {
		if ch.Action != "create" || len(ch.Diffs) == 0 {
			t.Errorf("change %s: action %s, %d diffs", ch.ID, ch.Action, len(ch.Diffs))
		}
	}
	if strings.Contains(r.out, "\x1b[") {
		t.Errorf("colour codes in non-terminal output")
	}
}

func TestInvalidConfigExitsOneWithPosition(t *testing.T) {
	c := newCLI(t, coreFile)
	c.edit("core.yaml", func(s string) string { return strings.Replace(s, "versioning: true", "versioning: maybe", 1) })
	for _, cmd := range [][]string{{"validate"}, {"plan", "--env", "core"}} {
		r := c.must(1, cmd...)
		contains(t, cmd[0], r.err, "core.yaml:37:17: error: resources.bucket.versioning: expected true or false")
		if strings.Contains(r.err, "goroutine") {
			t.Errorf("stack trace printed:\n%s", r.err)
		}
	}
}
