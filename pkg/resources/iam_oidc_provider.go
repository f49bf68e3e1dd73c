package resources

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"

	"github.com/litentry/envctl/pkg/awsapi"
)

// oidcThumbprintRE: a thumbprint is the hex SHA-1 of a certificate.
var oidcThumbprintRE = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)

var oidcProviderSchema = &Schema{
	Type: "iam_oidc_provider",
	Doc:  "An IAM OpenID Connect identity provider, such as GitHub Actions' token issuer.",
	Attrs: []Attr{
		{Name: "url", Kind: String, Required: true, Identity: true, ForceNew: true, Check: checkOIDCURL,
			Doc: "Issuer URL, exactly as the tokens' iss claim: https://host[/path], no port, query, fragment or trailing slash."},
		{Name: "client_ids", Kind: StringList, Check: checkOIDCClientIDs,
			Doc: "Audiences (aud claim values) the provider accepts, such as sts.amazonaws.com; order does not matter."},
		{Name: "thumbprints", Kind: StringList, Check: checkOIDCThumbprints,
			Doc: "Up to 5 hex SHA-1 certificate thumbprints; leave out to let IAM fetch and keep its own."},
		{Name: "tags", Kind: Tags, Doc: "Tags on the provider."},
	},
	Exports: []string{"arn"},
}

// oidcProviderDriver manages IAM OIDC providers. The url forces a
// replacement; client_ids, thumbprints and tags update in place. The live
// handle is the provider ARN, arn:<partition>:iam::<account>:oidc-provider/
// <url without https://>.
type oidcProviderDriver struct {
	c *awsapi.Clients

	mu        sync.Mutex
	arnPrefix string // "arn:aws:iam::123456789012:oidc-provider/", once known
}

func newOIDCProvider(c *awsapi.Clients) Driver { return &oidcProviderDriver{c: c} }

func (d *oidcProviderDriver) Schema() *Schema { return oidcProviderSchema }

// arnFor computes the ARN IAM gives the provider of rawURL. The account and
// partition come from STS once per driver.
func (d *oidcProviderDriver) arnFor(ctx context.Context, rawURL string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.arnPrefix == "" {
		out, err := d.c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", fmt.Errorf("sts get-caller-identity: %w", err)
		}
		// arn:<partition>:sts::<account>:...
		parts := strings.SplitN(aws.ToString(out.Arn), ":", 3)
		partition := "aws"
		if len(parts) == 3 && parts[1] != "" {
			partition = parts[1]
		}
		d.arnPrefix = fmt.Sprintf("arn:%s:iam::%s:oidc-provider/", partition, aws.ToString(out.Account))
	}
	return d.arnPrefix + strings.TrimPrefix(rawURL, "https://"), nil
}

// Find reads the provider whose URL is t.Attrs["url"].
func (d *oidcProviderDriver) Find(ctx context.Context, t Target) (*Live, error) {
	u, err := iamStr(t.Attrs, "url")
	if err != nil {
		return nil, fmt.Errorf("oidc provider: find: %w", err)
	}
	arn, err := d.arnFor(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("oidc provider %q: find: %w", u, err)
	}
	return d.read(ctx, arn)
}

// List returns every provider tagged envctl:env=env.
func (d *oidcProviderDriver) List(ctx context.Context, env string) ([]*Live, error) {
	out, err := d.c.IAM.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return nil, fmt.Errorf("list oidc providers: %w", err)
	}
	found := make([]*Live, len(out.OpenIDConnectProviderList))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(iamConcurrency)
	for i, p := range out.OpenIDConnectProviderList {
		arn := aws.ToString(p.Arn)
		g.Go(func() error {
			tags, err := d.tags(gctx, arn)
			if awsapi.IsNotFound(err) {
				return nil // deleted since the listing
			}
			if err != nil {
				return fmt.Errorf("oidc provider %s: list tags: %w", arn, err)
			}
			if tags[TagEnv] != env {
				return nil
			}
			live, err := d.read(gctx, arn)
			found[i] = live
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	lives := make([]*Live, 0, len(found))
	for _, l := range found {
		if l != nil {
			lives = append(lives, l)
		}
	}
	return lives, nil
}

func (d *oidcProviderDriver) tags(ctx context.Context, arn string) (map[string]string, error) {
	tags := map[string]string{}
	p := iam.NewListOpenIDConnectProviderTagsPaginator(d.c.IAM, &iam.ListOpenIDConnectProviderTagsInput{
		OpenIDConnectProviderArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}

// read returns the live provider with ARN arn, or nil when it does not
// exist.
func (d *oidcProviderDriver) read(ctx context.Context, arn string) (*Live, error) {
	var (
		out  *iam.GetOpenIDConnectProviderOutput
		tags map[string]string
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		out, err = d.c.IAM.GetOpenIDConnectProvider(gctx, &iam.GetOpenIDConnectProviderInput{
			OpenIDConnectProviderArn: aws.String(arn)})
		if err != nil {
			return fmt.Errorf("oidc provider %s: get: %w", arn, err)
		}
		return nil
	})
	g.Go(func() error {
		var err error
		tags, err = d.tags(gctx, arn)
		if err != nil {
			return fmt.Errorf("oidc provider %s: list tags: %w", arn, err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		if awsapi.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	// IAM keeps the URL without its scheme; the file has it with.
	u := aws.ToString(out.Url)
	if !strings.HasPrefix(u, "https://") {
		u = "https://" + u
	}
	// Neither list has a meaningful order: report both sorted.
	clientIDs := append([]string{}, out.ClientIDList...)
	sort.Strings(clientIDs)
	thumbprints := append([]string{}, out.ThumbprintList...)
	sort.Strings(thumbprints)
	return &Live{
		Handle: arn,
		Attrs: Attrs{
			"url":         u,
			"client_ids":  clientIDs,
			"thumbprints": thumbprints,
			"tags":        tags,
		},
		Exports: map[string]string{"arn": arn},
	}, nil
}

// Create creates the provider with its tags. When it already exists (a
// retry after a lost response) and carries this target's ownership tags,
// Create converges it instead; a provider owned by someone else (another
// env sharing the account) is an error.
func (d *oidcProviderDriver) Create(ctx context.Context, t Target) (*Live, error) {
	u, err := iamStr(t.Attrs, "url")
	if err != nil {
		return nil, fmt.Errorf("oidc provider: create: %w", err)
	}
	addr := fmt.Sprintf("oidc provider %q", u)
	in := &iam.CreateOpenIDConnectProviderInput{
		Url:          aws.String(u),
		ClientIDList: []string{},
		Tags:         iamTags(TagMap(t.Attrs["tags"])),
	}
	if v, ok := t.Attrs["client_ids"]; ok {
		if in.ClientIDList, err = stringList(v); err != nil {
			return nil, fmt.Errorf("%s: create: client_ids: %w", addr, err)
		}
	}
	// Without thumbprints IAM fetches one itself (and relies on its trusted
	// CAs for the well-known issuers).
	if v, ok := t.Attrs["thumbprints"]; ok {
		if in.ThumbprintList, err = stringList(v); err != nil {
			return nil, fmt.Errorf("%s: create: thumbprints: %w", addr, err)
		}
	}
	_, err = d.c.IAM.CreateOpenIDConnectProvider(ctx, in)
	existed := awsapi.IsCode(err, "EntityAlreadyExists")
	if err != nil && !existed {
		return nil, fmt.Errorf("%s: create: %w", addr, err)
	}
	arn, err := d.arnFor(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("%s: create: %w", addr, err)
	}
	live, err := d.readVisible(ctx, arn)
	if err != nil {
		return nil, fmt.Errorf("%s: read back after create: %w", addr, err)
	}
	if !existed {
		return live, nil
	}
	if err := iamCheckOwner(addr, live.Tags(), TagMap(t.Attrs["tags"])); err != nil {
		return nil, err
	}
	return d.Update(ctx, live, t, iamPresent(t.Attrs, "client_ids", "thumbprints", "tags"))
}

// readVisible reads a provider that was just created or changed, waiting
// for it to become visible.
func (d *oidcProviderDriver) readVisible(ctx context.Context, arn string) (*Live, error) {
	var live *Live
	err := awsapi.IAMPropagation.Retry(ctx, func(ctx context.Context) error {
		l, err := d.read(ctx, arn)
		if err != nil {
			return err
		}
		if l == nil {
			return iamNotVisible("oidc provider " + arn)
		}
		live = l
		return nil
	})
	return live, err
}

// Update changes the named attributes in place and returns the provider as
// read afterwards.
func (d *oidcProviderDriver) Update(ctx context.Context, live *Live, t Target, changed []string) (*Live, error) {
	if live == nil || live.Handle == "" {
		return nil, errors.New("oidc provider: update: no live provider")
	}
	arn := live.Handle
	for _, attr := range changed {
		desired, ok := t.Attrs[attr]
		if !ok {
			return nil, fmt.Errorf("oidc provider %s: update %s: no desired value", arn, attr)
		}
		var err error
		switch attr {
		case "client_ids":
			err = d.syncClientIDs(ctx, arn, live.Attrs["client_ids"], desired)
		case "thumbprints":
			var list []string
			if list, err = stringList(desired); err == nil {
				err = awsapi.IAMPropagation.Retry(ctx, func(ctx context.Context) error {
					_, err := d.c.IAM.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{
						OpenIDConnectProviderArn: aws.String(arn), ThumbprintList: list})
					return err
				})
			}
		case "tags":
			err = d.syncTags(ctx, arn, live.Tags(), TagMap(desired))
		case "url":
			err = errors.New("cannot change in place; the provider must be replaced")
		default:
			err = errors.New("unknown attribute")
		}
		if err != nil {
			return nil, fmt.Errorf("oidc provider %s: update %s: %w", arn, attr, err)
		}
	}
	out, err := d.readVisible(ctx, arn)
	if err != nil {
		return nil, fmt.Errorf("oidc provider %s: read back after update: %w", arn, err)
	}
	return out, nil
}

// syncClientIDs adds the desired client ids that are missing and removes the
// ones not desired.
func (d *oidcProviderDriver) syncClientIDs(ctx context.Context, arn string, liveV, desiredV any) error {
	desired, err := stringList(desiredV)
	if err != nil {
		return err
	}
	live, _ := liveV.([]string)
	want, have := map[string]bool{}, map[string]bool{}
	for _, c := range desired {
		want[c] = true
	}
	for _, c := range live {
		have[c] = true
	}
	for _, c := range SortedKeys(want) {
		if have[c] {
			continue
		}
		err := awsapi.IAMPropagation.Retry(ctx, func(ctx context.Context) error {
			_, err := d.c.IAM.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{
				OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(c)})
			return err
		})
		if err != nil {
			return fmt.Errorf("add client id %q: %w", c, err)
		}
	}
	for _, c := range SortedKeys(have) {
		if want[c] {
			continue
		}
		_, err := d.c.IAM.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{
			OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(c)})
		if err != nil {
			return fmt.Errorf("remove client id %q: %w", c, err)
		}
	}
	return nil
}

func (d *oidcProviderDriver) syncTags(ctx context.Context, arn string, live, desired map[string]string) error {
	set, remove := TagDelta(live, desired)
	if len(set) > 0 {
		_, err := d.c.IAM.TagOpenIDConnectProvider(ctx, &iam.TagOpenIDConnectProviderInput{
			OpenIDConnectProviderArn: aws.String(arn), Tags: iamTags(set)})
		if err != nil {
			return err
		}
	}
	if len(remove) > 0 {
		_, err := d.c.IAM.UntagOpenIDConnectProvider(ctx, &iam.UntagOpenIDConnectProviderInput{
			OpenIDConnectProviderArn: aws.String(arn), TagKeys: remove})
		if err != nil {
			return err
		}
	}
	return nil
}

// Delete deletes the provider.
func (d *oidcProviderDriver) Delete(ctx context.Context, live *Live) error {
	if live == nil || live.Handle == "" {
		return errors.New("oidc provider: delete: no live provider")
	}
	_, err := d.c.IAM.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: aws.String(live.Handle)})
	if err != nil && !awsapi.IsNotFound(err) {
		return fmt.Errorf("oidc provider %s: delete: %w", live.Handle, err)
	}
	return nil
}

// Checks.

func checkOIDCURL(v any) error {
	const want = "expected https://host[/path] with no port, query, fragment or trailing slash, exactly as the tokens' iss claim"
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%s, got %v", want, iamShow(v))
	}
	bad := func(why string) error { return fmt.Errorf("%s; %q %s", want, s, why) }
	if !strings.HasPrefix(s, "https://") {
		return bad("does not start with https://")
	}
	if len(s) > 255 {
		return bad("is longer than 255 characters")
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return bad("contains white space")
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("is not a URL")
	}
	switch {
	case u.Host == "" || u.Hostname() == "":
		return bad("has no host")
	case u.User != nil:
		return bad("has user info")
	case strings.Contains(u.Host, ":"):
		return bad("has a port")
	case u.RawQuery != "" || u.ForceQuery:
		return bad("has a query")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return bad("has a fragment")
	case strings.HasSuffix(s, "/"):
		return bad("ends with a slash")
	}
	return nil
}

func checkOIDCClientIDs(v any) error {
	list, err := stringList(v)
	if err != nil {
		return err
	}
	if len(list) > 100 {
		return fmt.Errorf("expected at most 100 client ids, got %d", len(list))
	}
	seen := map[string]bool{}
	for _, c := range list {
		if c == "" || len(c) > 255 {
			return fmt.Errorf("expected client ids of 1-255 characters, got %q", c)
		}
		if seen[c] {
			return fmt.Errorf("client id %q is listed twice", c)
		}
		seen[c] = true
	}
	return nil
}

func checkOIDCThumbprints(v any) error {
	list, err := stringList(v)
	if err != nil {
		return err
	}
	if len(list) > 5 {
		return fmt.Errorf("expected at most 5 thumbprints, got %d", len(list))
	}
	for _, tp := range list {
		if !oidcThumbprintRE.MatchString(tp) {
			return fmt.Errorf("expected thumbprints of 40 hex digits (a SHA-1), got %q", tp)
		}
	}
	return nil
}
