package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/lock"
)

func TestSavedPlanAppliesOnceThenIsStale(t *testing.T) {
	c := newCLI(t, coreFile)
	planFile := filepath.Join(c.dir, "core.plan")
	r := c.must(0, "plan", "--env", "core", "--out", planFile)
	contains(t, "plan --out", r.out, "Saved the plan to")

	r = c.must(0, "show", planFile, "--format", "markdown")
	contains(t, "show markdown", r.out, "### envctl plan: env `core`", "| ➕ | `role` | iam_role | create |", "<details>")
	r = c.must(0, "show", planFile, "--json")
	if !json.Valid([]byte(r.out)) {
		t.Errorf("show --json is not JSON:\n%s", r.out)
	}

	r = c.must(0, "apply", "--auto-approve", planFile)
	contains(t, "apply FILE", r.out, "Apply complete! Resources: 3 added")
	r = c.must(1, "apply", "--auto-approve", planFile)
	contains(t, "second apply of the same plan", r.err, "plan is stale", "nothing was changed")
}

func TestSavedPlanRefusedAfterOutOfBandChange(t *testing.T) {
	c := newCLI(t, coreFile)
	c.must(0, "apply", "--env", "core", "--auto-approve")
	// A change to plan: a new tag on every resource.
	c.edit("core.yaml", func(s string) string {
		return strings.Replace(s, "tags: {project: agentkeys}", "tags: {project: agentkeys, owner: platform}", 1)
	})
	planFile := filepath.Join(c.dir, "core.plan")
	c.must(2, "plan", "--env", "core", "--out", planFile, "--detailed-exitcode")

	ctx := moto.Context(t)
	if _, err := c.clients.IAM.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(coreRole), Description: aws.String("edited by hand")}); err != nil {
		t.Fatal(err)
	}
	r := c.must(1, "apply", "--auto-approve", planFile)
	contains(t, "stale apply", r.err, "plan is stale: changed in AWS since the plan was made: role")
	tags, _ := c.clients.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(coreBucket)})
	for _, tag := range tags.TagSet {
		if aws.ToString(tag.Key) == "owner" {
			t.Errorf("a refused plan still changed the bucket")
		}
	}
}

func TestEditedPlanFileIsRefused(t *testing.T) {
	c := newCLI(t, coreFile)
	planFile := filepath.Join(c.dir, "core.plan")
	c.must(0, "plan", "--env", "core", "--out", planFile)
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), `"action": "create"`, `"action": "delete"`, 1)
	if edited == string(data) {
		t.Fatal("edit did not apply")
	}
	if err := os.WriteFile(planFile, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.must(1, "apply", "--auto-approve", planFile)
	contains(t, "edited plan", r.err, "plan is stale", "edited")
	roles, _ := c.clients.IAM.ListRoles(moto.Context(t), &iam.ListRolesInput{})
	if len(roles.Roles) != 0 {
		t.Errorf("an edited plan created roles")
	}
}

// withLock adds a lock to the core env and creates its bucket.
func withLock(t *testing.T, c *harness) {
	t.Helper()
	if _, err := c.clients.S3.CreateBucket(moto.Context(t), &s3.CreateBucketInput{Bucket: aws.String("envctl-locks")}); err != nil {
		t.Fatal(err)
	}
	c.edit("core.yaml", func(s string) string {
		return strings.Replace(s, "region: us-east-1\n", "region: us-east-1\nlock: {bucket: envctl-locks, key: envs/core.lock}\n", 1)
	})
}

func TestConcurrentAppliesOneProceeds(t *testing.T) {
	c := newCLI(t, coreFile)
	withLock(t, c)
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.run("apply", "--env", "core", "--auto-approve")
		}()
	}
	wg.Wait()
	ok, held := 0, 0
	for _, r := range results {
		switch {
		case r.code == 0:
			ok++
		case r.code == 1 && strings.Contains(r.err, "is locked by") && strings.Contains(r.err, "lock id"):
			held++
		default:
			t.Errorf("unexpected result: exit %d\n%s\n%s", r.code, r.out, r.err)
		}
	}
	if ok != 1 || held != 1 {
		t.Fatalf("%d applies proceeded and %d were refused; want exactly one each", ok, held)
	}
	if _, err := lock.Read(moto.Context(t), c.clients.S3, "envctl-locks", "envs/core.lock"); err == nil {
		t.Errorf("lock still held after both runs ended")
	}
}

func TestForceUnlock(t *testing.T) {
	c := newCLI(t, coreFile)
	withLock(t, c)
	ctx := moto.Context(t)
	stale, err := lock.Acquire(ctx, c.clients.S3, lock.Options{Bucket: "envctl-locks", Key: "envs/core.lock", Env: "core", Command: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	r := c.must(1, "apply", "--env", "core", "--auto-approve")
	contains(t, "locked apply", r.err, "is locked by", stale.Info.ID, "force-unlock")
	r = c.must(1, "force-unlock", "--env", "core", "not-the-id")
	contains(t, "wrong id", r.err, "nothing removed")
	c.must(0, "force-unlock", "--env", "core", stale.Info.ID)
	c.must(0, "apply", "--env", "core", "--auto-approve")
}

func TestApplyWithoutLockWarns(t *testing.T) {
	c := newCLI(t, coreFile)
	r := c.must(0, "apply", "--env", "core", "--auto-approve")
	if strings.Count(r.err, "Warning: env core declares no lock") != 1 {
		t.Errorf("want exactly one warning line, stderr:\n%s", r.err)
	}
}

func TestCompareAndValidateShippedEnvs(t *testing.T) {
	c := newCLI(t)
	for _, dir := range []string{"../../envs", "../../testdata/example"} {
		r := c.must(0, "--dir", dir, "validate")
		contains(t, "validate "+dir, r.out, "prod.yaml: valid", "test.yaml: valid", "share no identifiers")
		r = c.must(0, "--dir", dir, "compare", "prod", "test", "--strict")
		contains(t, "compare "+dir, r.out, "~ hostname:", "resources.bucket.force_destroy", "all allowed")
	}
}
