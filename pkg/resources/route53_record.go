package resources

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/litentry/envctl/pkg/awsapi"
)

const (
	// r53OwnerLabel starts the first label of an owner (companion) TXT
	// record: _envctl-<lowercase type>.<name>.
	r53OwnerLabel = "_envctl-"
	// r53OwnerPrefix starts the text of an owner record.
	r53OwnerPrefix = "envctl:"
	// r53OwnerTTL is the TTL of owner records; nobody resolves them.
	r53OwnerTTL = 300
	// r53MaxName leaves room for the longest owner label ("_envctl-aaaa.",
	// 13 bytes) within DNS's 253-byte name limit.
	r53MaxName = 253 - len(r53OwnerLabel+"aaaa.")
	// r53MaxTXT is Route 53's limit on one TXT value in quoted form.
	r53MaxTXT = 4000
	// r53ChangeWait bounds the wait for a change batch to reach INSYNC.
	r53ChangeWait = 5 * time.Minute
	// r53MaxPages bounds every pagination loop.
	r53MaxPages = 10000
)

// r53Types are the record types envctl manages.
var r53Types = []string{"A", "AAAA", "CNAME", "TXT"}

var route53RecordSchema = &Schema{
	Type: "route53_record",
	Doc: "A DNS record set (A, AAAA, CNAME or TXT) in an existing Route 53 hosted zone; " +
		"envctl marks its ownership with a companion TXT record instead of tags.",
	Attrs: []Attr{
		{Name: "zone", Kind: String, ForceNew: true, Identity: true, Check: r53CheckZone,
			Doc: "Name of the hosted zone that holds the record, such as litentry.org; give zone or zone_id, not both."},
		{Name: "zone_id", Kind: String, ForceNew: true, Identity: true, Check: r53CheckZoneID,
			Doc: "ID of the hosted zone that holds the record, such as Z0123456789ABCDEFGHIJ; give zone or zone_id, not both."},
		{Name: "name", Kind: String, Required: true, ForceNew: true, Identity: true, Check: r53CheckName,
			Doc: "Fully qualified record name in lowercase without the trailing dot, inside the zone, such as test-broker.litentry.org."},
		{Name: "record_type", Kind: String, Required: true, ForceNew: true, Identity: true, Check: r53CheckType,
			Doc: "Record type: A, AAAA, CNAME or TXT."},
		{Name: "ttl", Kind: Int, Default: int64(300), Check: r53CheckTTL,
			Doc: "Time to live of the record in seconds."},
		{Name: "values", Kind: StringList, Required: true, Check: r53CheckValues,
			Doc: "Record values, compared as a set; TXT values are plain text, which envctl quotes for Route 53."},
	},
	Exports:             []string{"fqdn"},
	CreateBeforeDestroy: true,
	Validate:            r53Validate,
	Normalize:           r53Normalize,
}

// route53RecordDriver manages one Route 53 record set together with its
// owner record, a TXT record at _envctl-<lowercase type>.<name> whose text
// says which env and resource id own it (Route 53 records carry no tags).
// The owner record is presented to the engine as the "tags" attribute.
//
// ttl, values and the ownership tags update in place, each update being one
// atomic change batch that DELETEs the exact record read before and CREATEs
// the new one, so it fails rather than overwrite a record someone changed.
// zone, zone_id, name and record_type force a replacement (new record first).
type route53RecordDriver struct {
	c *awsapi.Clients

	mu        sync.Mutex
	zoneIDs   map[string]string // zone name (no trailing dot) → zone id
	zoneNames map[string]string // zone id → zone name
}

func newRoute53Record(c *awsapi.Clients) Driver {
	return &route53RecordDriver{c: c, zoneIDs: map[string]string{}, zoneNames: map[string]string{}}
}

func (d *route53RecordDriver) Schema() *Schema { return route53RecordSchema }

// r53Zone is a resolved hosted zone.
type r53Zone struct {
	ID   string // without the /hostedzone/ prefix
	Name string // lowercase, without the trailing dot
}

// r53Observed is what one read of a record and its owner record found.
type r53Observed struct {
	zone  r53Zone
	name  string
	typ   string
	data  *types.ResourceRecordSet // nil when absent
	owner *types.ResourceRecordSet // nil when absent
}

// r53Owner is the content of an owner record.
type r53Owner struct {
	env, id string
	protect bool
}

// Find reads the record set the target names and its owner record. It
// returns nil when the data record is absent, even if an owner record
// remains (List reports that one so it can be cleaned up).
func (d *route53RecordDriver) Find(ctx context.Context, t Target) (*Live, error) {
	name, typ, err := r53Ident(t.Attrs)
	if err != nil {
		return nil, fmt.Errorf("find record: %w", err)
	}
	zone, err := d.resolveZone(ctx, t.Attrs)
	if err != nil {
		return nil, fmt.Errorf("find record %s %s: %w", name, typ, err)
	}
	if !r53InZone(name, zone.Name) {
		return nil, fmt.Errorf("find record %s %s: name is not inside zone %s", name, typ, zone.Name)
	}
	obs, err := d.observe(ctx, zone, name, typ)
	if err != nil {
		return nil, fmt.Errorf("find record %s %s: %w", name, typ, err)
	}
	if obs.data == nil {
		return nil, nil
	}
	return r53Live(obs, &r53Owner{env: t.Env, id: t.ID}), nil
}

// List reads every record set of every hosted zone once and returns the
// records whose owner record names env. An owner record without its data
// record is returned too, marked Notes["dangling"], so it can be deleted.
func (d *route53RecordDriver) List(ctx context.Context, env string) ([]*Live, error) {
	zones, err := d.listZones(ctx)
	if err != nil {
		return nil, fmt.Errorf("list records: %w", err)
	}
	var out []*Live
	for _, zone := range zones {
		sets, err := d.listSets(ctx, zone.ID)
		if err != nil {
			if awsapi.IsNotFound(err) {
				continue // zone deleted since it was listed
			}
			return nil, fmt.Errorf("list records of zone %s (%s): %w", zone.Name, zone.ID, err)
		}
		byKey := map[string]*types.ResourceRecordSet{}
		for i := range sets {
			byKey[r53Key(r53Canon(aws.ToString(sets[i].Name)), string(sets[i].Type))] = &sets[i]
		}
		for i := range sets {
			owner := &sets[i]
			if owner.Type != types.RRTypeTxt {
				continue
			}
			name, typ, ok := r53DataOf(r53Canon(aws.ToString(owner.Name)))
			if !ok {
				continue
			}
			o, ok := r53ParseOwnerSet(owner)
			if !ok || o.env != env {
				continue
			}
			obs := &r53Observed{zone: zone, name: name, typ: typ, owner: owner, data: byKey[r53Key(name, typ)]}
			if obs.data != nil && (obs.data.AliasTarget != nil || obs.data.SetIdentifier != nil) {
				obs.data = nil // not a record envctl can have written
			}
			out = append(out, r53Live(obs, nil))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Handle < out[j].Handle })
	return out, nil
}

// Create writes the record set and its owner record in one batch of two
// CREATE changes, which Route 53 rejects when either already exists. It
// refuses up front, with a clear error, when the record set exists and is
// not owned by this resource; when it is (an earlier Create that did not
// report back), it returns the record as found.
func (d *route53RecordDriver) Create(ctx context.Context, t Target) (*Live, error) {
	name, typ, err := r53Ident(t.Attrs)
	if err != nil {
		return nil, fmt.Errorf("create record: %w", err)
	}
	addr := name + " " + typ
	zone, err := d.resolveZone(ctx, t.Attrs)
	if err != nil {
		return nil, fmt.Errorf("create record %s: %w", addr, err)
	}
	if !r53InZone(name, zone.Name) {
		return nil, fmt.Errorf("create record %s: name is not inside zone %s", addr, zone.Name)
	}
	values, err := r53DesiredValues(t.Attrs, typ)
	if err != nil {
		return nil, fmt.Errorf("create record %s: %w", addr, err)
	}
	ttl, err := r53DesiredTTL(t.Attrs)
	if err != nil {
		return nil, fmt.Errorf("create record %s: %w", addr, err)
	}
	want, err := r53OwnerFor(t)
	if err != nil {
		return nil, fmt.Errorf("create record %s: %w", addr, err)
	}
	obs, err := d.observe(ctx, zone, name, typ)
	if err != nil {
		return nil, fmt.Errorf("create record %s: %w", addr, err)
	}
	have, owned := r53ParseOwnerSet(obs.owner)
	owned = owned && have.env == want.env && have.id == want.id
	if obs.data != nil {
		if owned {
			return r53Live(obs, &want), nil
		}
		return nil, fmt.Errorf("create record %s: a record set with this name and type already exists in zone %s and is not owned by envctl for env %q, id %q (%s); adopt it or remove it first",
			addr, zone.Name, want.env, want.id, r53DescribeOwner(obs))
	}
	changes := []types.Change{{Action: types.ChangeActionCreate, ResourceRecordSet: r53DataSet(name, typ, ttl, values)}}
	next := r53OwnerSet(name, typ, want)
	switch {
	case obs.owner == nil:
		changes = append(changes, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: next})
	case !owned:
		return nil, fmt.Errorf("create record %s: owner record %s already exists and is not this resource's (%s)",
			addr, r53OwnerName(name, typ), r53DescribeOwner(obs))
	case !r53SameSet(obs.owner, next):
		// Our own owner record, left by a run whose record was deleted
		// since, with other content (protection): rewrite it.
		changes = append(changes,
			types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: obs.owner},
			types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: next})
	}
	if err := d.change(ctx, zone.ID, changes); err != nil {
		if awsapi.IsCode(err, "InvalidChangeBatch") {
			return nil, fmt.Errorf("create record %s: Route 53 rejected the batch; if a record set with this name and type was written since it was read, it is not owned by envctl and was left alone: %w", addr, err)
		}
		return nil, fmt.Errorf("create record %s: %w", addr, err)
	}
	return d.reread(ctx, zone, name, typ, &want, "create")
}

// Update changes values, ttl and the ownership tags in one batch: DELETE of
// the exact record set that was read, CREATE of the new one, and the same
// for the owner record when the tags changed. It first checks that the
// record still is what live says, and Route 53 rejects the DELETE if it
// changed in between, so a record written by someone else is never
// overwritten. For a dangling owner record (live from List, whose record
// was deleted behind envctl's back) it CREATEs the record again.
func (d *route53RecordDriver) Update(ctx context.Context, live *Live, t Target, changed []string) (*Live, error) {
	zoneID, name, typ, err := r53ParseHandle(live.Handle)
	if err != nil {
		return nil, fmt.Errorf("update record: %w", err)
	}
	addr := name + " " + typ
	zone, err := d.zoneByID(ctx, zoneID)
	if err != nil {
		return nil, fmt.Errorf("update record %s: %w", addr, err)
	}
	obs, err := d.observe(ctx, zone, name, typ)
	if err != nil {
		return nil, fmt.Errorf("update record %s: %w", addr, err)
	}
	dangling := live.Notes["dangling"] == "true"
	switch {
	case obs.data == nil && !dangling:
		return nil, fmt.Errorf("update record %s: the record set no longer exists in zone %s; run plan again", addr, zone.Name)
	case obs.data != nil && dangling:
		return nil, fmt.Errorf("update record %s: a record set appeared in zone %s since its owner record was listed alone; run plan again", addr, zone.Name)
	}
	if err := r53Unchanged(live, obs); err != nil {
		return nil, fmt.Errorf("update record %s: %w; run plan again", addr, err)
	}
	var want *r53Owner
	var changes []types.Change
	if dangling {
		// Only the owner record is left (the record was deleted behind
		// envctl's back): write the record again. CREATE fails if someone
		// else wrote one in between.
		values, err := r53DesiredValues(t.Attrs, typ)
		if err != nil {
			return nil, fmt.Errorf("update record %s: %w", addr, err)
		}
		ttl, err := r53DesiredTTL(t.Attrs)
		if err != nil {
			return nil, fmt.Errorf("update record %s: %w", addr, err)
		}
		changes = append(changes, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: r53DataSet(name, typ, ttl, values)})
	} else if slices.Contains(changed, "values") || slices.Contains(changed, "ttl") {
		liveValues, liveTTL := r53Values(typ, obs.data), aws.ToInt64(obs.data.TTL)
		values, ttl := liveValues, liveTTL
		if slices.Contains(changed, "values") {
			if values, err = r53DesiredValues(t.Attrs, typ); err != nil {
				return nil, fmt.Errorf("update record %s: %w", addr, err)
			}
		}
		if slices.Contains(changed, "ttl") {
			if ttl, err = r53DesiredTTL(t.Attrs); err != nil {
				return nil, fmt.Errorf("update record %s: %w", addr, err)
			}
		}
		if ttl != liveTTL || !slices.Equal(r53Sorted(values), liveValues) {
			// The exact DELETE makes the batch fail if the record changed
			// since it was read. The new set is written with UPSERT, not
			// CREATE: after the DELETE both mean the same to Route 53, and
			// moto wrongly rejects a CREATE of values it has seen before.
			changes = append(changes,
				types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: obs.data},
				types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: r53DataSet(name, typ, ttl, values)},
			)
		}
	}
	if slices.Contains(changed, "tags") {
		o, err := r53OwnerFor(t)
		if err != nil {
			return nil, fmt.Errorf("update record %s: %w", addr, err)
		}
		want = &o
		next := r53OwnerSet(name, typ, o)
		if obs.owner == nil || !r53SameSet(obs.owner, next) {
			if obs.owner != nil {
				changes = append(changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: obs.owner})
			}
			changes = append(changes, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: next})
		}
	}
	if want == nil {
		if o, ok := r53ParseOwnerSet(obs.owner); ok {
			want = &o
		}
	}
	if len(changes) == 0 {
		return r53Live(obs, want), nil
	}
	if err := d.change(ctx, zone.ID, changes); err != nil {
		if awsapi.IsCode(err, "InvalidChangeBatch") {
			return nil, fmt.Errorf("update record %s: Route 53 rejected the batch, probably because the record changed since it was read; nothing was changed; run plan again: %w", addr, err)
		}
		return nil, fmt.Errorf("update record %s: %w", addr, err)
	}
	return d.reread(ctx, zone, name, typ, want, "update")
}

// Delete removes the record set (exactly as read) and its owner record in
// one batch; for a dangling owner record, only the owner record. A record
// or zone that is already gone is success.
func (d *route53RecordDriver) Delete(ctx context.Context, live *Live) error {
	zoneID, name, typ, err := r53ParseHandle(live.Handle)
	if err != nil {
		return fmt.Errorf("delete record: %w", err)
	}
	addr := name + " " + typ
	zone, err := d.zoneByID(ctx, zoneID)
	if err != nil {
		if awsapi.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("delete record %s: %w", addr, err)
	}
	obs, err := d.observe(ctx, zone, name, typ)
	if err != nil {
		if awsapi.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("delete record %s: %w", addr, err)
	}
	if obs.data == nil && obs.owner == nil {
		return nil
	}
	var changes []types.Change
	if obs.data != nil {
		if live.Notes["dangling"] == "true" {
			return fmt.Errorf("delete record %s: the record set appeared in zone %s since its owner record was listed alone; run plan again", addr, zone.Name)
		}
		if err := r53Unchanged(live, obs); err != nil {
			return fmt.Errorf("delete record %s: %w; run plan again", addr, err)
		}
		changes = append(changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: obs.data})
	}
	if obs.owner != nil {
		if err := r53Unchanged(live, &r53Observed{name: name, typ: typ, owner: obs.owner}); err != nil {
			return fmt.Errorf("delete record %s: %w; run plan again", addr, err)
		}
		changes = append(changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: obs.owner})
	}
	if err := d.change(ctx, zone.ID, changes); err != nil {
		if awsapi.IsNotFound(err) {
			return nil
		}
		if awsapi.IsCode(err, "InvalidChangeBatch") {
			// Deleted by someone else in between is fine; anything else not.
			if again, rerr := d.observe(ctx, zone, name, typ); rerr == nil && again.data == nil && again.owner == nil {
				return nil
			}
		}
		return fmt.Errorf("delete record %s: %w", addr, err)
	}
	return nil
}

// reread observes the record after a change and returns it as Live.
func (d *route53RecordDriver) reread(ctx context.Context, zone r53Zone, name, typ string, want *r53Owner, verb string) (*Live, error) {
	obs, err := d.observe(ctx, zone, name, typ)
	if err != nil {
		return nil, fmt.Errorf("%s record %s %s: read back: %w", verb, name, typ, err)
	}
	if obs.data == nil {
		return nil, fmt.Errorf("%s record %s %s: the record set is not visible after the change", verb, name, typ)
	}
	return r53Live(obs, want), nil
}

// observe reads the data record set and its owner record.
func (d *route53RecordDriver) observe(ctx context.Context, zone r53Zone, name, typ string) (*r53Observed, error) {
	data, err := d.readSet(ctx, zone.ID, name, typ)
	if err != nil {
		return nil, err
	}
	if data != nil && (data.AliasTarget != nil || data.SetIdentifier != nil) {
		return nil, fmt.Errorf("the record set in zone %s is an alias or uses a routing policy, which envctl does not manage", zone.Name)
	}
	owner, err := d.readSet(ctx, zone.ID, r53OwnerName(name, typ), "TXT")
	if err != nil {
		return nil, err
	}
	return &r53Observed{zone: zone, name: name, typ: typ, data: data, owner: owner}, nil
}

// readSet returns the record set with exactly this name and type, or nil.
func (d *route53RecordDriver) readSet(ctx context.Context, zoneID, name, typ string) (*types.ResourceRecordSet, error) {
	out, err := d.c.Route53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
		HostedZoneId:    aws.String(zoneID),
		StartRecordName: aws.String(name),
		StartRecordType: types.RRType(typ),
		MaxItems:        aws.Int32(1),
	})
	if err != nil {
		return nil, fmt.Errorf("list record sets of zone %s at %s %s: %w", zoneID, name, typ, err)
	}
	for i := range out.ResourceRecordSets {
		s := &out.ResourceRecordSets[i]
		if r53Canon(aws.ToString(s.Name)) == name && string(s.Type) == typ {
			return s, nil
		}
	}
	return nil, nil
}

// listSets returns every record set of a zone.
func (d *route53RecordDriver) listSets(ctx context.Context, zoneID string) ([]types.ResourceRecordSet, error) {
	var sets []types.ResourceRecordSet
	p := route53.NewListResourceRecordSetsPaginator(d.c.Route53, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	for page := 0; p.HasMorePages(); page++ {
		if page == r53MaxPages {
			return nil, fmt.Errorf("more than %d pages of record sets", r53MaxPages)
		}
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		sets = append(sets, out.ResourceRecordSets...)
	}
	return sets, nil
}

// listZones returns every hosted zone of the account and caches them.
func (d *route53RecordDriver) listZones(ctx context.Context) ([]r53Zone, error) {
	var zones []r53Zone
	p := route53.NewListHostedZonesPaginator(d.c.Route53, &route53.ListHostedZonesInput{})
	for page := 0; p.HasMorePages(); page++ {
		if page == r53MaxPages {
			return nil, fmt.Errorf("more than %d pages of hosted zones", r53MaxPages)
		}
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list hosted zones: %w", err)
		}
		for _, z := range out.HostedZones {
			zones = append(zones, r53Zone{ID: r53TrimZoneID(aws.ToString(z.Id)), Name: r53Canon(aws.ToString(z.Name))})
		}
	}
	d.mu.Lock()
	for _, z := range zones {
		d.zoneNames[z.ID] = z.Name
	}
	d.mu.Unlock()
	return zones, nil
}

// resolveZone finds the hosted zone from the zone or zone_id attribute.
func (d *route53RecordDriver) resolveZone(ctx context.Context, attrs Attrs) (r53Zone, error) {
	name, hasName := attrs["zone"].(string)
	id, hasID := attrs["zone_id"].(string)
	switch {
	case hasName && hasID:
		return r53Zone{}, errors.New("give zone or zone_id, not both")
	case hasID:
		return d.zoneByID(ctx, r53TrimZoneID(id))
	case hasName:
		return d.zoneByName(ctx, r53Canon(name))
	}
	return r53Zone{}, errors.New("zone or zone_id is required")
}

func (d *route53RecordDriver) zoneByID(ctx context.Context, id string) (r53Zone, error) {
	d.mu.Lock()
	name, ok := d.zoneNames[id]
	d.mu.Unlock()
	if ok {
		return r53Zone{ID: id, Name: name}, nil
	}
	out, err := d.c.Route53.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
	if err != nil {
		return r53Zone{}, fmt.Errorf("get hosted zone %s: %w", id, err)
	}
	z := r53Zone{ID: id, Name: r53Canon(aws.ToString(out.HostedZone.Name))}
	d.mu.Lock()
	d.zoneNames[id] = z.Name
	d.mu.Unlock()
	return z, nil
}

func (d *route53RecordDriver) zoneByName(ctx context.Context, name string) (r53Zone, error) {
	d.mu.Lock()
	id, ok := d.zoneIDs[name]
	d.mu.Unlock()
	if ok {
		return r53Zone{ID: id, Name: name}, nil
	}
	// Zones come back sorted by name starting at DNSName; zones with the
	// same name (a public and a private one) are adjacent.
	out, err := d.c.Route53.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{
		DNSName:  aws.String(name + "."),
		MaxItems: aws.Int32(100),
	})
	if err != nil {
		return r53Zone{}, fmt.Errorf("look up hosted zone %s: %w", name, err)
	}
	var ids []string
	for _, z := range out.HostedZones {
		if r53Canon(aws.ToString(z.Name)) == name {
			ids = append(ids, r53TrimZoneID(aws.ToString(z.Id)))
		}
	}
	switch len(ids) {
	case 0:
		return r53Zone{}, fmt.Errorf("hosted zone %s not found", name)
	case 1:
	default:
		return r53Zone{}, fmt.Errorf("zone %s names %d hosted zones (%s); set zone_id to choose one", name, len(ids), strings.Join(ids, ", "))
	}
	d.mu.Lock()
	d.zoneIDs[name] = ids[0]
	d.zoneNames[ids[0]] = name
	d.mu.Unlock()
	return r53Zone{ID: ids[0], Name: name}, nil
}

// change submits one change batch, retrying while the zone is busy with an
// earlier change, and waits until it is INSYNC.
func (d *route53RecordDriver) change(ctx context.Context, zoneID string, changes []types.Change) error {
	var out *route53.ChangeResourceRecordSetsOutput
	err := awsapi.Route53Busy.Retry(ctx, func(ctx context.Context) error {
		var err error
		out, err = d.c.Route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(zoneID),
			ChangeBatch:  &types.ChangeBatch{Comment: aws.String("envctl"), Changes: changes},
		})
		return err
	})
	if err != nil {
		return err
	}
	if out.ChangeInfo == nil || out.ChangeInfo.Status == types.ChangeStatusInsync {
		return nil
	}
	w := route53.NewResourceRecordSetsChangedWaiter(d.c.Route53, func(o *route53.ResourceRecordSetsChangedWaiterOptions) {
		o.MinDelay = 2 * time.Second
		o.MaxDelay = 20 * time.Second
	})
	if err := w.Wait(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id}, r53ChangeWait); err != nil {
		return fmt.Errorf("wait for change %s to be in sync: %w", aws.ToString(out.ChangeInfo.Id), err)
	}
	return nil
}

// r53Live turns an observation into Live. want, when set, is the owner the
// caller expects; any other owner text is shown in Notes["owner"].
func r53Live(obs *r53Observed, want *r53Owner) *Live {
	l := &Live{
		Handle: obs.zone.ID + "|" + obs.name + "|" + obs.typ,
		Attrs: Attrs{
			"zone":        obs.zone.Name,
			"zone_id":     obs.zone.ID,
			"name":        obs.name,
			"record_type": obs.typ,
			"tags":        r53OwnerTags(obs.owner),
		},
		Exports: map[string]string{"fqdn": obs.name},
		Notes:   map[string]string{},
	}
	if obs.data != nil {
		l.Attrs["ttl"] = aws.ToInt64(obs.data.TTL)
		l.Attrs["values"] = r53Values(obs.typ, obs.data)
	} else {
		l.Notes["dangling"] = "true"
	}
	if obs.owner != nil {
		o, ok := r53ParseOwnerSet(obs.owner)
		if !ok || (want != nil && (o.env != want.env || o.id != want.id)) {
			l.Notes["owner"] = r53RawValues(obs.owner)
		}
	}
	return l
}

// r53Unchanged checks that the record read now still has the values, TTL
// and owner that live reported.
func r53Unchanged(live *Live, obs *r53Observed) error {
	if obs.data != nil {
		lv, _ := stringList(live.Attrs["values"])
		lt, _ := intValue(live.Attrs["ttl"])
		now, nowTTL := r53Values(obs.typ, obs.data), aws.ToInt64(obs.data.TTL)
		if !slices.Equal(r53Sorted(lv), now) || lt != nowTTL {
			return fmt.Errorf("the record changed since it was read (read ttl %d values %q, now ttl %d values %q)", lt, lv, nowTTL, now)
		}
	}
	changed := !maps.Equal(r53OwnerTags(obs.owner), live.Tags())
	if _, ok := r53ParseOwnerSet(obs.owner); obs.owner != nil && !ok {
		// Unparseable text reads as no tags; compare the text itself.
		changed = changed || live.Notes["owner"] != r53RawValues(obs.owner)
	}
	if changed {
		return fmt.Errorf("owner record %s changed since it was read (%s)", r53OwnerName(obs.name, obs.typ), r53DescribeOwner(obs))
	}
	return nil
}

// r53Ident reads and checks the name and record_type attributes.
func r53Ident(attrs Attrs) (name, typ string, err error) {
	name, _ = attrs["name"].(string)
	typ, _ = attrs["record_type"].(string)
	if err := r53CheckName(name); err != nil {
		return "", "", fmt.Errorf("name %q: %w", name, err)
	}
	if err := r53CheckType(typ); err != nil {
		return "", "", fmt.Errorf("record_type %q: %w", typ, err)
	}
	return name, typ, nil
}

// r53DesiredValues reads and checks the desired values.
func r53DesiredValues(attrs Attrs, typ string) ([]string, error) {
	v, ok := attrs["values"]
	if !ok {
		return nil, errors.New("values: required")
	}
	values, err := stringList(v)
	if err == nil {
		err = r53CheckValues(values)
	}
	if err == nil {
		err = r53CheckTypedValues(typ, values)
	}
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	return values, nil
}

// r53DesiredTTL reads and checks the desired ttl (300 when absent).
func r53DesiredTTL(attrs Attrs) (int64, error) {
	v, ok := attrs["ttl"]
	if !ok {
		return 300, nil
	}
	if err := r53CheckTTL(v); err != nil {
		return 0, fmt.Errorf("ttl: %w", err)
	}
	n, _ := intValue(v)
	return n, nil
}

// r53OwnerFor returns the owner record content for a target: its
// ownership tags, falling back to the target's env and id.
func r53OwnerFor(t Target) (r53Owner, error) {
	tags := TagMap(t.Attrs["tags"])
	o := r53Owner{env: tags[TagEnv], id: tags[TagID], protect: tags[TagProtect] == "true"}
	if o.env == "" {
		o.env = t.Env
	}
	if o.id == "" {
		o.id = t.ID
	}
	if o.env == "" || o.id == "" {
		return o, errors.New("the owner record needs an env and a resource id")
	}
	for _, s := range []string{o.env, o.id} {
		if strings.ContainsAny(s, ",=\"\\ ") {
			return o, fmt.Errorf("env or resource id %q cannot be written to an owner record (no commas, equals signs, quotes, backslashes or spaces)", s)
		}
	}
	return o, nil
}

// text is the owner record's plain text, before TXT quoting.
func (o r53Owner) text() string {
	s := r53OwnerPrefix + "env=" + o.env + ",id=" + o.id
	if o.protect {
		s += ",protect=true"
	}
	return s
}

// tags is how an owner is presented to the engine.
func (o r53Owner) tags() map[string]string {
	t := map[string]string{TagEnv: o.env, TagID: o.id}
	if o.protect {
		t[TagProtect] = "true"
	}
	return t
}

// r53ParseOwner parses the plain text of an owner record.
func r53ParseOwner(text string) (r53Owner, bool) {
	rest, ok := strings.CutPrefix(text, r53OwnerPrefix)
	if !ok {
		return r53Owner{}, false
	}
	var o r53Owner
	seen := map[string]bool{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" || seen[k] {
			return r53Owner{}, false
		}
		seen[k] = true
		switch k {
		case "env":
			o.env = v
		case "id":
			o.id = v
		case "protect":
			if v != "true" {
				return r53Owner{}, false
			}
			o.protect = true
		default:
			return r53Owner{}, false
		}
	}
	if o.env == "" || o.id == "" {
		return r53Owner{}, false
	}
	return o, true
}

// r53ParseOwnerSet parses an owner record set; it must hold one value.
func r53ParseOwnerSet(s *types.ResourceRecordSet) (r53Owner, bool) {
	if s == nil || len(s.ResourceRecords) != 1 {
		return r53Owner{}, false
	}
	return r53ParseOwner(r53UnquoteTXT(aws.ToString(s.ResourceRecords[0].Value)))
}

// r53OwnerTags is the tag map an owner record stands for: empty when the
// record is absent or unparseable.
func r53OwnerTags(s *types.ResourceRecordSet) map[string]string {
	if o, ok := r53ParseOwnerSet(s); ok {
		return o.tags()
	}
	return map[string]string{}
}

// r53DescribeOwner says who owns a record, for error messages.
func r53DescribeOwner(obs *r53Observed) string {
	if obs.owner == nil {
		return "it has no owner record " + r53OwnerName(obs.name, obs.typ)
	}
	return "owner record says " + r53RawValues(obs.owner)
}

// r53RawValues joins the values of a record set as Route 53 stores them.
func r53RawValues(s *types.ResourceRecordSet) string {
	var vs []string
	for _, rr := range s.ResourceRecords {
		vs = append(vs, aws.ToString(rr.Value))
	}
	return strings.Join(vs, " ")
}

// r53OwnerName is the name of the owner record of a record set.
func r53OwnerName(name, typ string) string {
	return r53OwnerLabel + strings.ToLower(typ) + "." + name
}

// r53DataOf returns the data record an owner record name stands for.
func r53DataOf(ownerName string) (name, typ string, ok bool) {
	first, rest, ok := strings.Cut(ownerName, ".")
	if !ok {
		return "", "", false
	}
	t, ok := strings.CutPrefix(first, r53OwnerLabel)
	if !ok || !slices.Contains(r53Types, strings.ToUpper(t)) || t != strings.ToLower(t) {
		return "", "", false
	}
	return rest, strings.ToUpper(t), true
}

// r53DataSet builds a data record set; TXT values are quoted.
func r53DataSet(name, typ string, ttl int64, values []string) *types.ResourceRecordSet {
	rrs := make([]types.ResourceRecord, 0, len(values))
	for _, v := range r53Sorted(values) {
		if typ == "TXT" {
			v = r53QuoteTXT(v)
		}
		rrs = append(rrs, types.ResourceRecord{Value: aws.String(v)})
	}
	return &types.ResourceRecordSet{Name: aws.String(name), Type: types.RRType(typ), TTL: aws.Int64(ttl), ResourceRecords: rrs}
}

// r53OwnerSet builds the owner record set for an owner.
func r53OwnerSet(name, typ string, o r53Owner) *types.ResourceRecordSet {
	return &types.ResourceRecordSet{
		Name:            aws.String(r53OwnerName(name, typ)),
		Type:            types.RRTypeTxt,
		TTL:             aws.Int64(r53OwnerTTL),
		ResourceRecords: []types.ResourceRecord{{Value: aws.String(r53QuoteTXT(o.text()))}},
	}
}

// r53SameSet reports whether two record sets have the same TTL and values.
func r53SameSet(a, b *types.ResourceRecordSet) bool {
	if aws.ToInt64(a.TTL) != aws.ToInt64(b.TTL) || len(a.ResourceRecords) != len(b.ResourceRecords) {
		return false
	}
	for i := range a.ResourceRecords {
		if aws.ToString(a.ResourceRecords[i].Value) != aws.ToString(b.ResourceRecords[i].Value) {
			return false
		}
	}
	return true
}

// r53Values returns the values of a record set in canonical form, sorted:
// TXT unquoted, AAAA in canonical IPv6 notation.
func r53Values(typ string, s *types.ResourceRecordSet) []string {
	out := make([]string, 0, len(s.ResourceRecords))
	for _, rr := range s.ResourceRecords {
		v := aws.ToString(rr.Value)
		switch typ {
		case "TXT":
			v = r53UnquoteTXT(v)
		case "AAAA":
			if a, err := netip.ParseAddr(v); err == nil {
				v = a.String()
			}
		}
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func r53Sorted(values []string) []string {
	out := slices.Clone(values)
	sort.Strings(out)
	return out
}

// r53QuoteTXT turns plain text into Route 53's TXT form: strings of at most
// 255 bytes in double quotes, separated by spaces, with quote and backslash
// escaped by a backslash and bytes outside printable ASCII as \ooo (octal).
func r53QuoteTXT(s string) string {
	if s == "" {
		return `""`
	}
	var b strings.Builder
	for i := 0; i < len(s); i += 255 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		for _, c := range []byte(s[i:min(i+255, len(s))]) {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20 || c >= 0x7f:
				fmt.Fprintf(&b, "\\%03o", c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	}
	return b.String()
}

// r53UnquoteTXT turns Route 53's TXT form back into plain text: the
// strings, quoted or bare, are unescaped and joined without separator.
func r53UnquoteTXT(s string) string {
	var out []byte
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '"':
			i++
			for i < len(s) && s[i] != '"' {
				i = r53Unescape(s, i, &out)
			}
			i++ // closing quote
		default:
			for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '"' {
				i = r53Unescape(s, i, &out)
			}
		}
	}
	return string(out)
}

// r53Unescape appends the character at s[i], decoding \ooo and \c, and
// returns the index after it.
func r53Unescape(s string, i int, out *[]byte) int {
	if s[i] != '\\' || i+1 >= len(s) {
		*out = append(*out, s[i])
		return i + 1
	}
	if i+4 <= len(s) && r53IsOctal(s[i+1]) && r53IsOctal(s[i+2]) && r53IsOctal(s[i+3]) {
		if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
			*out = append(*out, byte(n))
			return i + 4
		}
	}
	*out = append(*out, s[i+1])
	return i + 2
}

func r53IsOctal(c byte) bool { return c >= '0' && c <= '7' }

// r53Canon turns a name as Route 53 returns it (\ooo escapes such as \052
// for *, trailing dot, any case) into the form envctl uses.
func r53Canon(name string) string {
	var out []byte
	for i := 0; i < len(name); {
		i = r53Unescape(name, i, &out)
	}
	return strings.ToLower(strings.TrimSuffix(string(out), "."))
}

func r53TrimZoneID(id string) string {
	return strings.TrimPrefix(strings.TrimPrefix(id, "/"), "hostedzone/")
}

func r53Key(name, typ string) string { return name + "|" + typ }

// r53ParseHandle splits a handle "<zone id>|<name>|<type>".
func r53ParseHandle(h string) (zoneID, name, typ string, err error) {
	parts := strings.Split(h, "|")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("malformed handle %q (want <zone id>|<name>|<type>)", h)
	}
	return parts[0], parts[1], parts[2], nil
}

// r53InZone reports whether name is the zone apex or below it.
func r53InZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// r53Normalize makes zone spellings compare equal: litentry.org,
// litentry.org. and the zone name Route 53 returns.
func r53Normalize(attr string, v any) any {
	if s, ok := v.(string); ok && attr == "zone" {
		return r53Canon(s)
	}
	return v
}

// r53Validate checks the rules that span attributes.
func r53Validate(attrs Attrs) error {
	_, hasZone := attrs["zone"]
	_, hasID := attrs["zone_id"]
	if hasZone == hasID {
		return errors.New("give exactly one of zone (a zone name such as litentry.org) or zone_id")
	}
	name, _ := attrs["name"].(string)
	zone, _ := attrs["zone"].(string)
	if name != "" && zone != "" && !r53InZone(name, r53Canon(zone)) {
		return fmt.Errorf("name %q is not inside zone %q: expected %s or a name ending in .%s", name, zone, r53Canon(zone), r53Canon(zone))
	}
	typ, _ := attrs["record_type"].(string)
	if typ == "CNAME" && name != "" && zone != "" && name == r53Canon(zone) {
		return fmt.Errorf("a CNAME cannot be at the zone apex %s", name)
	}
	if v, ok := attrs["values"]; ok && typ != "" {
		values, err := stringList(v)
		if err != nil {
			return fmt.Errorf("values: %w", err)
		}
		if err := r53CheckTypedValues(typ, values); err != nil {
			return fmt.Errorf("values: %w", err)
		}
	}
	return nil
}

// r53CheckTypedValues checks values against the record type.
func r53CheckTypedValues(typ string, values []string) error {
	if typ == "CNAME" && len(values) != 1 {
		return fmt.Errorf("a CNAME takes exactly one value, got %d", len(values))
	}
	for _, v := range values {
		switch typ {
		case "A":
			a, err := netip.ParseAddr(v)
			if err != nil || !a.Is4() {
				return fmt.Errorf("%q: expected an IPv4 address such as 192.0.2.10", v)
			}
		case "AAAA":
			a, err := netip.ParseAddr(v)
			if err != nil || !a.Is6() || a.Zone() != "" {
				return fmt.Errorf("%q: expected an IPv6 address such as 2001:db8::1", v)
			}
			if a.String() != v {
				return fmt.Errorf("%q: expected the canonical form %s", v, a.String())
			}
		case "CNAME":
			if err := r53CheckDomain(strings.TrimSuffix(v, "."), false); err != nil {
				return fmt.Errorf("%q: expected a host name such as app.example.com: %w", v, err)
			}
		case "TXT":
			if n := len(r53QuoteTXT(v)); n > r53MaxTXT {
				return fmt.Errorf("TXT value of %d characters once quoted is longer than Route 53's %d", n, r53MaxTXT)
			}
		}
	}
	return nil
}

func r53CheckName(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("expected a string, got %T", v)
	}
	switch {
	case s == "":
		return errors.New("expected a fully qualified name such as test-broker.litentry.org")
	case strings.HasSuffix(s, "."):
		return fmt.Errorf("expected the name without the trailing dot: %s", strings.TrimSuffix(s, "."))
	case s != strings.ToLower(s):
		return fmt.Errorf("expected a lowercase name: %s", strings.ToLower(s))
	case len(s) > r53MaxName:
		return fmt.Errorf("expected at most %d characters (room is kept for the _envctl- owner record), got %d", r53MaxName, len(s))
	case !strings.Contains(s, "."):
		return fmt.Errorf("expected a fully qualified name such as %s.litentry.org", s)
	case strings.HasPrefix(s, r53OwnerLabel):
		return fmt.Errorf("names starting with %s are reserved for envctl's owner records", r53OwnerLabel)
	}
	return r53CheckDomain(s, true)
}

func r53CheckZone(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("expected a string, got %T", v)
	}
	if s == "" || s == "." {
		return errors.New("expected a hosted zone name such as litentry.org")
	}
	if s != strings.ToLower(s) {
		return fmt.Errorf("expected a lowercase zone name: %s", strings.ToLower(s))
	}
	return r53CheckDomain(strings.TrimSuffix(s, "."), false)
}

func r53CheckZoneID(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("expected a string, got %T", v)
	}
	if s == "" || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		return fmt.Errorf("expected a bare hosted zone id such as Z0123456789ABCDEFGHIJ (no /hostedzone/ prefix), got %q", s)
	}
	return nil
}

func r53CheckType(v any) error {
	s, ok := v.(string)
	if !ok || !slices.Contains(r53Types, s) {
		return fmt.Errorf("expected one of %s", strings.Join(r53Types, ", "))
	}
	return nil
}

func r53CheckTTL(v any) error {
	n, ok := intValue(v)
	if !ok || n < 0 || n > 2147483647 {
		return fmt.Errorf("expected a whole number of seconds from 0 to 2147483647, got %v", v)
	}
	return nil
}

func r53CheckValues(v any) error {
	values, err := stringList(v)
	if err != nil {
		return err
	}
	if len(values) == 0 {
		return errors.New("expected at least one value")
	}
	seen := map[string]bool{}
	for _, s := range values {
		if s == "" {
			return errors.New("expected non-empty values")
		}
		if seen[s] {
			return fmt.Errorf("value %q is listed twice; values form a set", s)
		}
		seen[s] = true
	}
	return nil
}

// r53CheckDomain checks the labels of a domain name; wildcard allows "*"
// as the first label.
func r53CheckDomain(s string, wildcard bool) error {
	labels := strings.Split(s, ".")
	for i, l := range labels {
		if l == "*" && i == 0 && wildcard {
			continue
		}
		if l == "" || len(l) > 63 {
			return fmt.Errorf("label %q in %q must be 1 to 63 characters", l, s)
		}
		if strings.Trim(strings.ToLower(l), "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return fmt.Errorf("label %q in %q may hold only letters, digits, - and _", l, s)
		}
	}
	return nil
}
