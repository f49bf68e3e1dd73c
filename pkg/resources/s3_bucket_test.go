package resources_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/awsapi"
	"github.com/litentry/envctl/pkg/policy"
	"github.com/litentry/envctl/pkg/resources"
)

// s3TLSOnly denies every request that does not use TLS.
func s3TLSOnly(name string) map[string]any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "DenyInsecureTransport",
			"Effect":    "Deny",
			"Principal": "*",
			"Action":    "s3:*",
			"Resource":  []any{"arn:aws:s3:::" + name, "arn:aws:s3:::" + name + "/*"},
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		}},
	}
}

// s3PublicRead allows everyone to read objects, without a condition.
func s3PublicRead(name string) map[string]any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "PublicRead",
			"Effect":    "Allow",
			"Principal": "*",
			"Action":    "s3:GetObject",
			"Resource":  "arn:aws:s3:::" + name + "/*",
		}},
	}
}

// s3Desired returns a full desired attribute set with the defaults the
// engine fills in.
func s3Desired(name string) resources.Attrs {
	return resources.Attrs{
		"name":                name,
		"block_public_access": true,
		"object_ownership":    "BucketOwnerEnforced",
		"force_destroy":       false,
	}
}

func s3Target(env, id string, attrs resources.Attrs) resources.Target {
	tags := resources.TagMap(attrs["tags"])
	tags[resources.TagEnv] = env
	tags[resources.TagID] = id
	attrs["tags"] = tags
	return resources.Target{Env: env, ID: id, Attrs: attrs}
}

// s3CheckShapes asserts that every managed attribute the target holds
// reads back from the live bucket in exactly the desired shape.
func s3CheckShapes(t *testing.T, want resources.Attrs, live *resources.Live) {
	t.Helper()
	for _, k := range []string{"name", "versioning", "encryption", "block_public_access", "object_ownership", "lifecycle"} {
		w, ok := want[k]
		if !ok {
			continue
		}
		got, ok := live.Attrs[k]
		if !ok {
			t.Errorf("live %s missing", k)
			continue
		}
		if k == "lifecycle" {
			w, got = s3SortRules(w.([]map[string]any)), s3SortRules(got.([]map[string]any))
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("live %s (-want +got):\n%s", k, diff)
		}
	}
	if w, ok := want["policy"].(map[string]any); ok {
		got, _ := live.Attrs["policy"].(map[string]any)
		if !policy.Equal(w, got) {
			t.Errorf("live policy = %v, want %v", got, w)
		}
	}
	if _, ok := live.Attrs["force_destroy"]; ok {
		t.Errorf("live force_destroy present; it is write-only and must not be reported")
	}
}

func s3SortRules(rules []map[string]any) []map[string]any {
	out := append([]map[string]any(nil), rules...)
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]["id"]) < fmt.Sprint(out[j]["id"]) })
	return out
}

func TestS3BucketConformance(t *testing.T) {
	const name = "envctl-conf-bucket"
	create := s3Desired(name)
	create["versioning"] = true
	create["encryption"] = "aes256"
	create["lifecycle"] = []map[string]any{
		{"id": "expire-logs", "prefix": "logs/", "expire_days": int64(30), "abort_incomplete_multipart_days": int64(7)},
		{"id": "old-versions", "prefix": "", "noncurrent_expire_days": int64(90)},
	}
	create["policy"] = s3TLSOnly(name)
	create["tags"] = map[string]string{"team": "mail"}

	update := resources.Attrs{
		"versioning": false,
		"encryption": "kms:alias/envctl-test",
		"lifecycle": []map[string]any{
			{"id": "old-versions", "prefix": "", "noncurrent_expire_days": int64(60)},
		},
		"policy": map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Sid":       "DenyDelete",
				"Effect":    "Deny",
				"Principal": "*",
				"Action":    "s3:DeleteBucket",
				"Resource":  "arn:aws:s3:::" + name,
			}},
		},
	}
	runConformance(t, conformanceCase{
		Type:   "s3_bucket",
		Create: create,
		CheckCreated: func(t *testing.T, live *resources.Live) {
			s3CheckShapes(t, create, live)
			if diff := cmp.Diff(map[string]string{
				"arn":                  "arn:aws:s3:::" + name,
				"name":                 name,
				"regional_domain_name": name + ".s3.us-east-1.amazonaws.com",
			}, live.Exports); diff != "" {
				t.Errorf("exports (-want +got):\n%s", diff)
			}
			if got := live.Notes["objects"]; got != "0" {
				t.Errorf(`Notes["objects"] = %q, want "0"`, got)
			}
		},
		Update:  update,
		Changed: []string{"versioning", "encryption", "lifecycle", "policy"},
		CheckUpdated: func(t *testing.T, live *resources.Live) {
			s3CheckShapes(t, update, live)
		},
	})
}

// s3Fixture creates a bucket through the driver and returns it.
func s3Fixture(t *testing.T, attrs resources.Attrs) (resources.Driver, *awsapi.Clients, context.Context, resources.Target, *resources.Live) {
	t.Helper()
	ds, c := drivers(t)
	d := ds["s3_bucket"]
	ctx := moto.Context(t)
	target := s3Target("test", "bucket", attrs)
	live, err := d.Create(ctx, target)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return d, c, ctx, target, live
}

// s3PutVersions writes several versions of one object and a delete marker
// for another: 3 versions of a.txt, 1 version of b.txt and its delete
// marker, 5 entries in all.
func s3PutVersions(t *testing.T, ctx context.Context, c *awsapi.Clients, name string) int {
	t.Helper()
	for i := range 3 {
		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("a.txt"),
			Body: strings.NewReader(fmt.Sprintf("version %d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("b.txt"),
		Body: strings.NewReader("b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String("b.txt")}); err != nil {
		t.Fatal(err)
	}
	return 5
}

func TestS3BucketDeleteNonEmpty(t *testing.T) {
	const name = "envctl-full-bucket"
	attrs := s3Desired(name)
	attrs["versioning"] = true
	d, c, ctx, target, _ := s3Fixture(t, attrs)
	want := s3PutVersions(t, ctx, c, name)

	live, err := d.Find(ctx, target)
	if err != nil || live == nil {
		t.Fatalf("Find = %v, %v", live, err)
	}
	if got := live.Notes["objects"]; got != fmt.Sprint(want) {
		t.Errorf(`Notes["objects"] = %q, want "%d" (versions plus delete markers)`, got, want)
	}

	err = d.Delete(ctx, live)
	if err == nil {
		t.Fatal("Delete of a non-empty bucket without force_destroy succeeded")
	}
	wantMsg := fmt.Sprintf("bucket %q is not empty (%d objects); set force_destroy: true to delete its contents", name, want)
	if err.Error() != wantMsg {
		t.Errorf("Delete error = %q, want %q", err, wantMsg)
	}
	if still, err := d.Find(ctx, target); err != nil || still == nil || still.Notes["objects"] != fmt.Sprint(want) {
		t.Fatalf("after refused Delete, Find = %+v, %v; want the bucket with its %d objects", still, err, want)
	}

	forced := *live
	forced.Notes = map[string]string{"objects": live.Notes["objects"], "force_destroy": "true"}
	if err := d.Delete(ctx, &forced); err != nil {
		t.Fatalf("Delete with force_destroy: %v", err)
	}
	if gone, err := d.Find(ctx, target); err != nil || gone != nil {
		t.Fatalf("Find after forced Delete = %+v, %v; want nil, nil", gone, err)
	}
	if err := d.Delete(ctx, &forced); err != nil {
		t.Errorf("second forced Delete must be a no-op, got %v", err)
	}
}

// A bucket with more objects than one ListObjectVersions page or one
// DeleteObjects batch is counted and emptied completely.
func TestS3BucketForceDestroyManyObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1100 objects")
	}
	const name = "envctl-many-objects"
	d, c, ctx, target, _ := s3Fixture(t, s3Desired(name))
	const n = 1100
	for i := range n {
		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String(fmt.Sprintf("k/%04d", i)),
			Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	live, err := d.Find(ctx, target)
	if err != nil || live == nil {
		t.Fatalf("Find = %v, %v", live, err)
	}
	if got := live.Notes["objects"]; got != fmt.Sprint(n) {
		t.Errorf(`Notes["objects"] = %q, want "%d"`, got, n)
	}
	live.Notes["force_destroy"] = "true"
	if err := d.Delete(ctx, live); err != nil {
		t.Fatalf("Delete with force_destroy: %v", err)
	}
	if gone, err := d.Find(ctx, target); err != nil || gone != nil {
		t.Fatalf("Find after forced Delete = %+v, %v; want nil, nil", gone, err)
	}
}

func TestS3BucketDefaultsReadBack(t *testing.T) {
	const name = "envctl-defaults"
	attrs := s3Desired(name)
	attrs["versioning"] = false
	attrs["lifecycle"] = []map[string]any{}
	d, _, ctx, target, created := s3Fixture(t, attrs)
	s3CheckShapes(t, attrs, created)
	if _, ok := created.Attrs["policy"]; ok {
		t.Errorf("live policy = %v on a bucket without one; want it absent", created.Attrs["policy"])
	}
	found, err := d.Find(ctx, target)
	if err != nil || found == nil {
		t.Fatalf("Find = %v, %v", found, err)
	}
	if diff := cmp.Diff(created.Attrs, found.Attrs); diff != "" {
		t.Errorf("Create and Find disagree (-create +find):\n%s", diff)
	}
}

func TestS3BucketPublicAccessAndOwnership(t *testing.T) {
	const name = "envctl-public-site"
	attrs := s3Desired(name)
	attrs["block_public_access"] = false
	attrs["object_ownership"] = "BucketOwnerPreferred"
	attrs["policy"] = s3PublicRead(name)
	d, _, ctx, target, created := s3Fixture(t, attrs)
	s3CheckShapes(t, attrs, created)

	target.Attrs["block_public_access"] = true
	target.Attrs["object_ownership"] = "ObjectWriter"
	target.Attrs["policy"] = s3TLSOnly(name)
	if _, err := d.Update(ctx, created, target, []string{"block_public_access", "object_ownership", "policy"}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	found, err := d.Find(ctx, target)
	if err != nil || found == nil {
		t.Fatalf("Find = %v, %v", found, err)
	}
	s3CheckShapes(t, target.Attrs, found)
}

// Only all four flags on read as block_public_access: true.
func TestS3BucketPartialPublicAccessBlock(t *testing.T) {
	const name = "envctl-partial-pab"
	d, c, ctx, target, _ := s3Fixture(t, s3Desired(name))
	if _, err := c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(name),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(false), RestrictPublicBuckets: aws.Bool(true),
		}}); err != nil {
		t.Fatal(err)
	}
	found, err := d.Find(ctx, target)
	if err != nil || found == nil {
		t.Fatalf("Find = %v, %v", found, err)
	}
	if got := found.Attrs["block_public_access"]; got != false {
		t.Errorf("block_public_access with one flag off = %v, want false", got)
	}
}

// A bucket made outside envctl, with nothing configured, reads with each
// "not configured" error as the empty value: no public access block is
// false, no ownership controls is ObjectWriter (how S3 then behaves).
func TestS3BucketReadsUnconfiguredBucket(t *testing.T) {
	ds, c := drivers(t)
	d := ds["s3_bucket"]
	ctx := moto.Context(t)
	const name = "made-by-hand"
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	found, err := d.Find(ctx, resources.Target{Env: "test", ID: "b", Attrs: resources.Attrs{"name": name}})
	if err != nil || found == nil {
		t.Fatalf("Find = %v, %v", found, err)
	}
	want := resources.Attrs{
		"name":                name,
		"versioning":          false,
		"encryption":          "",
		"block_public_access": false,
		"object_ownership":    "ObjectWriter",
		"lifecycle":           []map[string]any{},
		"tags":                map[string]string{},
	}
	if diff := cmp.Diff(want, found.Attrs); diff != "" {
		t.Errorf("live attrs (-want +got):\n%s", diff)
	}
}

func TestS3BucketOutOfBandPolicyChange(t *testing.T) {
	const name = "envctl-drift"
	attrs := s3Desired(name)
	attrs["policy"] = s3TLSOnly(name)
	d, c, ctx, target, _ := s3Fixture(t, attrs)

	other := `{"Version":"2012-10-17","Statement":[{"Sid":"Other","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::` + name + `/*"}]}`
	if _, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(name), Policy: aws.String(other)}); err != nil {
		t.Fatal(err)
	}
	found, err := d.Find(ctx, target)
	if err != nil || found == nil {
		t.Fatalf("Find = %v, %v", found, err)
	}
	want, err := policy.Parse(other)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := found.Attrs["policy"].(map[string]any)
	if !policy.Equal(want, got) {
		t.Errorf("Find policy = %v, want the out-of-band one %v", got, want)
	}
	if policy.Equal(attrs["policy"].(map[string]any), got) {
		t.Error("Find still reports the desired policy after an out-of-band change")
	}
}

func TestS3BucketLifecycleAndVersioningTransitions(t *testing.T) {
	const name = "envctl-lifecycle"
	attrs := s3Desired(name)
	attrs["versioning"] = false
	attrs["lifecycle"] = []map[string]any{{"id": "tmp", "prefix": "tmp/", "expire_days": int64(1)}}
	d, c, ctx, target, created := s3Fixture(t, attrs)
	s3CheckShapes(t, attrs, created)

	// Suspending a bucket that was never versioned is no call at all: it
	// stays unversioned (S3 has no way back to that state).
	if _, err := d.Update(ctx, created, target, []string{"versioning"}); err != nil {
		t.Fatalf("Update versioning false on an unversioned bucket: %v", err)
	}
	vs, err := c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if vs.Status != "" {
		t.Errorf("versioning status = %q, want none (never enabled)", vs.Status)
	}

	target.Attrs["lifecycle"] = []map[string]any{}
	updated, err := d.Update(ctx, created, target, []string{"lifecycle"})
	if err != nil {
		t.Fatalf("Update lifecycle to empty: %v", err)
	}
	if diff := cmp.Diff([]map[string]any{}, updated.Attrs["lifecycle"]); diff != "" {
		t.Errorf("lifecycle after emptying (-want +got):\n%s", diff)
	}
	if _, err := c.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(name)}); !awsapi.IsCode(err, "NoSuchLifecycleConfiguration") {
		t.Errorf("GetBucketLifecycleConfiguration after emptying = %v, want NoSuchLifecycleConfiguration", err)
	}
}

// Lifecycle rules using what envctl does not manage never read as equal to
// a desired rule, so the plan shows that apply rewrites them; Update then
// brings back exactly the desired rules.
func TestS3BucketLifecycleUnsupportedRule(t *testing.T) {
	const name = "envctl-lifecycle-drift"
	attrs := s3Desired(name)
	attrs["lifecycle"] = []map[string]any{{"id": "tmp", "prefix": "tmp/", "expire_days": int64(1)}}
	d, c, ctx, target, _ := s3Fixture(t, attrs)
	_, err := c.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(name),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{
			{ID: aws.String("tmp"), Status: types.ExpirationStatusDisabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
				Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}},
			{ID: aws.String("archive"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
				Transitions: []types.Transition{{Days: aws.Int32(30), StorageClass: types.TransitionStorageClassGlacier}}},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	live, err := d.Find(ctx, target)
	if err != nil || live == nil {
		t.Fatalf("Find = %v, %v", live, err)
	}
	want := []map[string]any{
		{"id": "archive", "prefix": "", "unsupported": "transitions"},
		{"id": "tmp", "prefix": "tmp/", "expire_days": int64(1), "unsupported": "status Disabled"},
	}
	if diff := cmp.Diff(want, s3SortRules(live.Attrs["lifecycle"].([]map[string]any))); diff != "" {
		t.Errorf("live lifecycle (-want +got):\n%s", diff)
	}
	updated, err := d.Update(ctx, live, target, []string{"lifecycle"})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	s3CheckShapes(t, attrs, updated)
}

// Default encryption set outside envctl reads in the attribute's form.
func TestS3BucketEncryptionReadBack(t *testing.T) {
	const name = "envctl-encryption"
	d, c, ctx, target, _ := s3Fixture(t, s3Desired(name))
	tests := []struct {
		def  types.ServerSideEncryptionByDefault
		want string
	}{
		{types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}, "aes256"},
		{types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("alias/mail")}, "kms:alias/mail"},
		{types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms}, "kms:alias/aws/s3"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			def := tc.def
			if _, err := c.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(name),
				ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
					Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &def}}}}); err != nil {
				t.Fatal(err)
			}
			live, err := d.Find(ctx, target)
			if err != nil || live == nil {
				t.Fatalf("Find = %v, %v", live, err)
			}
			if got := live.Attrs["encryption"]; got != tc.want {
				t.Errorf("encryption = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestS3BucketTagsKeepUnmanaged(t *testing.T) {
	const name = "envctl-tags"
	attrs := s3Desired(name)
	attrs["tags"] = map[string]string{"team": "mail", resources.TagProtect: "true"}
	d, c, ctx, target, _ := s3Fixture(t, attrs)
	// Someone else adds a tag envctl does not manage.
	live, err := d.Find(ctx, target)
	if err != nil || live == nil {
		t.Fatalf("Find = %v, %v", live, err)
	}
	tagSet := []types.Tag{{Key: aws.String("cost-center"), Value: aws.String("42")}}
	for k, v := range live.Tags() {
		tagSet = append(tagSet, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := c.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(name), Tagging: &types.Tagging{TagSet: tagSet}}); err != nil {
		t.Fatal(err)
	}
	live, err = d.Find(ctx, target)
	if err != nil || live == nil {
		t.Fatalf("Find = %v, %v", live, err)
	}

	tags := map[string]string{"team": "infra", resources.TagEnv: "test", resources.TagID: "bucket"}
	target.Attrs["tags"] = tags
	updated, err := d.Update(ctx, live, target, []string{"tags"})
	if err != nil {
		t.Fatalf("Update tags: %v", err)
	}
	want := map[string]string{"team": "infra", "cost-center": "42", resources.TagEnv: "test", resources.TagID: "bucket"}
	if diff := cmp.Diff(want, updated.Tags()); diff != "" {
		t.Errorf("tags after update (-want +got):\n%s", diff)
	}
}

// Create is safe to repeat, as after a lost response: us-east-1 answers a
// repeated CreateBucket with 200, other regions with BucketAlreadyOwnedByYou.
// Either way the bucket keeps the tags envctl does not manage, and outside
// us-east-1 the bucket lands in the client's region.
func TestS3BucketCreateTwice(t *testing.T) {
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		t.Run(region, func(t *testing.T) {
			srv := moto.ForTest(t)
			c, err := awsapi.New(context.Background(), awsapi.Options{Region: region, EndpointURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			d := resources.Drivers(c)["s3_bucket"]
			ctx := moto.Context(t)
			name := "envctl-twice-" + region
			target := s3Target("test", "bucket", s3Desired(name))
			first, err := d.Create(ctx, target)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if got, want := first.Exports["regional_domain_name"], name+".s3."+region+".amazonaws.com"; got != want {
				t.Errorf("regional_domain_name = %q, want %q", got, want)
			}
			loc, err := c.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			// us-east-1 buckets have no location constraint.
			if want := strings.TrimPrefix(region, "us-east-1"); string(loc.LocationConstraint) != want {
				t.Errorf("location = %q, want %q", loc.LocationConstraint, want)
			}
			tagSet := []types.Tag{{Key: aws.String("cost-center"), Value: aws.String("42")}}
			for k, v := range first.Tags() {
				tagSet = append(tagSet, types.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			if _, err := c.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(name), Tagging: &types.Tagging{TagSet: tagSet}}); err != nil {
				t.Fatal(err)
			}
			again, err := d.Create(ctx, target)
			if err != nil {
				t.Fatalf("second Create = %v, want success", err)
			}
			if again.Handle != first.Handle {
				t.Errorf("second Create handle = %q, want %q", again.Handle, first.Handle)
			}
			if got := again.Tags()["cost-center"]; got != "42" {
				t.Errorf("second Create dropped the unmanaged tag cost-center (now %q)", got)
			}
		})
	}
}

func TestS3BucketList(t *testing.T) {
	ds, c := drivers(t)
	d := ds["s3_bucket"]
	ctx := moto.Context(t)
	for _, b := range []struct{ env, id, name string }{
		{"test", "a", "envctl-list-a"},
		{"test", "b", "envctl-list-b"},
		{"prod", "a", "envctl-list-prod"},
	} {
		if _, err := d.Create(ctx, s3Target(b.env, b.id, s3Desired(b.name))); err != nil {
			t.Fatalf("Create %s: %v", b.name, err)
		}
	}
	// A bucket without any tags must be skipped, not fail the listing.
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("someone-elses")}); err != nil {
		t.Fatal(err)
	}
	listed, err := d.List(ctx, "test")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var got []string
	for _, l := range listed {
		got = append(got, l.Handle+"="+l.Tags()[resources.TagID])
		if l.Notes["objects"] != "0" || l.Exports["arn"] == "" {
			t.Errorf("List entry %s is not a full Live: notes %v exports %v", l.Handle, l.Notes, l.Exports)
		}
	}
	if diff := cmp.Diff([]string{"envctl-list-a=a", "envctl-list-b=b"}, got); diff != "" {
		t.Errorf("List(test) (-want +got):\n%s", diff)
	}
}

func TestS3BucketValidate(t *testing.T) {
	s := resources.SchemaFor("s3_bucket")
	public := s3PublicRead("b")
	awsStar := map[string]any{"Statement": map[string]any{
		"Effect": "Allow", "Principal": map[string]any{"AWS": []any{"*"}}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
	}}
	conditioned := map[string]any{"Statement": []any{map[string]any{
		"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
		"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceVpce": "vpce-1234"}},
	}}}
	tests := []struct {
		name    string
		attrs   resources.Attrs
		wantErr bool
	}{
		{"public policy with block_public_access", resources.Attrs{"block_public_access": true, "policy": public}, true},
		{"public policy with default block_public_access", resources.Attrs{"policy": public}, true},
		{"AWS star principal with block_public_access", resources.Attrs{"block_public_access": true, "policy": awsStar}, true},
		{"public policy without block_public_access", resources.Attrs{"block_public_access": false, "policy": public}, false},
		{"conditioned allow", resources.Attrs{"block_public_access": true, "policy": conditioned}, false},
		{"deny star", resources.Attrs{"block_public_access": true, "policy": s3TLSOnly("b")}, false},
		{"no policy", resources.Attrs{"block_public_access": true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate(tc.attrs)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Validate = %v, want error: %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "block_public_access") {
				t.Errorf("error %q does not name block_public_access", err)
			}
		})
	}
}

func TestS3BucketCheckName(t *testing.T) {
	check := resources.SchemaFor("s3_bucket").Attr("name").Check
	tests := []struct {
		name string
		ok   bool
	}{
		{"abc", true},
		{"my-bucket.example-1", true},
		{"agentkeys-mail-test-123456789012", true},
		{strings.Repeat("a", 63), true},
		{"ab", false},
		{strings.Repeat("a", 64), false},
		{"My-Bucket", false},
		{"my_bucket", false},
		{"-bucket", false},
		{"bucket-", false},
		{".bucket", false},
		{"my..bucket", false},
		{"192.168.5.4", false},
		{"xn--bucket", false},
		{"sthree-bucket", false},
		{"bucket-s3alias", false},
		{"bucket--ol-s3", false},
		{"bucket--x-s3", false},
		{"bucket.mrap", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := check(tc.name); (err == nil) != tc.ok {
				t.Errorf("Check(%q) = %v, want ok: %v", tc.name, err, tc.ok)
			}
		})
	}
}

func TestS3BucketCheckAttrs(t *testing.T) {
	s := resources.SchemaFor("s3_bucket")
	tests := []struct {
		attr string
		v    any
		ok   bool
	}{
		{"encryption", "aes256", true},
		{"encryption", "kms:alias/mail", true},
		{"encryption", "kms:arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", true},
		{"encryption", "kms:", false},
		{"encryption", "AES256", false},
		{"object_ownership", "BucketOwnerEnforced", true},
		{"object_ownership", "ObjectWriter", true},
		{"object_ownership", "bucketownerenforced", false},
		{"lifecycle", []map[string]any{{"id": "a", "prefix": "", "expire_days": int64(1)}}, true},
		{"lifecycle", []map[string]any{{"id": "a", "prefix": ""}}, false},
		{"lifecycle", []map[string]any{{"id": "a", "expire_days": int64(1)}, {"id": "a", "expire_days": int64(2)}}, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s=%v", tc.attr, tc.v), func(t *testing.T) {
			if err := s.Attr(tc.attr).Check(tc.v); (err == nil) != tc.ok {
				t.Errorf("Check = %v, want ok: %v", err, tc.ok)
			}
		})
	}
	days := s.Attr("lifecycle").Elem[2].Check
	if days(int64(0)) == nil || days(int64(1)) != nil {
		t.Error("expire_days Check must refuse 0 and accept 1")
	}
}
