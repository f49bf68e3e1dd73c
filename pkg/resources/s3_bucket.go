package resources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/litentry/envctl/pkg/awsapi"
	"github.com/litentry/envctl/pkg/policy"
)

// S3 error codes that mean "this sub-configuration is not set": each reads
// as the empty value of its attribute, not as an error.
const (
	s3NoTagSet        = "NoSuchTagSet"
	s3NoEncryption    = "ServerSideEncryptionConfigurationNotFoundError"
	s3NoPublicBlock   = "NoSuchPublicAccessBlockConfiguration"
	s3NoOwnership     = "OwnershipControlsNotFoundError"
	s3NoPolicy        = "NoSuchBucketPolicy"
	s3NoLifecycle     = "NoSuchLifecycleConfiguration"
	s3AlreadyOwned    = "BucketAlreadyOwnedByYou"
	s3NoSuchBucket    = "NoSuchBucket"
	s3HeadNotFound    = "NotFound"
	s3AccessDenied    = "AccessDenied"
	s3ForceDestroyKey = "force_destroy"
	s3ObjectsNote     = "objects"
)

const (
	// s3CountLimit caps the object count Find reports, so a plan stays fast
	// on a huge bucket; beyond it the note reads "100000+".
	s3CountLimit = 100000
	// s3PageSize is the most keys one ListObjectVersions page and one
	// DeleteObjects call handle.
	s3PageSize = 1000
	// s3MaxPages bounds every other pagination loop.
	s3MaxPages = 10000
	// s3MaxDeleteRounds bounds emptying a bucket: a billion versions.
	s3MaxDeleteRounds = 1000000
	// s3ListConcurrency bounds concurrent per-bucket calls in List.
	s3ListConcurrency = 8
)

// Eventual-consistency waits specific to buckets.
var (
	// s3Visible: a bucket just created may answer HeadBucket with 404 (no
	// code but "NotFound") or its sub-APIs with NoSuchBucket for a while.
	s3Visible = awsapi.Consistency{Codes: []string{s3NoSuchBucket, s3HeadNotFound}, Timeout: awsapi.S3Create.Timeout}
	// s3PublicPolicyAfterUnblock: right after the public access block is
	// removed, S3 may still refuse a public policy with AccessDenied. Used
	// only in that case, since AccessDenied otherwise means what it says.
	s3PublicPolicyAfterUnblock = awsapi.Consistency{Codes: []string{s3AccessDenied}, Timeout: 30 * time.Second}
)

// Object ownership settings S3 accepts.
var s3Ownerships = []string{
	string(types.ObjectOwnershipBucketOwnerEnforced),
	string(types.ObjectOwnershipBucketOwnerPreferred),
	string(types.ObjectOwnershipObjectWriter),
}

var s3BucketSchema = &Schema{
	Type: "s3_bucket",
	Doc: "An S3 general purpose bucket with its versioning, default encryption, public access block, " +
		"object ownership, bucket policy, lifecycle rules and tags, all managed from one block.",
	Attrs: []Attr{
		{Name: "name", Kind: String, Required: true, Identity: true, ForceNew: true, Check: s3CheckName,
			Doc: "Globally unique bucket name: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."},
		{Name: "versioning", Kind: Bool,
			Doc: "true enables versioning; false suspends it if it was ever enabled (a bucket can never return to unversioned)."},
		{Name: "encryption", Kind: String, Check: s3CheckEncryption,
			Doc: `Default encryption: "aes256" (SSE-S3) or "kms:<key id, ARN or alias>" (SSE-KMS).`},
		{Name: "block_public_access", Kind: Bool, Default: true,
			Doc: "true turns on all four public access block settings; false removes the bucket's public access block configuration."},
		{Name: "object_ownership", Kind: String, Default: string(types.ObjectOwnershipBucketOwnerEnforced), Check: s3CheckOwnership,
			Doc: "Object ownership: BucketOwnerEnforced (ACLs disabled), BucketOwnerPreferred or ObjectWriter."},
		{Name: "policy", Kind: Policy,
			Doc: "Bucket policy document; leaving it out leaves any existing policy alone."},
		{Name: "lifecycle", Kind: ObjectList, Check: s3CheckLifecycle, Elem: []Attr{
			{Name: "id", Kind: String, Required: true, Check: s3CheckRuleID,
				Doc: "Rule id, unique within the bucket."},
			{Name: "prefix", Kind: String, Default: "",
				Doc: "Key prefix the rule applies to; empty means every object."},
			{Name: "expire_days", Kind: Int, Check: s3CheckDays,
				Doc: "Days after creation at which current object versions expire."},
			{Name: "noncurrent_expire_days", Kind: Int, Check: s3CheckDays,
				Doc: "Days after becoming noncurrent at which object versions are deleted."},
			{Name: "abort_incomplete_multipart_days", Kind: Int, Check: s3CheckDays,
				Doc: "Days after initiation at which incomplete multipart uploads are aborted."},
		}, Doc: "Lifecycle rules, all enabled; an empty list deletes the lifecycle configuration, leaving it out leaves it alone."},
		{Name: "force_destroy", Kind: Bool, Default: false, WriteOnly: true,
			Doc: "Allows deleting the bucket together with every object version and delete marker it holds; an envctl setting, not stored in AWS."},
		{Name: "tags", Kind: Tags,
			Doc: "Bucket tags; envctl adds its ownership tags."},
	},
	Exports:  []string{"arn", "name", "regional_domain_name"},
	Validate: s3Validate,
}

// s3BucketDriver manages one S3 general purpose bucket by its name, which is
// its identity: a different name forces a replacement. versioning,
// encryption, block_public_access, object_ownership, policy, lifecycle and
// tags update in place, each through its own sub-API, in the order Create
// uses (public access block and ownership before the policy). force_destroy
// is an envctl setting that only Delete reads. The driver never uses ACLs.
type s3BucketDriver struct{ c *awsapi.Clients }

func newS3Bucket(c *awsapi.Clients) Driver { return &s3BucketDriver{c: c} }

func (d *s3BucketDriver) Schema() *Schema { return s3BucketSchema }

// Find reads the bucket the target names and every sub-configuration, and
// counts the object versions and delete markers it holds (Notes["objects"]).
func (d *s3BucketDriver) Find(ctx context.Context, t Target) (*Live, error) {
	name, err := s3Name(t.Attrs)
	if err != nil {
		return nil, fmt.Errorf("find bucket: %w", err)
	}
	live, err := d.observe(ctx, name)
	if awsapi.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find bucket %q: %w", name, err)
	}
	return live, nil
}

// List returns every bucket in the client's region tagged envctl:env=env.
func (d *s3BucketDriver) List(ctx context.Context, env string) ([]*Live, error) {
	var names []string
	p := s3.NewListBucketsPaginator(d.c.S3, &s3.ListBucketsInput{BucketRegion: aws.String(d.c.Region)})
	for page := 0; p.HasMorePages(); page++ {
		if page >= s3MaxPages {
			return nil, fmt.Errorf("list buckets: more than %d pages", s3MaxPages)
		}
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list buckets: %w", err)
		}
		for _, b := range out.Buckets {
			names = append(names, aws.ToString(b.Name))
		}
	}
	found := make([]*Live, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s3ListConcurrency)
	for i, name := range names {
		g.Go(func() error {
			tags, err := d.readTags(gctx, name)
			if awsapi.IsNotFound(err) {
				return nil // deleted since it was listed
			}
			if err != nil {
				return fmt.Errorf("list buckets: read tags of %q: %w", name, err)
			}
			if tags[TagEnv] != env {
				return nil
			}
			live, err := d.observe(gctx, name)
			if awsapi.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("list buckets: read %q: %w", name, err)
			}
			found[i] = live
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []*Live
	for _, l := range found {
		if l != nil {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Handle < out[j].Handle })
	return out, nil
}

// Create creates the bucket (BucketAlreadyOwnedByYou, after a response that
// was lost, counts as success) and then configures it in the order that
// avoids S3's classic refusals: public access block, ownership controls,
// tags, versioning, encryption, lifecycle and the policy last. Every call
// after CreateBucket retries NoSuchBucket while the new bucket propagates.
func (d *s3BucketDriver) Create(ctx context.Context, t Target) (*Live, error) {
	name, err := s3Name(t.Attrs)
	if err != nil {
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	// Tags ride in the CreateBucket call, so on AWS a bucket is never
	// visible without its ownership tags, even if envctl dies right after.
	// Emulators that ignore them get them from PutBucketTagging, first
	// thing after the create.
	cfg := &types.CreateBucketConfiguration{}
	for _, k := range SortedKeys(TagMap(t.Attrs["tags"])) {
		cfg.Tags = append(cfg.Tags, types.Tag{Key: aws.String(k), Value: aws.String(TagMap(t.Attrs["tags"])[k])})
	}
	if d.c.Region != "us-east-1" {
		cfg.LocationConstraint = types.BucketLocationConstraint(d.c.Region)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(name), CreateBucketConfiguration: cfg}
	if o, ok := t.Attrs["object_ownership"].(string); ok && o != "" {
		in.ObjectOwnership = types.ObjectOwnership(o)
	}
	if _, err := d.c.S3.CreateBucket(ctx, in); err != nil && !awsapi.IsCode(err, s3AlreadyOwned) {
		return nil, fmt.Errorf("create bucket %q: %w", name, err)
	}
	// The bucket may come from an earlier attempt whose response was lost
	// (us-east-1 even answers 200 to a repeated CreateBucket): read its
	// tags, so that PutBucketTagging keeps those envctl does not manage.
	var liveTags map[string]string
	err = awsapi.S3Create.Retry(ctx, func(ctx context.Context) error {
		var err error
		liveTags, err = d.readTags(ctx, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create bucket %q: read tags: %w", name, err)
	}
	all := []string{"tags", "block_public_access", "object_ownership", "versioning", "encryption", "lifecycle", "policy"}
	if err := d.apply(ctx, name, t.Attrs, liveTags, all, awsapi.S3Create, true); err != nil {
		return nil, fmt.Errorf("create bucket %q: %w", name, err)
	}
	var live *Live
	err = s3Visible.Retry(ctx, func(ctx context.Context) error {
		var err error
		live, err = d.observe(ctx, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create bucket %q: read back: %w", name, err)
	}
	return live, nil
}

// Update brings the changed attributes to their desired values, in the same
// order as Create. A policy left out of the file is not managed, so it is
// never deleted; an empty lifecycle list deletes the lifecycle configuration.
func (d *s3BucketDriver) Update(ctx context.Context, live *Live, t Target, changed []string) (*Live, error) {
	name := live.Handle
	for _, a := range changed {
		switch a {
		case "block_public_access", "object_ownership", "tags", "versioning", "encryption", "lifecycle", "policy", s3ForceDestroyKey:
		default:
			return nil, fmt.Errorf("update bucket %q: attribute %q cannot be updated in place", name, a)
		}
	}
	noRetry := awsapi.Consistency{}
	if err := d.apply(ctx, name, t.Attrs, live.Tags(), changed, noRetry, false); err != nil {
		return nil, fmt.Errorf("update bucket %q: %w", name, err)
	}
	out, err := d.observe(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("update bucket %q: read back: %w", name, err)
	}
	return out, nil
}

// Delete deletes the bucket. A bucket that holds object versions or delete
// markers is deleted only when live.Notes["force_destroy"] is "true": the
// plan engine copies the desired force_destroy there before calling Delete,
// because AWS does not store it and Live cannot carry it otherwise. Then
// every version and delete marker is deleted first. A bucket already gone
// is success.
func (d *s3BucketDriver) Delete(ctx context.Context, live *Live) error {
	name := live.Handle
	force := live.Notes[s3ForceDestroyKey] == "true"
	if !force {
		n, more, err := d.countObjects(ctx, name, s3CountLimit)
		if awsapi.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("delete bucket %q: count objects: %w", name, err)
		}
		if n > 0 {
			return fmt.Errorf("bucket %q is not empty (%s objects); set force_destroy: true to delete its contents", name, s3CountText(n, more))
		}
	} else if err := d.empty(ctx, name); err != nil {
		if awsapi.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("delete bucket %q: empty: %w", name, err)
	}
	if _, err := d.c.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
		if awsapi.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("delete bucket %q: %w", name, err)
	}
	return nil
}

// apply sets each of the named attributes that desired holds, in the fixed
// order that S3 needs: the public access block and ownership controls
// before the policy, so that neither refuses the other. retry wraps every
// call (Create retries NoSuchBucket on a bucket just made). creating says
// the bucket is new: false versioning and an empty lifecycle then need no
// call.
func (d *s3BucketDriver) apply(ctx context.Context, name string, desired Attrs, liveTags map[string]string, attrs []string, retry awsapi.Consistency, creating bool) error {
	want := map[string]bool{}
	for _, a := range attrs {
		if _, ok := desired[a]; ok {
			want[a] = true
		}
	}
	call := func(what string, fn func(context.Context) error) error {
		if err := retry.Retry(ctx, fn); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	b := aws.String(name)
	// Ownership tags first: a crash after this call leaves a bucket envctl
	// still recognises as its own.
	if want["tags"] {
		// PutBucketTagging replaces the whole set: start from the live tags
		// so that tags the file does not manage survive.
		set, remove := TagDelta(liveTags, TagMap(desired["tags"]))
		all := TagMap(liveTags)
		for k, v := range set {
			all[k] = v
		}
		for _, k := range remove {
			delete(all, k)
		}
		var err error
		if len(all) == 0 {
			err = call("delete tags", func(ctx context.Context) error {
				_, err := d.c.S3.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: b})
				return err
			})
		} else {
			tagSet := make([]types.Tag, 0, len(all))
			for _, k := range SortedKeys(all) {
				tagSet = append(tagSet, types.Tag{Key: aws.String(k), Value: aws.String(all[k])})
			}
			err = call("put tags", func(ctx context.Context) error {
				_, err := d.c.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: tagSet}})
				return err
			})
		}
		if err != nil {
			return err
		}
	}
	unblocked := false
	if want["block_public_access"] {
		if s3Bool(desired["block_public_access"]) {
			err := call("put public access block", func(ctx context.Context) error {
				_, err := d.c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b,
					PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
						BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
						BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
					}})
				return err
			})
			if err != nil {
				return err
			}
		} else {
			err := call("delete public access block", func(ctx context.Context) error {
				_, err := d.c.S3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: b})
				return err
			})
			if err != nil {
				return err
			}
			unblocked = true
		}
	}
	if want["object_ownership"] {
		o, _ := desired["object_ownership"].(string)
		err := call("put ownership controls", func(ctx context.Context) error {
			_, err := d.c.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b,
				OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnership(o)}}}})
			return err
		})
		if err != nil {
			return err
		}
	}
	if want["versioning"] {
		var status types.BucketVersioningStatus
		if s3Bool(desired["versioning"]) {
			status = types.BucketVersioningStatusEnabled
		} else if !creating {
			// A bucket that was never versioned stays unversioned: there
			// is nothing to suspend.
			err := call("get versioning", func(ctx context.Context) error {
				out, err := d.c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
				if err == nil && out.Status == types.BucketVersioningStatusEnabled {
					status = types.BucketVersioningStatusSuspended
				}
				return err
			})
			if err != nil {
				return err
			}
		}
		if status != "" {
			err := call("put versioning", func(ctx context.Context) error {
				_, err := d.c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
					VersioningConfiguration: &types.VersioningConfiguration{Status: status}})
				return err
			})
			if err != nil {
				return err
			}
		}
	}
	if want["encryption"] {
		enc, _ := desired["encryption"].(string)
		def, err := s3EncryptionDefault(enc)
		if err != nil {
			return err
		}
		err = call("put encryption", func(ctx context.Context) error {
			_, err := d.c.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b,
				ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
					Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: def}}}})
			return err
		})
		if err != nil {
			return err
		}
	}
	if want["lifecycle"] {
		rules := s3LifecycleRules(desired["lifecycle"])
		var err error
		switch {
		case len(rules) > 0:
			err = call("put lifecycle", func(ctx context.Context) error {
				_, err := d.c.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
					LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: rules}})
				return err
			})
		case !creating:
			err = call("delete lifecycle", func(ctx context.Context) error {
				_, err := d.c.S3.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: b})
				return err
			})
		}
		if err != nil {
			return err
		}
	}
	if doc, ok := desired["policy"].(map[string]any); want["policy"] && ok && doc != nil {
		text, err := policy.Marshal(doc)
		if err != nil {
			return fmt.Errorf("encode policy: %w", err)
		}
		pr := retry
		if unblocked && s3PublicStatement(doc) >= 0 {
			pr.Codes = append(append([]string{}, retry.Codes...), s3PublicPolicyAfterUnblock.Codes...)
			pr.Timeout = max(retry.Timeout, s3PublicPolicyAfterUnblock.Timeout)
		}
		err = pr.Retry(ctx, func(ctx context.Context) error {
			_, err := d.c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(text)})
			return err
		})
		if err != nil {
			return fmt.Errorf("put policy: %w", err)
		}
	}
	return nil
}

// observe reads the bucket and all of its sub-configurations concurrently.
// It returns the raw error when the bucket does not exist, so callers can
// test it with awsapi.IsNotFound.
func (d *s3BucketDriver) observe(ctx context.Context, name string) (*Live, error) {
	head, err := d.c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	switch {
	case awsapi.IsNotFound(err):
		return nil, err
	case awsapi.HTTPStatus(err) == http.StatusForbidden:
		return nil, fmt.Errorf("head bucket: access denied; the name may belong to another account (bucket names are global): %w", err)
	case err != nil:
		return nil, fmt.Errorf("head bucket: %w", err)
	}
	region := aws.ToString(head.BucketRegion)
	if region == "" {
		region = d.c.Region
	}
	b := aws.String(name)
	attrs := Attrs{"name": name}
	var (
		tags        map[string]string
		versioning  bool
		encryption  string
		blockPublic bool
		ownership   string
		doc         map[string]any
		lifecycle   []map[string]any
		objects     int
		moreObjects bool
	)
	// Each goroutine writes only its own variables; Wait orders the reads.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		tags, err = d.readTags(gctx, name)
		return s3Wrap("get tags", err)
	})
	g.Go(func() error {
		out, err := d.c.S3.GetBucketVersioning(gctx, &s3.GetBucketVersioningInput{Bucket: b})
		if err != nil {
			return s3Wrap("get versioning", err)
		}
		versioning = out.Status == types.BucketVersioningStatusEnabled
		return nil
	})
	g.Go(func() error {
		out, err := d.c.S3.GetBucketEncryption(gctx, &s3.GetBucketEncryptionInput{Bucket: b})
		if awsapi.IsCode(err, s3NoEncryption) {
			return nil
		}
		if err != nil {
			return s3Wrap("get encryption", err)
		}
		encryption = s3EncryptionValue(out.ServerSideEncryptionConfiguration)
		return nil
	})
	g.Go(func() error {
		out, err := d.c.S3.GetPublicAccessBlock(gctx, &s3.GetPublicAccessBlockInput{Bucket: b})
		if awsapi.IsCode(err, s3NoPublicBlock) {
			return nil
		}
		if err != nil {
			return s3Wrap("get public access block", err)
		}
		c := out.PublicAccessBlockConfiguration
		blockPublic = c != nil && aws.ToBool(c.BlockPublicAcls) && aws.ToBool(c.IgnorePublicAcls) &&
			aws.ToBool(c.BlockPublicPolicy) && aws.ToBool(c.RestrictPublicBuckets)
		return nil
	})
	g.Go(func() error {
		out, err := d.c.S3.GetBucketOwnershipControls(gctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
		if awsapi.IsCode(err, s3NoOwnership) {
			// Without ownership controls S3 behaves as ObjectWriter.
			ownership = string(types.ObjectOwnershipObjectWriter)
			return nil
		}
		if err != nil {
			return s3Wrap("get ownership controls", err)
		}
		ownership = string(types.ObjectOwnershipObjectWriter)
		if out.OwnershipControls != nil && len(out.OwnershipControls.Rules) > 0 {
			ownership = string(out.OwnershipControls.Rules[0].ObjectOwnership)
		}
		return nil
	})
	g.Go(func() error {
		out, err := d.c.S3.GetBucketPolicy(gctx, &s3.GetBucketPolicyInput{Bucket: b})
		if awsapi.IsCode(err, s3NoPolicy) {
			return nil
		}
		if err != nil {
			return s3Wrap("get policy", err)
		}
		if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
			return fmt.Errorf("get policy: not a JSON object: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		out, err := d.c.S3.GetBucketLifecycleConfiguration(gctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
		if awsapi.IsCode(err, s3NoLifecycle) {
			lifecycle = []map[string]any{}
			return nil
		}
		if err != nil {
			return s3Wrap("get lifecycle", err)
		}
		lifecycle = s3LifecycleValue(out.Rules)
		return nil
	})
	g.Go(func() error {
		var err error
		objects, moreObjects, err = d.countObjects(gctx, name, s3CountLimit)
		return s3Wrap("count objects", err)
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	attrs["tags"] = tags
	attrs["versioning"] = versioning
	attrs["encryption"] = encryption
	attrs["block_public_access"] = blockPublic
	attrs["object_ownership"] = ownership
	if doc != nil {
		attrs["policy"] = doc
	}
	attrs["lifecycle"] = lifecycle
	return &Live{
		Handle: name,
		Attrs:  attrs,
		Exports: map[string]string{
			"arn":                  "arn:aws:s3:::" + name,
			"name":                 name,
			"regional_domain_name": name + ".s3." + region + ".amazonaws.com",
		},
		Notes: map[string]string{s3ObjectsNote: s3CountText(objects, moreObjects)},
	}, nil
}

// s3Wrap adds context to err, or returns nil. The wrapped error still
// answers awsapi.IsNotFound, so a bucket deleted while it was being read
// reads as absent.
func s3Wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// readTags returns the bucket's tags; a bucket without tags has none.
func (d *s3BucketDriver) readTags(ctx context.Context, name string) (map[string]string, error) {
	out, err := d.c.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
	if awsapi.IsCode(err, s3NoTagSet) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	tags := make(map[string]string, len(out.TagSet))
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

// countObjects counts object versions plus delete markers, stopping at
// limit; more says the bucket holds more than limit.
func (d *s3BucketDriver) countObjects(ctx context.Context, name string, limit int) (n int, more bool, err error) {
	p := s3.NewListObjectVersionsPaginator(d.c.S3, &s3.ListObjectVersionsInput{Bucket: aws.String(name), MaxKeys: aws.Int32(s3PageSize)})
	for page := 0; p.HasMorePages(); page++ {
		if n >= limit || page >= s3MaxPages {
			return n, true, nil
		}
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, false, err
		}
		n += len(out.Versions) + len(out.DeleteMarkers)
	}
	if n > limit {
		return limit, true, nil
	}
	return n, false, nil
}

// empty deletes every object version and delete marker in the bucket. Each
// round lists from the start, since what was deleted no longer appears.
func (d *s3BucketDriver) empty(ctx context.Context, name string) error {
	b := aws.String(name)
	for round := 0; round < s3MaxDeleteRounds; round++ {
		out, err := d.c.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b, MaxKeys: aws.Int32(s3PageSize)})
		if err != nil {
			return err
		}
		ids := make([]types.ObjectIdentifier, 0, len(out.Versions)+len(out.DeleteMarkers))
		for _, v := range out.Versions {
			ids = append(ids, types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) == 0 {
			return nil
		}
		for start := 0; start < len(ids); start += s3PageSize {
			batch := ids[start:min(start+s3PageSize, len(ids))]
			res, err := d.c.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b,
				Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)}})
			if err != nil {
				return fmt.Errorf("delete %d objects: %w", len(batch), err)
			}
			if len(res.Errors) > 0 {
				e := res.Errors[0]
				return fmt.Errorf("delete objects: %d failed, first %q version %q: %s: %s", len(res.Errors),
					aws.ToString(e.Key), aws.ToString(e.VersionId), aws.ToString(e.Code), aws.ToString(e.Message))
			}
		}
	}
	return fmt.Errorf("still not empty after %d rounds of deletes", s3MaxDeleteRounds)
}

// s3CountText formats an object count for Notes and messages.
func s3CountText(n int, more bool) string {
	if more {
		return strconv.Itoa(n) + "+"
	}
	return strconv.Itoa(n)
}

func s3Name(attrs Attrs) (string, error) {
	name, _ := attrs["name"].(string)
	if name == "" {
		return "", errors.New("no bucket name")
	}
	return name, nil
}

func s3Bool(v any) bool {
	b, _ := v.(bool)
	return b
}

// s3EncryptionDefault turns an encryption attribute into S3's default rule.
func s3EncryptionDefault(enc string) (*types.ServerSideEncryptionByDefault, error) {
	if err := s3CheckEncryption(enc); err != nil {
		return nil, err
	}
	if enc == "aes256" {
		return &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}, nil
	}
	return &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms,
		KMSMasterKeyID: aws.String(strings.TrimPrefix(enc, "kms:"))}, nil
}

// s3EncryptionValue reads S3's default encryption as the attribute value.
// SSE-KMS without a key id uses the AWS managed key, alias/aws/s3.
func s3EncryptionValue(c *types.ServerSideEncryptionConfiguration) string {
	if c == nil || len(c.Rules) == 0 || c.Rules[0].ApplyServerSideEncryptionByDefault == nil {
		return ""
	}
	def := c.Rules[0].ApplyServerSideEncryptionByDefault
	key := aws.ToString(def.KMSMasterKeyID)
	if key == "" {
		key = "alias/aws/s3"
	}
	switch def.SSEAlgorithm {
	case types.ServerSideEncryptionAes256:
		return "aes256"
	case types.ServerSideEncryptionAwsKms:
		return "kms:" + key
	}
	// DSSE-KMS and anything newer: shown as is, never equal to a valid
	// desired value, so a plan offers to set the desired one.
	return strings.ToLower(string(def.SSEAlgorithm)) + ":" + key
}

// s3LifecycleRules builds S3 rules, all enabled, from the desired list.
func s3LifecycleRules(v any) []types.LifecycleRule {
	var rules []types.LifecycleRule
	for _, r := range objectList(v) {
		id, _ := r["id"].(string)
		prefix, _ := r["prefix"].(string)
		rule := types.LifecycleRule{
			ID:     aws.String(id),
			Status: types.ExpirationStatusEnabled,
			Filter: &types.LifecycleRuleFilter{Prefix: aws.String(prefix)},
		}
		if n, ok := intValue(r["expire_days"]); ok {
			rule.Expiration = &types.LifecycleExpiration{Days: aws.Int32(int32(n))}
		}
		if n, ok := intValue(r["noncurrent_expire_days"]); ok {
			rule.NoncurrentVersionExpiration = &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(int32(n))}
		}
		if n, ok := intValue(r["abort_incomplete_multipart_days"]); ok {
			rule.AbortIncompleteMultipartUpload = &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(int32(n))}
		}
		rules = append(rules, rule)
	}
	return rules
}

// s3LifecycleValue reads S3 rules in the shape of the desired list: id and
// prefix always, each day count only when set. A rule using features envctl
// does not manage (disabled, transitions, tag or size filters, a date)
// carries an extra "unsupported" key naming them, so it never compares
// equal to a desired rule and a plan shows that applying rewrites it.
func s3LifecycleValue(rules []types.LifecycleRule) []map[string]any {
	out := make([]map[string]any, 0, len(rules))
	for _, r := range rules {
		m := map[string]any{"id": aws.ToString(r.ID)}
		var other []string
		// Rules written by older tools carry the deprecated top-level Prefix.
		prefix := aws.ToString(r.Prefix) //lint:ignore SA1019 still returned for rules written the old way
		if f := r.Filter; f != nil {
			switch {
			case f.Prefix != nil:
				prefix = aws.ToString(f.Prefix)
			case f.And != nil:
				prefix = aws.ToString(f.And.Prefix)
			}
			if f.Tag != nil || (f.And != nil && len(f.And.Tags) > 0) {
				other = append(other, "tag filter")
			}
			if f.ObjectSizeGreaterThan != nil || f.ObjectSizeLessThan != nil ||
				(f.And != nil && (f.And.ObjectSizeGreaterThan != nil || f.And.ObjectSizeLessThan != nil)) {
				other = append(other, "size filter")
			}
		}
		m["prefix"] = prefix
		if r.Status != types.ExpirationStatusEnabled {
			other = append(other, "status "+string(r.Status))
		}
		if e := r.Expiration; e != nil {
			if e.Days != nil && *e.Days > 0 {
				m["expire_days"] = int64(*e.Days)
			}
			if e.Date != nil {
				other = append(other, "expiration date")
			}
			if aws.ToBool(e.ExpiredObjectDeleteMarker) {
				other = append(other, "expired object delete marker")
			}
		}
		if e := r.NoncurrentVersionExpiration; e != nil {
			if e.NoncurrentDays != nil && *e.NoncurrentDays > 0 {
				m["noncurrent_expire_days"] = int64(*e.NoncurrentDays)
			}
			if e.NewerNoncurrentVersions != nil && *e.NewerNoncurrentVersions > 0 {
				other = append(other, "newer noncurrent versions")
			}
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil && a.DaysAfterInitiation != nil && *a.DaysAfterInitiation > 0 {
			m["abort_incomplete_multipart_days"] = int64(*a.DaysAfterInitiation)
		}
		if len(r.Transitions) > 0 || len(r.NoncurrentVersionTransitions) > 0 {
			other = append(other, "transitions")
		}
		if len(other) > 0 {
			m["unsupported"] = strings.Join(other, ", ")
		}
		out = append(out, m)
	}
	return out
}

var s3NameChars = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)

// s3CheckName applies S3's naming rules for general purpose buckets.
func s3CheckName(v any) error {
	name, _ := v.(string)
	const want = "expected 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
	switch {
	case len(name) < 3 || len(name) > 63:
		return fmt.Errorf("bucket name %q is %d characters long; %s", name, len(name), want)
	case !s3NameChars.MatchString(name):
		return fmt.Errorf("bucket name %q: %s", name, want)
	case strings.Contains(name, ".."):
		return fmt.Errorf("bucket name %q must not contain two adjacent dots", name)
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return fmt.Errorf("bucket name %q must not be formatted as an IP address", name)
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return fmt.Errorf("bucket name %q must not start with %q (reserved by S3)", name, p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return fmt.Errorf("bucket name %q must not end with %q (reserved by S3)", name, s)
		}
	}
	return nil
}

func s3CheckEncryption(v any) error {
	s, _ := v.(string)
	if s == "aes256" || (strings.HasPrefix(s, "kms:") && len(s) > len("kms:")) {
		return nil
	}
	return fmt.Errorf(`expected "aes256" or "kms:<key id, ARN or alias>", got %q`, s)
}

func s3CheckOwnership(v any) error {
	s, _ := v.(string)
	for _, o := range s3Ownerships {
		if s == o {
			return nil
		}
	}
	return fmt.Errorf("expected one of %s, got %q", strings.Join(s3Ownerships, ", "), s)
}

func s3CheckRuleID(v any) error {
	s, _ := v.(string)
	if s == "" || len(s) > 255 {
		return fmt.Errorf("expected a rule id of 1-255 characters, got %q", s)
	}
	return nil
}

func s3CheckDays(v any) error {
	n, ok := intValue(v)
	if !ok || n < 1 || n > 1<<31-1 {
		return fmt.Errorf("expected a whole number of days of at least 1, got %v", v)
	}
	return nil
}

// s3CheckLifecycle checks the rules together: unique ids and at least one
// action per rule (S3 refuses a rule that does nothing).
func s3CheckLifecycle(v any) error {
	rules := objectList(v)
	if len(rules) > 1000 {
		return fmt.Errorf("expected at most 1000 lifecycle rules, got %d", len(rules))
	}
	seen := map[string]bool{}
	var errs []error
	for i, r := range rules {
		id, _ := r["id"].(string)
		if seen[id] {
			errs = append(errs, fmt.Errorf("[%d]: rule id %q is used twice; ids must be unique", i, id))
		}
		seen[id] = true
		_, e1 := r["expire_days"]
		_, e2 := r["noncurrent_expire_days"]
		_, e3 := r["abort_incomplete_multipart_days"]
		if !e1 && !e2 && !e3 {
			errs = append(errs, fmt.Errorf("[%d] (%s): expected at least one of expire_days, noncurrent_expire_days, abort_incomplete_multipart_days", i, id))
		}
	}
	return errors.Join(errs...)
}

// s3Validate refuses a policy that the bucket's own public access block
// would make S3 reject: BlockPublicPolicy refuses any policy that grants
// access to everyone.
func s3Validate(attrs Attrs) error {
	doc, ok := attrs["policy"].(map[string]any)
	if !ok {
		return nil
	}
	if bpa, ok := attrs["block_public_access"].(bool); ok && !bpa {
		return nil // absent means the default, true
	}
	if i := s3PublicStatement(doc); i >= 0 {
		return fmt.Errorf("policy: Statement[%d] grants public access (Effect Allow, Principal \"*\", no Condition), "+
			"which the bucket's own public access block refuses; set block_public_access: false or add a Condition", i)
	}
	return nil
}

// s3PublicStatement returns the index of the first statement that allows
// everyone (Principal "*" or {"AWS": "*"}) without a Condition, or -1.
func s3PublicStatement(doc map[string]any) int {
	var stmts []any
	switch st := doc["Statement"].(type) {
	case map[string]any:
		stmts = []any{st}
	case []any:
		stmts = st
	case []map[string]any:
		for _, s := range st {
			stmts = append(stmts, s)
		}
	}
	for i, s := range stmts {
		st, ok := s.(map[string]any)
		if !ok || st["Effect"] != "Allow" {
			continue
		}
		if c, ok := st["Condition"]; ok && c != nil {
			if m, ok := c.(map[string]any); !ok || len(m) > 0 {
				continue
			}
		}
		if s3Everyone(st["Principal"]) {
			return i
		}
	}
	return -1
}

func s3Everyone(p any) bool {
	switch x := p.(type) {
	case string:
		return x == "*"
	case map[string]any:
		return s3HasStar(x["AWS"])
	}
	return false
}

func s3HasStar(v any) bool {
	switch x := v.(type) {
	case string:
		return x == "*"
	case []any:
		for _, e := range x {
			if e == "*" {
				return true
			}
		}
	case []string:
		for _, e := range x {
			if e == "*" {
				return true
			}
		}
	}
	return false
}
