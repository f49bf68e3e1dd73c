package resources

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/litentry/envctl/pkg/awsapi"
)

// EC2 error codes the security-group driver reacts to.
const (
	sgDuplicateCode      = "InvalidGroup.Duplicate"
	sgDependencyCode     = "DependencyViolation"
	sgPermDuplicateCode  = "InvalidPermission.Duplicate"
	sgPermNotFoundCode   = "InvalidPermission.NotFound"
	sgDefaultDescription = "managed by envctl"
	// ec2MaxPages bounds every EC2 pagination loop.
	ec2MaxPages = 10000
)

// Waits for a group's holders to let go before it is deleted. Package
// variables so tests can shorten them.
var (
	// sgDeleteTimeout bounds the wait for network interfaces and instances
	// to stop using a group before it is deleted.
	sgDeleteTimeout = 5 * time.Minute
	// sgDeletePoll is the first delay between checks; it doubles up to
	// sgDeleteMaxPoll.
	sgDeletePoll    = 2 * time.Second
	sgDeleteMaxPoll = 15 * time.Second
)

// sgRuleElem describes one ingress or egress rule.
var sgRuleElem = []Attr{
	{Name: "protocol", Kind: String, Default: "tcp", Check: sgCheckProtocol,
		Doc: "tcp, udp, icmp or -1 (all traffic)."},
	{Name: "port", Kind: Int, Check: sgCheckPort,
		Doc: "A single port (tcp, udp) or ICMP type (icmp, all codes); give port or ports, not both."},
	{Name: "ports", Kind: String, Check: sgCheckPortRange,
		Doc: "A port range such as 8000-8100 (tcp, udp only)."},
	{Name: "cidrs", Kind: StringList, Required: true, Check: sgCheckCIDRs,
		Doc: "Source (ingress) or destination (egress) networks in CIDR notation, IPv4 or IPv6, such as 203.0.113.10/32."},
	{Name: "description", Kind: String, Check: sgCheckRuleDescription,
		Doc: "Description of the rule, shown in the AWS console."},
}

var securityGroupSchema = &Schema{
	Type: "ec2_security_group",
	Doc:  "A VPC security group with its inbound rules and, when declared, its outbound rules.",
	Attrs: []Attr{
		{Name: "name", Kind: String, Required: true, ForceNew: true, Identity: true, Check: sgCheckName,
			Doc: "Name of the group, unique within its VPC; up to 255 characters, not starting with sg-."},
		{Name: "description", Kind: String, Default: sgDefaultDescription, ForceNew: true, Check: sgCheckDescription,
			Doc: "Description of the group; AWS cannot change it, so a change replaces the group."},
		{Name: "vpc_id", Kind: String, ForceNew: true, Check: sgCheckVPCID,
			Doc: "VPC that holds the group, such as vpc-0123456789abcdef0; the region's default VPC when left out."},
		{Name: "ingress", Kind: ObjectList, Elem: sgRuleElem, Check: sgCheckRules,
			Doc: "Inbound rules; the group holds exactly these (rules added outside envctl are revoked). Left out: not managed."},
		{Name: "egress", Kind: ObjectList, Elem: sgRuleElem, Check: sgCheckRules,
			Doc: "Outbound rules; left out, the group keeps whatever it has (AWS starts it with allow-all)."},
		{Name: "tags", Kind: Tags, Doc: "Tags of the group, besides envctl's ownership tags."},
	},
	Exports:   []string{"id"},
	Normalize: sgNormalize,
}

// securityGroupDriver manages a VPC security group, found by name within
// its VPC.
//
// ingress, egress and tags update in place: only the rules that differ are
// authorized or revoked (a rule whose description alone changed gets its
// description updated). name, description and vpc_id force a replacement.
// Delete waits until no network interface or instance uses the group.
type securityGroupDriver struct {
	c *awsapi.Clients

	mu         sync.Mutex
	defaultVPC string
}

func newSecurityGroup(c *awsapi.Clients) Driver { return &securityGroupDriver{c: c} }

func (d *securityGroupDriver) Schema() *Schema { return securityGroupSchema }

// Find looks the group up by name in its VPC (the default VPC when the
// target names none).
func (d *securityGroupDriver) Find(ctx context.Context, t Target) (*Live, error) {
	name, _ := t.Attrs["name"].(string)
	if name == "" {
		return nil, errors.New("find security group: name is not known")
	}
	vpc, err := d.vpcOf(ctx, t.Attrs)
	if err != nil {
		return nil, fmt.Errorf("find security group %q: %w", name, err)
	}
	sg, err := d.byName(ctx, name, vpc)
	if err != nil {
		return nil, fmt.Errorf("find security group %q in %s: %w", name, vpc, err)
	}
	if sg == nil {
		return nil, nil
	}
	return sgLive(sg), nil
}

// List returns every group tagged envctl:env=env, in any VPC.
func (d *securityGroupDriver) List(ctx context.Context, env string) ([]*Live, error) {
	groups, err := d.describe(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{ec2Filter("tag:"+TagEnv, env)}})
	if err != nil {
		return nil, fmt.Errorf("list security groups of env %s: %w", env, err)
	}
	out := make([]*Live, 0, len(groups))
	for i := range groups {
		out = append(out, sgLive(&groups[i]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Handle < out[j].Handle })
	return out, nil
}

// Create creates the group with its tags, then authorizes the declared
// rules. A group of that name that already carries this resource's
// ownership tags (an earlier attempt) is taken as created.
func (d *securityGroupDriver) Create(ctx context.Context, t Target) (*Live, error) {
	name, _ := t.Attrs["name"].(string)
	if name == "" {
		return nil, errors.New("create security group: name is not known")
	}
	vpc, err := d.vpcOf(ctx, t.Attrs)
	if err != nil {
		return nil, fmt.Errorf("create security group %q: %w", name, err)
	}
	desc, _ := t.Attrs["description"].(string)
	if desc == "" {
		desc = sgDefaultDescription
	}
	tags := TagMap(t.Attrs["tags"])
	var id string
	out, err := d.c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:         aws.String(name),
		Description:       aws.String(desc),
		VpcId:             aws.String(vpc),
		TagSpecifications: ec2TagSpecs(tags, types.ResourceTypeSecurityGroup),
	})
	switch {
	case err == nil:
		id = aws.ToString(out.GroupId)
	case awsapi.IsCode(err, sgDuplicateCode):
		sg, ferr := d.byName(ctx, name, vpc)
		if ferr != nil || sg == nil {
			return nil, fmt.Errorf("create security group %q in %s: %w", name, vpc, err)
		}
		have := ec2TagMap(sg.Tags)
		if have[TagEnv] != tags[TagEnv] || have[TagID] != tags[TagID] {
			return nil, fmt.Errorf("create security group %q in %s: a group of that name already exists (%s) and is not owned by %s/%s; adopt it or choose another name",
				name, vpc, aws.ToString(sg.GroupId), tags[TagEnv], tags[TagID])
		}
		id = aws.ToString(sg.GroupId)
	default:
		return nil, fmt.Errorf("create security group %q in %s: %w", name, vpc, err)
	}
	var changed []string
	for _, dir := range []string{"ingress", "egress"} {
		if _, ok := t.Attrs[dir]; ok {
			changed = append(changed, dir)
		}
	}
	if err := d.syncRules(ctx, id, t.Attrs, changed, true); err != nil {
		return nil, fmt.Errorf("create security group %q (%s): %w", name, id, err)
	}
	sg, err := d.read(ctx, id, true)
	if err != nil || sg == nil {
		return nil, fmt.Errorf("create security group %q (%s): read back: %w", name, id, errOrGone(err))
	}
	return sgLive(sg), nil
}

// Update authorizes and revokes the rule differences and updates tags.
func (d *securityGroupDriver) Update(ctx context.Context, live *Live, t Target, changed []string) (*Live, error) {
	id := live.Handle
	var rules []string
	for _, name := range changed {
		switch name {
		case "ingress", "egress":
			rules = append(rules, name)
		case "tags":
			if err := ec2UpdateTags(ctx, d.c.EC2, id, live.Tags(), TagMap(t.Attrs["tags"])); err != nil {
				return nil, fmt.Errorf("update security group %s: %w", id, err)
			}
		default:
			return nil, fmt.Errorf("update security group %s: %s cannot change in place (it forces a replacement)", id, name)
		}
	}
	if err := d.syncRules(ctx, id, t.Attrs, rules, false); err != nil {
		return nil, fmt.Errorf("update security group %s: %w", id, err)
	}
	sg, err := d.read(ctx, id, false)
	if err != nil || sg == nil {
		return nil, fmt.Errorf("update security group %s: read back: %w", id, errOrGone(err))
	}
	return sgLive(sg), nil
}

// Delete waits until nothing uses the group, then deletes it. A group
// already gone is success.
func (d *securityGroupDriver) Delete(ctx context.Context, live *Live) error {
	id := live.Handle
	deadline := time.Now().Add(sgDeleteTimeout)
	delay := sgDeletePoll
	for {
		h, err := d.holders(ctx, id)
		if err != nil {
			return fmt.Errorf("delete security group %s: %w", id, err)
		}
		var lastErr error
		if h.empty() {
			_, err := d.c.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
			if err == nil || awsapi.IsNotFound(err) {
				return nil
			}
			if !awsapi.IsCode(err, sgDependencyCode) {
				return fmt.Errorf("delete security group %s: %w", id, err)
			}
			lastErr = err // an interface still being torn down
		}
		if time.Now().After(deadline) {
			if h.empty() {
				return fmt.Errorf("delete security group %s: still in use after %s: %w", id, sgDeleteTimeout, lastErr)
			}
			return fmt.Errorf("delete security group %s: still in use after %s by %s", id, sgDeleteTimeout, h)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("delete security group %s: waiting for %s: %w", id, h, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, sgDeleteMaxPoll)
	}
}

// sgHolders are what keeps a group from being deleted.
type sgHolders struct {
	enis      []string // network interfaces, with what they are attached to
	instances []string // non-terminated instances, with their state
}

func (h sgHolders) empty() bool { return len(h.enis) == 0 && len(h.instances) == 0 }

func (h sgHolders) String() string {
	var parts []string
	if len(h.instances) > 0 {
		parts = append(parts, "instances "+strings.Join(h.instances, ", "))
	}
	if len(h.enis) > 0 {
		parts = append(parts, "network interfaces "+strings.Join(h.enis, ", "))
	}
	if len(parts) == 0 {
		return "nothing envctl can see"
	}
	return strings.Join(parts, "; ")
}

// holders lists the non-terminated instances and the network interfaces
// that use the group. An interface attached to an instance that is already
// terminated is left out: AWS deletes it with the instance, and until it
// has, DeleteSecurityGroup answers DependencyViolation, which Delete waits
// out.
func (d *securityGroupDriver) holders(ctx context.Context, id string) (sgHolders, error) {
	var h sgHolders
	insts, err := ec2Instances(ctx, d.c.EC2, []types.Filter{ec2Filter("instance.group-id", id), ec2Filter("instance-state-name", instAliveStates...)})
	if err != nil {
		return h, fmt.Errorf("list instances using it: %w", err)
	}
	alive := map[string]bool{}
	for _, in := range insts {
		iid := aws.ToString(in.InstanceId)
		alive[iid] = true
		h.instances = append(h.instances, fmt.Sprintf("%s (%s)", iid, instState(&in)))
	}
	var enis []types.NetworkInterface
	p := ec2.NewDescribeNetworkInterfacesPaginator(d.c.EC2, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{ec2Filter("group-id", id)}})
	for page := 0; p.HasMorePages() && page < ec2MaxPages; page++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			return h, fmt.Errorf("list network interfaces using it: %w", err)
		}
		enis = append(enis, out.NetworkInterfaces...)
	}
	// The states of instances the interfaces are attached to, where the
	// group filter above did not already report them.
	var others []string
	for _, e := range enis {
		if e.Attachment != nil && e.Attachment.InstanceId != nil && !alive[*e.Attachment.InstanceId] {
			others = append(others, *e.Attachment.InstanceId)
		}
	}
	if len(others) > 0 {
		more, err := ec2Instances(ctx, d.c.EC2, []types.Filter{ec2Filter("instance-id", others...), ec2Filter("instance-state-name", instAliveStates...)})
		if err != nil {
			return h, fmt.Errorf("read instances of network interfaces using it: %w", err)
		}
		for _, in := range more {
			alive[aws.ToString(in.InstanceId)] = true
		}
	}
	for _, e := range enis {
		eid := aws.ToString(e.NetworkInterfaceId)
		switch {
		case e.Attachment == nil || e.Attachment.InstanceId == nil:
			what := string(e.InterfaceType)
			if what == "" || what == "interface" {
				what = aws.ToString(e.Description)
			}
			if what == "" {
				what = string(e.Status)
			}
			h.enis = append(h.enis, fmt.Sprintf("%s (%s)", eid, what))
		case alive[*e.Attachment.InstanceId]:
			h.enis = append(h.enis, fmt.Sprintf("%s (attached to %s)", eid, *e.Attachment.InstanceId))
		}
	}
	sort.Strings(h.enis)
	sort.Strings(h.instances)
	return h, nil
}

// vpcOf returns the target's vpc_id, or the region's default VPC.
func (d *securityGroupDriver) vpcOf(ctx context.Context, attrs Attrs) (string, error) {
	if v, _ := attrs["vpc_id"].(string); v != "" {
		return v, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.defaultVPC != "" {
		return d.defaultVPC, nil
	}
	out, err := d.c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{ec2Filter("isDefault", "true")}})
	if err != nil {
		return "", fmt.Errorf("find the default VPC: %w", err)
	}
	if len(out.Vpcs) == 0 {
		return "", fmt.Errorf("region %s has no default VPC; set vpc_id", d.c.Region)
	}
	d.defaultVPC = aws.ToString(out.Vpcs[0].VpcId)
	return d.defaultVPC, nil
}

func (d *securityGroupDriver) byName(ctx context.Context, name, vpc string) (*types.SecurityGroup, error) {
	groups, err := d.describe(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		ec2Filter("group-name", name), ec2Filter("vpc-id", vpc),
	}})
	if err != nil {
		return nil, err
	}
	for i := range groups {
		if aws.ToString(groups[i].GroupName) == name {
			return &groups[i], nil
		}
	}
	return nil, nil
}

// read describes one group by id; nil when it is gone. fresh: the group
// was just created, so a not-found answer is retried for a while.
func (d *securityGroupDriver) read(ctx context.Context, id string, fresh bool) (*types.SecurityGroup, error) {
	var groups []types.SecurityGroup
	call := func(ctx context.Context) error {
		var err error
		groups, err = d.describe(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
		return err
	}
	var err error
	if fresh {
		err = awsapi.EC2Create.Retry(ctx, call)
	} else {
		err = call(ctx)
	}
	if awsapi.IsNotFound(err) || (err == nil && len(groups) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &groups[0], nil
}

func (d *securityGroupDriver) describe(ctx context.Context, in *ec2.DescribeSecurityGroupsInput) ([]types.SecurityGroup, error) {
	var out []types.SecurityGroup
	p := ec2.NewDescribeSecurityGroupsPaginator(d.c.EC2, in)
	for page := 0; p.HasMorePages() && page < ec2MaxPages; page++ {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, o.SecurityGroups...)
	}
	return out, nil
}

// syncRules brings the named rule directions ("ingress", "egress") of the
// group to attrs: it reads the live rules, authorizes the missing ones
// first (so traffic allowed before and after is never cut), updates
// descriptions, and revokes the extra ones last.
func (d *securityGroupDriver) syncRules(ctx context.Context, id string, attrs Attrs, dirs []string, fresh bool) error {
	if len(dirs) == 0 {
		return nil
	}
	sg, err := d.read(ctx, id, fresh)
	if err != nil {
		return fmt.Errorf("read rules: %w", err)
	}
	if sg == nil {
		return errors.New("the group no longer exists")
	}
	for _, dir := range dirs {
		egress := dir == "egress"
		live := sgTuplesOf(sg.IpPermissions)
		if egress {
			live = sgTuplesOf(sg.IpPermissionsEgress)
		}
		want := sgExpand(objectList(attrs[dir]))
		add, redesc, remove := sgDiff(live, want)
		if err := d.authorize(ctx, id, egress, add); err != nil {
			return fmt.Errorf("%s: authorize %s: %w", dir, sgDescribeTuples(add), err)
		}
		if len(redesc) > 0 {
			perms := sgPermissions(redesc, true)
			if egress {
				_, err = d.c.EC2.UpdateSecurityGroupRuleDescriptionsEgress(ctx, &ec2.UpdateSecurityGroupRuleDescriptionsEgressInput{GroupId: aws.String(id), IpPermissions: perms})
			} else {
				_, err = d.c.EC2.UpdateSecurityGroupRuleDescriptionsIngress(ctx, &ec2.UpdateSecurityGroupRuleDescriptionsIngressInput{GroupId: aws.String(id), IpPermissions: perms})
			}
			if err != nil {
				return fmt.Errorf("%s: update descriptions of %s: %w", dir, sgDescribeTuples(redesc), err)
			}
		}
		if err := d.revoke(ctx, id, egress, remove); err != nil {
			return fmt.Errorf("%s: revoke %s: %w", dir, sgDescribeTuples(remove), err)
		}
	}
	return nil
}

// authorize adds rules. A rule that exists already (a concurrent change, a
// retried apply) is not an error: the rules are then added one at a time.
func (d *securityGroupDriver) authorize(ctx context.Context, id string, egress bool, rules []sgTuple) error {
	if len(rules) == 0 {
		return nil
	}
	call := func(rules []sgTuple) error {
		var err error
		if egress {
			_, err = d.c.EC2.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(id), IpPermissions: sgPermissions(rules, true)})
		} else {
			_, err = d.c.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: sgPermissions(rules, true)})
		}
		return err
	}
	err := call(rules)
	if !awsapi.IsCode(err, sgPermDuplicateCode) {
		return err
	}
	for _, r := range rules {
		if err := call([]sgTuple{r}); err != nil && !awsapi.IsCode(err, sgPermDuplicateCode) {
			return err
		}
	}
	return nil
}

// revoke removes rules; one already gone is not an error.
func (d *securityGroupDriver) revoke(ctx context.Context, id string, egress bool, rules []sgTuple) error {
	if len(rules) == 0 {
		return nil
	}
	call := func(rules []sgTuple) error {
		var err error
		if egress {
			_, err = d.c.EC2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(id), IpPermissions: sgPermissions(rules, false)})
		} else {
			_, err = d.c.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: sgPermissions(rules, false)})
		}
		return err
	}
	err := call(rules)
	if !awsapi.IsCode(err, sgPermNotFoundCode) {
		return err
	}
	for _, r := range rules {
		if err := call([]sgTuple{r}); err != nil && !awsapi.IsCode(err, sgPermNotFoundCode) {
			return err
		}
	}
	return nil
}

func sgLive(sg *types.SecurityGroup) *Live {
	id := aws.ToString(sg.GroupId)
	return &Live{
		Handle: id,
		Attrs: Attrs{
			"name":        aws.ToString(sg.GroupName),
			"description": aws.ToString(sg.Description),
			"vpc_id":      aws.ToString(sg.VpcId),
			"ingress":     sgGroup(sgTuplesOf(sg.IpPermissions)),
			"egress":      sgGroup(sgTuplesOf(sg.IpPermissionsEgress)),
			"tags":        ec2TagMap(sg.Tags),
		},
		Exports: map[string]string{"id": id},
	}
}

// sgTuple is one rule in its smallest form: one protocol, port range and
// source (or destination). from and to are -1 when the protocol has no
// ports (-1) or the rule covers all ICMP types or codes.
type sgTuple struct {
	proto    string
	from, to int64
	source   string // a CIDR, or a security group (sg-…) or prefix list (pl-…) id read from AWS
	desc     string
}

// key identifies a rule as AWS does: the description is not part of it.
func (r sgTuple) key() string {
	return fmt.Sprintf("%s|%d|%d|%s", r.proto, r.from, r.to, r.source)
}

func (r sgTuple) portText() string {
	switch {
	case r.proto == "-1":
		return "all traffic"
	case r.from == -1 && r.to == -1:
		return "all " + r.proto
	case r.proto == "icmp" && r.to == -1:
		return fmt.Sprintf("icmp type %d", r.from)
	case r.proto == "icmp":
		return fmt.Sprintf("icmp type %d code %d", r.from, r.to)
	case r.from == r.to:
		return fmt.Sprintf("%s %d", r.proto, r.from)
	}
	return fmt.Sprintf("%s %d-%d", r.proto, r.from, r.to)
}

func sgDescribeTuples(rules []sgTuple) string {
	parts := make([]string, 0, len(rules))
	for _, r := range rules {
		parts = append(parts, r.portText()+" "+r.source)
	}
	return strings.Join(parts, ", ")
}

// NormalizeRules brings security-group rules to one canonical form, so that
// rules equal in meaning compare equal: it expands every rule into single
// (protocol, port range, network, description) entries, drops duplicates,
// and regroups them into one rule per protocol, port range and description
// with its cidrs sorted, the rules sorted by protocol, ports and
// description. A single port reads as "port", a range as "ports": "a-b", an
// empty description is left out, and a range of one port reads as "port".
// The result is what Find reports for a group's rules; rules in the file
// normalize to the same value when they mean the same.
func NormalizeRules(rules []map[string]any) []map[string]any {
	return sgGroup(sgExpand(rules))
}

func sgNormalize(attr string, v any) any {
	if attr != "ingress" && attr != "egress" {
		return v
	}
	switch v.(type) {
	case []map[string]any, []any:
		return NormalizeRules(objectList(v))
	}
	return v
}

// sgProtocolNames maps the protocol numbers AWS also accepts to the names
// it reports.
var sgProtocolNames = map[string]string{"6": "tcp", "17": "udp", "1": "icmp", "all": "-1"}

func sgProto(v any) string {
	p, _ := v.(string)
	p = strings.ToLower(strings.TrimSpace(p))
	if p == "" {
		return "tcp"
	}
	if n, ok := sgProtocolNames[p]; ok {
		return n
	}
	return p
}

// sgExpand turns declared rules into tuples, without duplicates.
func sgExpand(rules []map[string]any) []sgTuple {
	var out []sgTuple
	seen := map[sgTuple]bool{}
	for _, r := range rules {
		proto := sgProto(r["protocol"])
		from, to := sgPorts(proto, r)
		desc, _ := r["description"].(string)
		for _, c := range sgStrings(r["cidrs"]) {
			t := sgTuple{proto: proto, from: from, to: to, source: sgCanonSource(c), desc: desc}
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// sgPorts reads port or ports of a declared rule as AWS's FromPort/ToPort.
func sgPorts(proto string, r map[string]any) (from, to int64) {
	if proto == "-1" {
		return -1, -1
	}
	port, hasPort := intValue(r["port"])
	ports, _ := r["ports"].(string)
	if proto == "icmp" {
		switch {
		case hasPort:
			return port, -1
		case ports != "":
			if a, b, ok := sgParseRange(ports); ok {
				return a, b
			}
		}
		return -1, -1
	}
	switch {
	case hasPort:
		return port, port
	case ports != "":
		if a, b, ok := sgParseRange(ports); ok {
			return a, b
		}
	}
	return 0, 65535
}

// sgParseRange parses "a-b" (or a single number).
func sgParseRange(s string) (int64, int64, bool) {
	s = strings.TrimSpace(s)
	a, b, found := strings.Cut(s, "-")
	from, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	if !found {
		return from, from, err1 == nil
	}
	to, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	return from, to, err1 == nil && err2 == nil
}

func sgStrings(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		return []string{x}
	}
	return nil
}

// sgCanonSource writes a CIDR in its canonical form (lowercase IPv6,
// host bits as written); other sources stay as they are.
func sgCanonSource(s string) string {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.String()
	}
	return s
}

// sgGroup regroups tuples into declared-rule shape, in canonical order.
func sgGroup(tuples []sgTuple) []map[string]any {
	type groupKey struct {
		proto    string
		from, to int64
		desc     string
	}
	sources := map[groupKey]map[string]bool{}
	var keys []groupKey
	for _, t := range tuples {
		k := groupKey{t.proto, t.from, t.to, t.desc}
		if sources[k] == nil {
			sources[k] = map[string]bool{}
			keys = append(keys, k)
		}
		sources[k][t.source] = true
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.proto != b.proto {
			return a.proto < b.proto
		}
		if a.from != b.from {
			return a.from < b.from
		}
		if a.to != b.to {
			return a.to < b.to
		}
		return a.desc < b.desc
	})
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		rule := map[string]any{"protocol": k.proto, "cidrs": SortedKeys(sources[k])}
		switch {
		case k.from == -1 && k.to == -1:
		case k.proto == "icmp" && k.to == -1:
			rule["port"] = k.from
		case k.proto != "icmp" && k.from == k.to:
			rule["port"] = k.from
		default:
			rule["ports"] = fmt.Sprintf("%d-%d", k.from, k.to)
		}
		if k.desc != "" {
			rule["description"] = k.desc
		}
		out = append(out, rule)
	}
	return out
}

// sgTuplesOf expands live permissions into tuples.
func sgTuplesOf(perms []types.IpPermission) []sgTuple {
	var out []sgTuple
	for _, p := range perms {
		proto := sgProto(aws.ToString(p.IpProtocol))
		from, to := int64(-1), int64(-1)
		if proto != "-1" {
			if p.FromPort != nil {
				from = int64(*p.FromPort)
			}
			if p.ToPort != nil {
				to = int64(*p.ToPort)
			}
		}
		add := func(source string, desc *string) {
			out = append(out, sgTuple{proto: proto, from: from, to: to, source: sgCanonSource(source), desc: aws.ToString(desc)})
		}
		for _, r := range p.IpRanges {
			add(aws.ToString(r.CidrIp), r.Description)
		}
		for _, r := range p.Ipv6Ranges {
			add(aws.ToString(r.CidrIpv6), r.Description)
		}
		for _, r := range p.PrefixListIds {
			add(aws.ToString(r.PrefixListId), r.Description)
		}
		for _, g := range p.UserIdGroupPairs {
			add(aws.ToString(g.GroupId), g.Description)
		}
	}
	return out
}

// sgDiff compares live and wanted tuples by AWS's rule identity.
func sgDiff(live, want []sgTuple) (add, redesc, remove []sgTuple) {
	liveBy := map[string]sgTuple{}
	for _, t := range live {
		liveBy[t.key()] = t
	}
	wantBy := map[string]bool{}
	for _, t := range want {
		if wantBy[t.key()] {
			continue // the same rule twice with two descriptions: the first wins
		}
		wantBy[t.key()] = true
		l, ok := liveBy[t.key()]
		switch {
		case !ok:
			add = append(add, t)
		case l.desc != t.desc:
			redesc = append(redesc, t)
		}
	}
	for _, t := range live {
		if !wantBy[t.key()] {
			remove = append(remove, t)
		}
	}
	return add, redesc, remove
}

// sgPermissions builds one IpPermission per tuple; descriptions only when
// withDesc (revoking matches rules without them).
func sgPermissions(rules []sgTuple, withDesc bool) []types.IpPermission {
	out := make([]types.IpPermission, 0, len(rules))
	for _, r := range rules {
		p := types.IpPermission{IpProtocol: aws.String(r.proto)}
		if r.proto != "-1" {
			p.FromPort = aws.Int32(int32(r.from))
			p.ToPort = aws.Int32(int32(r.to))
		}
		var desc *string
		if withDesc && r.desc != "" {
			desc = aws.String(r.desc)
		}
		switch {
		case strings.HasPrefix(r.source, "sg-"):
			p.UserIdGroupPairs = []types.UserIdGroupPair{{GroupId: aws.String(r.source), Description: desc}}
		case strings.HasPrefix(r.source, "pl-"):
			p.PrefixListIds = []types.PrefixListId{{PrefixListId: aws.String(r.source), Description: desc}}
		case strings.Contains(r.source, ":"):
			p.Ipv6Ranges = []types.Ipv6Range{{CidrIpv6: aws.String(r.source), Description: desc}}
		default:
			p.IpRanges = []types.IpRange{{CidrIp: aws.String(r.source), Description: desc}}
		}
		out = append(out, p)
	}
	return out
}

// Validation.

// sgTextChars are the characters AWS allows in VPC security group names and
// descriptions.
var sgTextChars = regexp.MustCompile(`^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$`)

func sgCheckName(v any) error {
	s, _ := v.(string)
	switch {
	case s == "":
		return errors.New("expected a security group name")
	case len(s) > 255:
		return fmt.Errorf("expected at most 255 characters, got %d", len(s))
	case strings.HasPrefix(strings.ToLower(s), "sg-"):
		return fmt.Errorf("a security group name may not start with sg- (got %q)", s)
	case !sgTextChars.MatchString(s):
		return fmt.Errorf("expected letters, digits, spaces and ._-:/()#,@[]+=&;{}!$* only, got %q", s)
	}
	return nil
}

func sgCheckDescription(v any) error {
	s, _ := v.(string)
	switch {
	case s == "":
		return errors.New("expected a non-empty description")
	case len(s) > 255:
		return fmt.Errorf("expected at most 255 characters, got %d", len(s))
	case !sgTextChars.MatchString(s):
		return fmt.Errorf("expected letters, digits, spaces and ._-:/()#,@[]+=&;{}!$* only, got %q", s)
	}
	return nil
}

func sgCheckRuleDescription(v any) error {
	s, _ := v.(string)
	if s == "" {
		return nil
	}
	return sgCheckDescription(s)
}

var sgVPCID = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)

func sgCheckVPCID(v any) error {
	s, _ := v.(string)
	if !sgVPCID.MatchString(s) {
		return fmt.Errorf("expected a VPC id such as vpc-0123456789abcdef0, got %q", s)
	}
	return nil
}

func sgCheckProtocol(v any) error {
	s, _ := v.(string)
	switch s {
	case "tcp", "udp", "icmp", "-1":
		return nil
	}
	return fmt.Errorf("expected tcp, udp, icmp or -1 (all traffic), got %q", s)
}

func sgCheckPort(v any) error {
	n, ok := intValue(v)
	if !ok || n < 0 || n > 65535 {
		return fmt.Errorf("expected a port from 0 to 65535, got %v", v)
	}
	return nil
}

func sgCheckPortRange(v any) error {
	s, _ := v.(string)
	a, b, ok := sgParseRange(s)
	if !ok || !strings.Contains(s, "-") || a < 0 || b > 65535 || a > b {
		return fmt.Errorf("expected a port range such as 8000-8100 (from 0 to 65535, low to high), got %q", s)
	}
	return nil
}

func sgCheckCIDRs(v any) error {
	list := sgStrings(v)
	if len(list) == 0 {
		return errors.New("expected at least one CIDR, such as 0.0.0.0/0")
	}
	for _, c := range list {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return fmt.Errorf("expected a CIDR such as 203.0.113.10/32, got %q", c)
		}
		if p.Masked() != p {
			return fmt.Errorf("%q has host bits set; expected the network address %s", c, p.Masked())
		}
	}
	return nil
}

// sgCheckRules checks each rule as a whole: which port fields its protocol
// takes, and that no network appears twice for the same protocol and ports.
func sgCheckRules(v any) error {
	seen := map[string]string{}
	for i, r := range objectList(v) {
		proto := sgProto(r["protocol"])
		if err := sgCheckProtocol(proto); err != nil {
			return fmt.Errorf("rule %d: protocol: %w", i+1, err)
		}
		_, hasPort := r["port"]
		_, hasPorts := r["ports"]
		switch proto {
		case "tcp", "udp":
			if hasPort == hasPorts {
				return fmt.Errorf("rule %d: a %s rule needs port or ports (one of them)", i+1, proto)
			}
		case "icmp":
			if hasPorts {
				return fmt.Errorf("rule %d: an icmp rule takes port (the ICMP type), not ports", i+1)
			}
			if n, ok := intValue(r["port"]); hasPort && (!ok || n < 0 || n > 255) {
				return fmt.Errorf("rule %d: expected an ICMP type from 0 to 255, got %v", i+1, r["port"])
			}
		case "-1":
			if hasPort || hasPorts {
				return fmt.Errorf("rule %d: protocol -1 covers all ports; leave port and ports out", i+1)
			}
		}
		if err := sgCheckCIDRs(r["cidrs"]); err != nil {
			return fmt.Errorf("rule %d: cidrs: %w", i+1, err)
		}
		for _, t := range sgExpand([]map[string]any{r}) {
			if prev, ok := seen[t.key()]; ok && prev != t.desc {
				return fmt.Errorf("rule %d: %s from %s is declared twice with different descriptions", i+1, t.portText(), t.source)
			}
			seen[t.key()] = t.desc
		}
	}
	return nil
}

// EC2 helpers shared by the ec2_security_group, ec2_instance and
// elastic_ip drivers.

func ec2Filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// ec2OwnerFilters select resources by envctl's ownership tags.
func ec2OwnerFilters(env, id string) []types.Filter {
	return []types.Filter{ec2Filter("tag:"+TagEnv, env), ec2Filter("tag:"+TagID, id)}
}

func ec2TagMap(tags []types.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

func ec2Tags(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for _, k := range SortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// ec2TagSpecs tags each resource type a create call makes with the same
// tags; nil when there are none (EC2 refuses an empty tag list).
func ec2TagSpecs(tags map[string]string, kinds ...types.ResourceType) []types.TagSpecification {
	if len(tags) == 0 {
		return nil
	}
	out := make([]types.TagSpecification, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, types.TagSpecification{ResourceType: k, Tags: ec2Tags(tags)})
	}
	return out
}

// ec2UpdateTags sets the desired tags and removes the envctl:* ones no
// longer desired (see TagDelta).
func ec2UpdateTags(ctx context.Context, c *ec2.Client, id string, live, desired map[string]string) error {
	set, remove := TagDelta(live, desired)
	if len(set) > 0 {
		if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: ec2Tags(set)}); err != nil {
			return fmt.Errorf("set tags: %w", err)
		}
	}
	if len(remove) > 0 {
		tags := make([]types.Tag, 0, len(remove))
		for _, k := range remove {
			tags = append(tags, types.Tag{Key: aws.String(k)})
		}
		if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: tags}); err != nil {
			return fmt.Errorf("remove tags %s: %w", strings.Join(remove, ", "), err)
		}
	}
	return nil
}

// ec2Instances describes the instances the filters select, all pages.
func ec2Instances(ctx context.Context, c *ec2.Client, filters []types.Filter) ([]types.Instance, error) {
	var out []types.Instance
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{Filters: filters})
	for page := 0; p.HasMorePages() && page < ec2MaxPages; page++ {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range o.Reservations {
			out = append(out, r.Instances...)
		}
	}
	return out, nil
}

// errOrGone names a read-back that found nothing.
func errOrGone(err error) error {
	if err != nil {
		return err
	}
	return errors.New("it is gone")
}
