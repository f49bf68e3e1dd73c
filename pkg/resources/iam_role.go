package resources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/litentry/envctl/pkg/awsapi"
)

// iamConcurrency bounds the concurrent IAM reads of one Find or List; IAM
// throttles early, so a handful in flight is plenty.
const iamConcurrency = 8

// iamRoleNameRE is IAM's rule for role names.
var iamRoleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// iamPolicyNameRE is IAM's rule for inline policy names.
var iamPolicyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

// iamPathRE is IAM's rule for paths: a slash, optionally printable ASCII
// ending in a slash.
var iamPathRE = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)

// iamPolicyARNRE matches a managed policy ARN in any partition.
var iamPolicyARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\x21-\x7e]+$`)

// iamDeleteConflict: detaching a policy or removing a role from an instance
// profile takes a moment to be seen by DeleteRole.
var iamDeleteConflict = awsapi.Consistency{Codes: []string{"DeleteConflict"}, Timeout: 30 * time.Second}

var iamRoleSchema = &Schema{
	Type: "iam_role",
	Doc:  "An IAM role with its trust policy, its inline policies (all owned by envctl) and its attached managed policies.",
	Attrs: []Attr{
		{Name: "name", Kind: String, Required: true, Identity: true, ForceNew: true, Check: checkIAMRoleName,
			Doc: "Role name, unique in the account: 1-64 letters, digits or +=,.@_-."},
		{Name: "path", Kind: String, Default: "/", ForceNew: true, Check: checkIAMPath,
			Doc: "Role path: starts and ends with a slash."},
		{Name: "description", Kind: String, Check: checkIAMRoleDescription,
			Doc: "Free-text description of the role, up to 1000 characters."},
		{Name: "trust_policy", Kind: Policy, Required: true,
			Doc: "Trust (assume role) policy saying which principals may assume the role."},
		{Name: "inline_policies", Kind: PolicyMap, Default: map[string]map[string]any{}, Check: checkIAMInlinePolicyNames,
			Doc: "Inline policies by name; the role owns all of them, so an inline policy not listed here is deleted."},
		{Name: "managed_policy_arns", Kind: StringList, Check: checkIAMPolicyARNs,
			Doc: "ARNs of the managed policies attached to the role; when set, exactly these are attached."},
		{Name: "max_session_duration", Kind: Int, Check: checkIAMMaxSession,
			Doc: "Longest session, in seconds, that assuming the role may give: 3600 to 43200."},
		{Name: "permissions_boundary", Kind: String, Check: checkIAMBoundary,
			Doc: "ARN of the managed policy used as permissions boundary; an empty string means none."},
		{Name: "tags", Kind: Tags, Doc: "Tags on the role."},
	},
	Exports: []string{"arn", "name", "unique_id"},
}

// iamRoleDriver manages IAM roles. The role name and path force a
// replacement; everything else (trust policy, inline and managed policies,
// description, max session duration, permissions boundary, tags) updates in
// place. The live handle is the role name.
type iamRoleDriver struct{ c *awsapi.Clients }

func newIAMRole(c *awsapi.Clients) Driver { return &iamRoleDriver{c: c} }

func (d *iamRoleDriver) Schema() *Schema { return iamRoleSchema }

// Find reads the role named by t.Attrs["name"].
func (d *iamRoleDriver) Find(ctx context.Context, t Target) (*Live, error) {
	name, err := iamStr(t.Attrs, "name")
	if err != nil {
		return nil, fmt.Errorf("role: find: %w", err)
	}
	return d.read(ctx, name)
}

// List returns every role tagged envctl:env=env. IAM's ListRoles carries no
// tags, so each role's tags are read separately.
func (d *iamRoleDriver) List(ctx context.Context, env string) ([]*Live, error) {
	var names []string
	p := iam.NewListRolesPaginator(d.c.IAM, &iam.ListRolesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list roles: %w", err)
		}
		for _, r := range page.Roles {
			names = append(names, aws.ToString(r.RoleName))
		}
	}
	found := make([]*Live, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(iamConcurrency)
	for i, name := range names {
		g.Go(func() error {
			tags, err := d.roleTags(gctx, name)
			if awsapi.IsNotFound(err) {
				return nil // deleted since the listing
			}
			if err != nil {
				return err
			}
			if tags[TagEnv] != env {
				return nil
			}
			live, err := d.read(gctx, name)
			found[i] = live
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]*Live, 0, len(found))
	for _, l := range found {
		if l != nil {
			out = append(out, l)
		}
	}
	return out, nil
}

func (d *iamRoleDriver) roleTags(ctx context.Context, name string) (map[string]string, error) {
	tags := map[string]string{}
	p := iam.NewListRoleTagsPaginator(d.c.IAM, &iam.ListRoleTagsInput{RoleName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("role %q: list tags: %w", name, err)
		}
		for _, t := range page.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}

// read returns the live role, or nil when it does not exist. The role, its
// inline policies and its attached policies are read concurrently.
func (d *iamRoleDriver) read(ctx context.Context, name string) (*Live, error) {
	var (
		role    *iamtypes.Role
		inline  map[string]map[string]any
		managed []string
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		out, err := d.c.IAM.GetRole(gctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("role %q: get: %w", name, err)
		}
		role = out.Role
		return nil
	})
	g.Go(func() error {
		var err error
		inline, err = d.inlinePolicies(gctx, name)
		return err
	})
	g.Go(func() error {
		managed = []string{}
		p := iam.NewListAttachedRolePoliciesPaginator(d.c.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
		for p.HasMorePages() {
			page, err := p.NextPage(gctx)
			if err != nil {
				return fmt.Errorf("role %q: list attached policies: %w", name, err)
			}
			for _, ap := range page.AttachedPolicies {
				managed = append(managed, aws.ToString(ap.PolicyArn))
			}
		}
		sort.Strings(managed)
		return nil
	})
	if err := g.Wait(); err != nil {
		if awsapi.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	if role == nil {
		return nil, fmt.Errorf("role %q: get: empty response", name)
	}
	trust, err := iamDecodePolicy(aws.ToString(role.AssumeRolePolicyDocument))
	if err != nil {
		return nil, fmt.Errorf("role %q: trust policy: %w", name, err)
	}
	tags := map[string]string{}
	for _, t := range role.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	boundary := ""
	if role.PermissionsBoundary != nil {
		boundary = aws.ToString(role.PermissionsBoundary.PermissionsBoundaryArn)
	}
	maxSession := int64(3600)
	if role.MaxSessionDuration != nil {
		maxSession = int64(*role.MaxSessionDuration)
	}
	return &Live{
		Handle: name,
		Attrs: Attrs{
			"name":                 aws.ToString(role.RoleName),
			"path":                 aws.ToString(role.Path),
			"description":          aws.ToString(role.Description),
			"trust_policy":         trust,
			"inline_policies":      inline,
			"managed_policy_arns":  managed,
			"max_session_duration": maxSession,
			"permissions_boundary": boundary,
			"tags":                 tags,
		},
		Exports: map[string]string{
			"arn":       aws.ToString(role.Arn),
			"name":      aws.ToString(role.RoleName),
			"unique_id": aws.ToString(role.RoleId),
		},
	}, nil
}

// inlinePolicies reads every inline policy of the role, decoded.
func (d *iamRoleDriver) inlinePolicies(ctx context.Context, name string) (map[string]map[string]any, error) {
	var names []string
	p := iam.NewListRolePoliciesPaginator(d.c.IAM, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("role %q: list inline policies: %w", name, err)
		}
		names = append(names, page.PolicyNames...)
	}
	var mu sync.Mutex
	out := make(map[string]map[string]any, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(iamConcurrency)
	for _, pn := range names {
		g.Go(func() error {
			res, err := d.c.IAM.GetRolePolicy(gctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
			if awsapi.IsNotFound(err) {
				// Deleted since the listing; if the role itself is gone,
				// GetRole says so.
				return nil
			}
			if err != nil {
				return fmt.Errorf("role %q: get inline policy %q: %w", name, pn, err)
			}
			doc, err := iamDecodePolicy(aws.ToString(res.PolicyDocument))
			if err != nil {
				return fmt.Errorf("role %q: inline policy %q: %w", name, pn, err)
			}
			mu.Lock()
			out[pn] = doc
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

// Create creates the role with its tags, then puts its inline policies and
// attaches its managed policies. When the role already exists (a retry after
// a lost response) and carries this target's ownership tags, Create carries
// on converging it; a role owned by someone else is an error.
func (d *iamRoleDriver) Create(ctx context.Context, t Target) (*Live, error) {
	name, err := iamStr(t.Attrs, "name")
	if err != nil {
		return nil, fmt.Errorf("role: create: %w", err)
	}
	trust, ok := t.Attrs["trust_policy"]
	if !ok {
		return nil, fmt.Errorf("role %q: create: trust_policy is not set", name)
	}
	trustDoc, err := iamEncodePolicy(trust)
	if err != nil {
		return nil, fmt.Errorf("role %q: create: trust policy: %w", name, err)
	}
	desiredTags := TagMap(t.Attrs["tags"])
	in := &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(trustDoc),
		Tags:                     iamTags(desiredTags),
	}
	if path, err := iamStr(t.Attrs, "path"); err == nil {
		in.Path = aws.String(path)
	}
	if desc, err := iamStr(t.Attrs, "description"); err == nil && desc != "" {
		in.Description = aws.String(desc)
	}
	if v, ok := t.Attrs["max_session_duration"]; ok {
		n, err := iamInt(v)
		if err != nil {
			return nil, fmt.Errorf("role %q: create: max_session_duration: %w", name, err)
		}
		in.MaxSessionDuration = aws.Int32(int32(n))
	}
	if b, err := iamStr(t.Attrs, "permissions_boundary"); err == nil && b != "" {
		in.PermissionsBoundary = aws.String(b)
	}
	// A principal created moments ago (an OIDC provider, another role) is
	// reported as an invalid principal until it has propagated.
	err = awsapi.IAMPropagation.Retry(ctx, func(ctx context.Context) error {
		_, err := d.c.IAM.CreateRole(ctx, in)
		return err
	})
	existed := awsapi.IsCode(err, "EntityAlreadyExists")
	if err != nil && !existed {
		return nil, fmt.Errorf("role %q: create: %w", name, err)
	}

	live, err := d.readVisible(ctx, name)
	if err != nil {
		return nil, err
	}
	if existed {
		if err := iamCheckOwner(fmt.Sprintf("role %q", name), live.Tags(), desiredTags); err != nil {
			return nil, err
		}
		// Same request as before, so every step below is safe to repeat.
		return d.Update(ctx, live, t, iamPresent(t.Attrs, "trust_policy", "description",
			"max_session_duration", "permissions_boundary", "inline_policies", "managed_policy_arns", "tags"))
	}
	return d.Update(ctx, live, t, iamPresent(t.Attrs, "inline_policies", "managed_policy_arns"))
}

// readVisible reads a role that was just created or changed, waiting for it
// to become visible.
func (d *iamRoleDriver) readVisible(ctx context.Context, name string) (*Live, error) {
	var live *Live
	err := awsapi.IAMPropagation.Retry(ctx, func(ctx context.Context) error {
		l, err := d.read(ctx, name)
		if err != nil {
			return err
		}
		if l == nil {
			return iamNotVisible(fmt.Sprintf("role %q", name))
		}
		live = l
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("role %q: read back: %w", name, err)
	}
	return live, nil
}

// Update changes the named attributes in place and returns the role as read
// afterwards.
func (d *iamRoleDriver) Update(ctx context.Context, live *Live, t Target, changed []string) (*Live, error) {
	if live == nil || live.Handle == "" {
		return nil, errors.New("role: update: no live role")
	}
	name := live.Handle
	roleUpdate := &iam.UpdateRoleInput{RoleName: aws.String(name)}
	needRoleUpdate := false
	for _, attr := range changed {
		desired, ok := t.Attrs[attr]
		if !ok {
			return nil, fmt.Errorf("role %q: update %s: no desired value", name, attr)
		}
		var err error
		switch attr {
		case "trust_policy":
			var doc string
			if doc, err = iamEncodePolicy(desired); err == nil {
				err = awsapi.IAMPropagation.Retry(ctx, func(ctx context.Context) error {
					_, err := d.c.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
						RoleName: aws.String(name), PolicyDocument: aws.String(doc)})
					return err
				})
			}
		case "inline_policies":
			err = d.syncInline(ctx, name, live.Attrs["inline_policies"], desired)
		case "managed_policy_arns":
			err = d.syncManaged(ctx, name, live.Attrs["managed_policy_arns"], desired)
		case "description":
			var s string
			if s, err = iamStr(t.Attrs, attr); err == nil {
				roleUpdate.Description = aws.String(s)
				needRoleUpdate = true
			}
		case "max_session_duration":
			var n int64
			if n, err = iamInt(desired); err == nil {
				roleUpdate.MaxSessionDuration = aws.Int32(int32(n))
				needRoleUpdate = true
			}
		case "permissions_boundary":
			var b string
			if b, err = iamStr(t.Attrs, attr); err == nil {
				err = d.setBoundary(ctx, name, b)
			}
		case "tags":
			err = d.syncTags(ctx, name, live.Tags(), TagMap(desired))
		case "name", "path":
			err = errors.New("cannot change in place; the role must be replaced")
		default:
			err = errors.New("unknown attribute")
		}
		if err != nil {
			return nil, fmt.Errorf("role %q: update %s: %w", name, attr, err)
		}
	}
	if needRoleUpdate {
		err := awsapi.IAMPropagation.Retry(ctx, func(ctx context.Context) error {
			_, err := d.c.IAM.UpdateRole(ctx, roleUpdate)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("role %q: update description/max_session_duration: %w", name, err)
		}
	}
	out, err := d.readVisible(ctx, name)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// syncInline puts every desired inline policy that differs from the live one
// and deletes every live inline policy that is not desired.
func (d *iamRoleDriver) syncInline(ctx context.Context, name string, liveV, desiredV any) error {
	live, _ := liveV.(map[string]map[string]any)
	desired, err := iamPolicyMap(desiredV)
	if err != nil {
		return err
	}
	for _, pn := range SortedKeys(desired) {
		doc, err := iamEncodePolicy(desired[pn])
		if err != nil {
			return fmt.Errorf("policy %q: %w", pn, err)
		}
		if cur, ok := live[pn]; ok {
			// Compare in the shape IAM gives back, so an unchanged policy
			// is not put again.
			want, err := iamDecodeJSON(doc)
			if err == nil && reflect.DeepEqual(cur, want) {
				continue
			}
		}
		err = awsapi.IAMPropagation.Retry(ctx, func(ctx context.Context) error {
			_, err := d.c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
				RoleName: aws.String(name), PolicyName: aws.String(pn), PolicyDocument: aws.String(doc)})
			return err
		})
		if err != nil {
			return fmt.Errorf("put policy %q: %w", pn, err)
		}
	}
	// Read the names afresh: an inline policy put out of band since the
	// plan is not the file's either.
	current, err := d.inlinePolicyNames(ctx, name)
	if err != nil {
		return err
	}
	for _, pn := range current {
		if _, ok := desired[pn]; ok {
			continue
		}
		_, err := d.c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
		if err != nil && !awsapi.IsNotFound(err) {
			return fmt.Errorf("delete policy %q: %w", pn, err)
		}
	}
	return nil
}

func (d *iamRoleDriver) inlinePolicyNames(ctx context.Context, name string) ([]string, error) {
	var names []string
	p := iam.NewListRolePoliciesPaginator(d.c.IAM, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list inline policies: %w", err)
		}
		names = append(names, page.PolicyNames...)
	}
	return names, nil
}

// syncManaged attaches the desired managed policies that are missing and
// detaches the attached ones that are not desired.
func (d *iamRoleDriver) syncManaged(ctx context.Context, name string, liveV, desiredV any) error {
	desired, err := stringList(desiredV)
	if err != nil {
		return err
	}
	live, _ := liveV.([]string)
	want := map[string]bool{}
	for _, a := range desired {
		want[a] = true
	}
	have := map[string]bool{}
	for _, a := range live {
		have[a] = true
	}
	for _, a := range SortedKeys(want) {
		if have[a] {
			continue
		}
		err := awsapi.IAMPropagation.Retry(ctx, func(ctx context.Context) error {
			_, err := d.c.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(a)})
			return err
		})
		if err != nil {
			return fmt.Errorf("attach %s: %w", a, err)
		}
	}
	for _, a := range SortedKeys(have) {
		if want[a] {
			continue
		}
		_, err := d.c.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(a)})
		if err != nil && !awsapi.IsNotFound(err) {
			return fmt.Errorf("detach %s: %w", a, err)
		}
	}
	return nil
}

func (d *iamRoleDriver) setBoundary(ctx context.Context, name, arn string) error {
	if arn == "" {
		_, err := d.c.IAM.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String(name)})
		if err != nil && !awsapi.IsNotFound(err) {
			return err
		}
		return nil
	}
	return awsapi.IAMPropagation.Retry(ctx, func(ctx context.Context) error {
		_, err := d.c.IAM.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{
			RoleName: aws.String(name), PermissionsBoundary: aws.String(arn)})
		return err
	})
}

func (d *iamRoleDriver) syncTags(ctx context.Context, name string, live, desired map[string]string) error {
	set, remove := TagDelta(live, desired)
	if len(set) > 0 {
		if _, err := d.c.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(name), Tags: iamTags(set)}); err != nil {
			return err
		}
	}
	if len(remove) > 0 {
		if _, err := d.c.IAM.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String(name), TagKeys: remove}); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes the role from its instance profiles, detaches its managed
// policies, deletes its inline policies and then the role.
func (d *iamRoleDriver) Delete(ctx context.Context, live *Live) error {
	if live == nil || live.Handle == "" {
		return errors.New("role: delete: no live role")
	}
	name := live.Handle
	err := d.delete(ctx, name)
	if err != nil && !awsapi.IsNotFound(err) {
		return fmt.Errorf("role %q: delete: %w", name, err)
	}
	return nil
}

func (d *iamRoleDriver) delete(ctx context.Context, name string) error {
	ip := iam.NewListInstanceProfilesForRolePaginator(d.c.IAM, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(name)})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list instance profiles: %w", err)
		}
		for _, p := range page.InstanceProfiles {
			_, err := d.c.IAM.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{
				RoleName: aws.String(name), InstanceProfileName: p.InstanceProfileName})
			if err != nil && !awsapi.IsNotFound(err) {
				return fmt.Errorf("remove from instance profile %q: %w", aws.ToString(p.InstanceProfileName), err)
			}
		}
	}
	var attached []string
	ap := iam.NewListAttachedRolePoliciesPaginator(d.c.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list attached policies: %w", err)
		}
		for _, p := range page.AttachedPolicies {
			attached = append(attached, aws.ToString(p.PolicyArn))
		}
	}
	if err := d.syncManaged(ctx, name, attached, []string{}); err != nil {
		return err
	}
	names, err := d.inlinePolicyNames(ctx, name)
	if err != nil {
		return err
	}
	for _, pn := range names {
		_, err := d.c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
		if err != nil && !awsapi.IsNotFound(err) {
			return fmt.Errorf("delete inline policy %q: %w", pn, err)
		}
	}
	return iamDeleteConflict.Retry(ctx, func(ctx context.Context) error {
		_, err := d.c.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
		return err
	})
}

// Checks.

func checkIAMRoleName(v any) error {
	s, ok := v.(string)
	if !ok || !iamRoleNameRE.MatchString(s) {
		return fmt.Errorf("expected 1-64 characters of letters, digits and +=,.@_-, got %v", iamShow(v))
	}
	return nil
}

func checkIAMPath(v any) error {
	s, ok := v.(string)
	if !ok || len(s) > 512 || !iamPathRE.MatchString(s) {
		return fmt.Errorf("expected a path that starts and ends with / (such as /ci/), got %v", iamShow(v))
	}
	return nil
}

func checkIAMRoleDescription(v any) error {
	s, ok := v.(string)
	if !ok || len([]rune(s)) > 1000 {
		return fmt.Errorf("expected a description of at most 1000 characters")
	}
	return nil
}

func checkIAMInlinePolicyNames(v any) error {
	m, err := iamPolicyMap(v)
	if err != nil {
		return err
	}
	for _, n := range SortedKeys(m) {
		if !iamPolicyNameRE.MatchString(n) {
			return fmt.Errorf("expected inline policy names of 1-128 letters, digits and +=,.@_-, got %q", n)
		}
	}
	return nil
}

func checkIAMPolicyARNs(v any) error {
	list, err := stringList(v)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, a := range list {
		if !iamPolicyARNRE.MatchString(a) {
			return fmt.Errorf("expected managed policy ARNs such as arn:aws:iam::aws:policy/ReadOnlyAccess, got %q", a)
		}
		if seen[a] {
			return fmt.Errorf("policy ARN %q is listed twice", a)
		}
		seen[a] = true
	}
	return nil
}

func checkIAMMaxSession(v any) error {
	n, err := iamInt(v)
	if err != nil || n < 3600 || n > 43200 {
		return fmt.Errorf("expected a number of seconds from 3600 (1 hour) to 43200 (12 hours), got %v", iamShow(v))
	}
	return nil
}

func checkIAMBoundary(v any) error {
	s, ok := v.(string)
	if !ok || (s != "" && !iamPolicyARNRE.MatchString(s)) {
		return fmt.Errorf("expected a managed policy ARN (or an empty string for none), got %v", iamShow(v))
	}
	return nil
}

// Helpers shared by the IAM drivers.

// iamNotVisible is the error for a resource not yet visible after its
// creation; its code makes awsapi.IAMPropagation retry.
func iamNotVisible(what string) error {
	return &smithy.GenericAPIError{Code: "NoSuchEntity", Message: what + " is not visible yet"}
}

// iamCheckOwner fails unless live carries the ownership tags desired names.
func iamCheckOwner(addr string, live, desired map[string]string) error {
	for _, k := range []string{TagEnv, TagID} {
		if want, ok := desired[k]; ok && live[k] != want {
			return fmt.Errorf("%s: create: already exists and is not owned by this env (tag %s=%q, want %q); adopt it or pick another name",
				addr, k, live[k], want)
		}
	}
	return nil
}

// iamPresent returns the names among names that attrs holds.
func iamPresent(attrs Attrs, names ...string) []string {
	var out []string
	for _, n := range names {
		if _, ok := attrs[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// iamDecodePolicy decodes a policy document as IAM returns it: URL-encoded
// (RFC 3986) JSON.
func iamDecodePolicy(s string) (map[string]any, error) {
	dec, err := url.QueryUnescape(s)
	if err != nil {
		return nil, fmt.Errorf("URL-decode policy document: %w", err)
	}
	return iamDecodeJSON(dec)
}

func iamDecodeJSON(s string) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decode policy document: %w", err)
	}
	return m, nil
}

// iamEncodePolicy renders a desired policy document as compact JSON.
func iamEncodePolicy(v any) (string, error) {
	if v == nil {
		return "", errors.New("policy document is empty")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode policy document: %w", err)
	}
	return string(b), nil
}

func iamPolicyMap(v any) (map[string]any, error) {
	switch m := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]map[string]any:
		out := make(map[string]any, len(m))
		for k, doc := range m {
			out[k] = doc
		}
		return out, nil
	case map[string]any:
		return m, nil
	}
	return nil, fmt.Errorf("expected a map of policy name to policy document, got %T", v)
}

func iamStr(attrs Attrs, name string) (string, error) {
	v, ok := attrs[name]
	if !ok {
		return "", fmt.Errorf("%s is not set", name)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: expected a string, got %T", name, v)
	}
	return s, nil
}

func iamInt(v any) (int64, error) {
	if n, ok := intValue(v); ok {
		return n, nil
	}
	return 0, fmt.Errorf("expected a whole number, got %v", iamShow(v))
}

func iamTags(m map[string]string) []iamtypes.Tag {
	out := make([]iamtypes.Tag, 0, len(m))
	for _, k := range SortedKeys(m) {
		out = append(out, iamtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func iamShow(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return strings.TrimSpace(fmt.Sprintf("%v (%T)", v, v))
}
