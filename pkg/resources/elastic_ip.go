package resources

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/litentry/envctl/pkg/awsapi"
)

const (
	// eipDuplicatesNote is the Live.Notes key listing extra addresses that
	// carry the same ownership tags.
	eipDuplicatesNote = "duplicates"
)

var (
	// eipConfirmTimeout bounds the wait for DescribeAddresses to show a new
	// association.
	eipConfirmTimeout = 2 * time.Minute
	// eipReleasing: right after a disassociation AWS may still refuse to
	// release the address as in use.
	eipReleasing = awsapi.Consistency{Codes: []string{"InvalidIPAddress.InUse"}, Timeout: time.Minute}
)

var elasticIPSchema = &Schema{
	Type: "elastic_ip",
	Doc:  "An Elastic IP address (VPC), optionally associated with an instance; found by envctl's ownership tags.",
	Attrs: []Attr{
		{Name: "instance", Kind: String, Check: eipCheckInstance,
			Doc: "Id of the instance the address is associated with, normally ${host.id}; \"\" leaves it unassociated."},
		{Name: "tags", Kind: Tags, Doc: "Tags of the address, besides envctl's ownership tags."},
	},
	Exports: []string{"public_ip", "allocation_id"},
}

// elasticIPDriver manages one Elastic IP address. An address has no name,
// so it is found by its ownership tags (envctl:env and envctl:id).
//
// instance and tags update in place; nothing forces a replacement, so the
// public address stays the same for the life of the resource. Moving the
// address to a new instance (the host replaced create-before-destroy) is an
// update.
type elasticIPDriver struct{ c *awsapi.Clients }

func newElasticIP(c *awsapi.Clients) Driver { return &elasticIPDriver{c: c} }

func (d *elasticIPDriver) Schema() *Schema { return elasticIPSchema }

// Find returns the address carrying the target's ownership tags (the first
// by allocation id when several do; the others are listed, comma-separated,
// in Notes["duplicates"]).
func (d *elasticIPDriver) Find(ctx context.Context, t Target) (*Live, error) {
	addrs, err := d.describe(ctx, &ec2.DescribeAddressesInput{Filters: ec2OwnerFilters(t.Env, t.ID)})
	if err != nil {
		return nil, fmt.Errorf("find elastic IP %s/%s: %w", t.Env, t.ID, err)
	}
	if len(addrs) == 0 {
		return nil, nil
	}
	live := eipLive(&addrs[0])
	if len(addrs) > 1 {
		var dups []string
		for _, a := range addrs[1:] {
			dups = append(dups, aws.ToString(a.AllocationId))
		}
		live.Notes = map[string]string{eipDuplicatesNote: strings.Join(dups, ",")}
	}
	return live, nil
}

// List returns every address tagged envctl:env=env.
func (d *elasticIPDriver) List(ctx context.Context, env string) ([]*Live, error) {
	addrs, err := d.describe(ctx, &ec2.DescribeAddressesInput{Filters: []types.Filter{ec2Filter("tag:"+TagEnv, env)}})
	if err != nil {
		return nil, fmt.Errorf("list elastic IPs of env %s: %w", env, err)
	}
	out := make([]*Live, 0, len(addrs))
	for i := range addrs {
		out = append(out, eipLive(&addrs[i]))
	}
	return out, nil
}

// Create allocates a VPC address tagged in the same call, then associates
// it with the instance when one is given. An address that already carries
// the target's ownership tags (an earlier attempt whose answer was lost) is
// used instead of allocating another.
func (d *elasticIPDriver) Create(ctx context.Context, t Target) (*Live, error) {
	addrs, err := d.describe(ctx, &ec2.DescribeAddressesInput{Filters: ec2OwnerFilters(t.Env, t.ID)})
	if err != nil {
		return nil, fmt.Errorf("create elastic IP %s: look for an earlier allocation: %w", t.ID, err)
	}
	var alloc string
	if len(addrs) > 0 {
		alloc = aws.ToString(addrs[0].AllocationId)
	} else {
		// AllocateAddress has no idempotency token: never let the SDK
		// repeat it blindly after a lost answer, or a second address is
		// allocated. The address is tagged at birth, so it can be found.
		err := awsapi.CreateOnce(ctx, 10, func(ctx context.Context) error {
			out, err := d.c.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{
				Domain:            types.DomainTypeVpc,
				TagSpecifications: ec2TagSpecs(TagMap(t.Attrs["tags"]), types.ResourceTypeElasticIp),
			}, func(o *ec2.Options) { o.Retryer = awsapi.NoRetry(o.Retryer) })
			if err == nil {
				alloc = aws.ToString(out.AllocationId)
			}
			return err
		}, func(ctx context.Context) (bool, error) {
			addrs, err := d.describe(ctx, &ec2.DescribeAddressesInput{Filters: ec2OwnerFilters(t.Env, t.ID)})
			if err != nil || len(addrs) == 0 {
				return false, err
			}
			alloc = aws.ToString(addrs[0].AllocationId)
			return true, nil
		})
		if err != nil {
			return nil, fmt.Errorf("create elastic IP %s: allocate: %w", t.ID, err)
		}
	}
	if inst, ok := t.Attrs["instance"].(string); ok {
		if err := d.associate(ctx, alloc, inst, true); err != nil {
			return nil, fmt.Errorf("create elastic IP %s (%s): %w", t.ID, alloc, err)
		}
	}
	a, err := d.read(ctx, alloc, true)
	if err != nil || a == nil {
		return nil, fmt.Errorf("create elastic IP %s (%s): read back: %w", t.ID, alloc, errOrGone(err))
	}
	return eipLive(a), nil
}

// Update moves the address to the desired instance (or disassociates it)
// and updates tags.
func (d *elasticIPDriver) Update(ctx context.Context, live *Live, t Target, changed []string) (*Live, error) {
	alloc := live.Handle
	for _, name := range changed {
		switch name {
		case "tags":
			if err := ec2UpdateTags(ctx, d.c.EC2, alloc, live.Tags(), TagMap(t.Attrs["tags"])); err != nil {
				return nil, fmt.Errorf("update elastic IP %s: %w", alloc, err)
			}
		case "instance":
			inst, _ := t.Attrs["instance"].(string)
			if err := d.associate(ctx, alloc, inst, false); err != nil {
				return nil, fmt.Errorf("update elastic IP %s: %w", alloc, err)
			}
		default:
			return nil, fmt.Errorf("update elastic IP %s: %s cannot change in place", alloc, name)
		}
	}
	a, err := d.read(ctx, alloc, false)
	if err != nil || a == nil {
		return nil, fmt.Errorf("update elastic IP %s: read back: %w", alloc, errOrGone(err))
	}
	return eipLive(a), nil
}

// associate makes inst the address's instance ("" disassociates it), then
// confirms it with DescribeAddresses.
//
// An unassociated address is associated with AllowReassociation=false, so
// it never takes an address in use elsewhere by surprise. An address
// associated with another instance is moved with AllowReassociation=true:
// it is this resource's own address (found by its ownership tags), and a
// move in one call never leaves the address detached between two calls,
// nor the old instance without it should the association fail.
func (d *elasticIPDriver) associate(ctx context.Context, alloc, inst string, fresh bool) error {
	a, err := d.read(ctx, alloc, fresh)
	if err != nil {
		return fmt.Errorf("read association: %w", err)
	}
	if a == nil {
		return fmt.Errorf("address %s no longer exists", alloc)
	}
	cur := aws.ToString(a.InstanceId)
	if cur == inst && (inst != "" || a.AssociationId == nil) {
		return nil
	}
	if inst == "" {
		if err := d.disassociate(ctx, a); err != nil {
			return err
		}
	} else {
		move := a.AssociationId != nil
		err := awsapi.EC2Create.Retry(ctx, func(ctx context.Context) error {
			_, err := d.c.EC2.AssociateAddress(ctx, &ec2.AssociateAddressInput{
				AllocationId:       aws.String(alloc),
				InstanceId:         aws.String(inst),
				AllowReassociation: aws.Bool(move),
			})
			return err
		})
		if err != nil {
			if move {
				return fmt.Errorf("move from %s to %s: %w", cur, inst, err)
			}
			return fmt.Errorf("associate with %s: %w", inst, err)
		}
	}
	// Confirm: the association is what DescribeAddresses reports.
	deadline := time.Now().Add(eipConfirmTimeout)
	delay := 200 * time.Millisecond
	for {
		a, err := d.read(ctx, alloc, fresh)
		if err != nil {
			return fmt.Errorf("confirm association: %w", err)
		}
		got := ""
		if a != nil {
			got = aws.ToString(a.InstanceId)
		}
		if got == inst {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("address %s is associated with %q after %s, want %q", alloc, got, eipConfirmTimeout, inst)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("confirm association: %w", ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

func (d *elasticIPDriver) disassociate(ctx context.Context, a *types.Address) error {
	if a.AssociationId == nil {
		return nil
	}
	_, err := d.c.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: a.AssociationId})
	if err != nil && !awsapi.IsNotFound(err) {
		return fmt.Errorf("disassociate from %s: %w", aws.ToString(a.InstanceId), err)
	}
	return nil
}

// Delete disassociates the address if needed and releases it. An address
// already gone is success.
func (d *elasticIPDriver) Delete(ctx context.Context, live *Live) error {
	alloc := live.Handle
	a, err := d.read(ctx, alloc, false)
	if err != nil {
		return fmt.Errorf("delete elastic IP %s: %w", alloc, err)
	}
	if a == nil {
		return nil
	}
	if err := d.disassociate(ctx, a); err != nil {
		return fmt.Errorf("delete elastic IP %s: %w", alloc, err)
	}
	err = eipReleasing.Retry(ctx, func(ctx context.Context) error {
		_, err := d.c.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(alloc)})
		return err
	})
	if err != nil && !awsapi.IsNotFound(err) {
		return fmt.Errorf("delete elastic IP %s: release: %w", alloc, err)
	}
	return nil
}

// read describes one address; nil when it is gone. fresh: the address was
// just allocated, so a not-found answer is retried for a while.
func (d *elasticIPDriver) read(ctx context.Context, alloc string, fresh bool) (*types.Address, error) {
	var addrs []types.Address
	call := func(ctx context.Context) error {
		var err error
		addrs, err = d.describe(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{alloc}})
		return err
	}
	var err error
	if fresh {
		err = awsapi.EC2Create.Retry(ctx, call)
	} else {
		err = call(ctx)
	}
	if awsapi.IsNotFound(err) || (err == nil && len(addrs) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &addrs[0], nil
}

// describe lists addresses (DescribeAddresses does not paginate), sorted
// by allocation id.
func (d *elasticIPDriver) describe(ctx context.Context, in *ec2.DescribeAddressesInput) ([]types.Address, error) {
	out, err := d.c.EC2.DescribeAddresses(ctx, in)
	if err != nil {
		return nil, err
	}
	addrs := out.Addresses
	sort.Slice(addrs, func(i, j int) bool { return aws.ToString(addrs[i].AllocationId) < aws.ToString(addrs[j].AllocationId) })
	return addrs, nil
}

func eipLive(a *types.Address) *Live {
	alloc := aws.ToString(a.AllocationId)
	return &Live{
		Handle: alloc,
		Attrs: Attrs{
			"instance": aws.ToString(a.InstanceId),
			"tags":     ec2TagMap(a.Tags),
		},
		Exports: map[string]string{
			"public_ip":     aws.ToString(a.PublicIp),
			"allocation_id": alloc,
		},
	}
}

var eipInstanceID = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

func eipCheckInstance(v any) error {
	s, _ := v.(string)
	if s != "" && !eipInstanceID.MatchString(s) {
		return fmt.Errorf("expected an instance id such as i-0123456789abcdef0 (normally ${host.id}), got %q", s)
	}
	return nil
}
