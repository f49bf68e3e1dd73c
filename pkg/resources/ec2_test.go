package resources_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/google/go-cmp/cmp"

	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/awsapi"
	"github.com/litentry/envctl/pkg/resources"
)

const ec2TestEnv = "test"

// ec2TestTarget builds a target the way the engine does: desired attributes
// with the ownership tags added.
func ec2TestTarget(id string, attrs resources.Attrs) resources.Target {
	t := resources.Target{Env: ec2TestEnv, ID: id, Attrs: resources.Attrs{}}
	for k, v := range attrs {
		t.Attrs[k] = v
	}
	tags := resources.TagMap(t.Attrs["tags"])
	tags[resources.TagEnv] = ec2TestEnv
	tags[resources.TagID] = id
	t.Attrs["tags"] = tags
	return t
}

// ec2TestAMI returns an AMI id from moto's catalogue.
func ec2TestAMI(t *testing.T, c *awsapi.Clients) string {
	t.Helper()
	out, err := c.EC2.DescribeImages(context.Background(), &ec2.DescribeImagesInput{})
	if err != nil || len(out.Images) == 0 {
		t.Fatalf("DescribeImages = %d images, %v", len(out.Images), err)
	}
	return aws.ToString(out.Images[0].ImageId)
}

// ec2TestGroup creates a bare security group out of band.
func ec2TestGroup(t *testing.T, c *awsapi.Clients, name string) string {
	t.Helper()
	out, err := c.EC2.CreateSecurityGroup(context.Background(), &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("test")})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.GroupId)
}

// ec2TestLaunch runs an instance out of band.
func ec2TestLaunch(t *testing.T, c *awsapi.Clients, ami string, groups []string, tags map[string]string) string {
	t.Helper()
	in := &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SecurityGroupIds: groups}
	if len(tags) > 0 {
		var ts []types.Tag
		for k, v := range tags {
			ts = append(ts, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: ts}}
	}
	out, err := c.EC2.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

func ec2TestInstance(t *testing.T, c *awsapi.Clients, id string) types.Instance {
	t.Helper()
	out, err := c.EC2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) == 0 || len(out.Reservations[0].Instances) == 0 {
		t.Fatalf("describe instance %s: %v", id, err)
	}
	return out.Reservations[0].Instances[0]
}

// ec2TestAlive lists the non-terminated instances carrying the env/id tags.
func ec2TestAlive(t *testing.T, c *awsapi.Clients, id string) []string {
	t.Helper()
	out, err := c.EC2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("tag:" + resources.TagEnv), Values: []string{ec2TestEnv}},
		{Name: aws.String("tag:" + resources.TagID), Values: []string{id}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	slices.Sort(ids)
	return ids
}

// conformanceTags are desired tags in an update of runConformance, which
// must keep its ownership tags (env "conf", id "res").
func conformanceTags(k, v string) map[string]string {
	return map[string]string{k: v, resources.TagEnv: "conf", resources.TagID: "res"}
}

func ec2WantAttr(t *testing.T, live *resources.Live, attr string, want any) {
	t.Helper()
	if diff := cmp.Diff(want, live.Attrs[attr]); diff != "" {
		t.Errorf("Live.Attrs[%q] (-want +got):\n%s", attr, diff)
	}
}

func rule(proto string, port any, desc string, cidrs ...string) map[string]any {
	r := map[string]any{"protocol": proto, "cidrs": cidrs}
	switch p := port.(type) {
	case int:
		r["port"] = int64(p)
	case string:
		r["ports"] = p
	}
	if desc != "" {
		r["description"] = desc
	}
	return r
}

// --- ec2_security_group -----------------------------------------------------

func TestSecurityGroupConformance(t *testing.T) {
	ingress := []map[string]any{
		rule("tcp", 443, "HTTPS", "0.0.0.0/0"),
		rule("tcp", 22, "admin SSH", "203.0.113.10/32"),
	}
	updated := []map[string]any{
		rule("tcp", 443, "HTTPS", "0.0.0.0/0", "::/0"),
		rule("udp", "8000-8100", "", "10.0.0.0/8"),
	}
	runConformance(t, conformanceCase{
		Type: "ec2_security_group",
		Create: resources.Attrs{
			"name":        "conf-web",
			"description": "managed by envctl",
			"ingress":     ingress,
			"tags":        map[string]string{"team": "broker"},
		},
		CheckCreated: func(t *testing.T, live *resources.Live) {
			ec2WantAttr(t, live, "name", "conf-web")
			ec2WantAttr(t, live, "description", "managed by envctl")
			ec2WantAttr(t, live, "ingress", resources.NormalizeRules(ingress))
			// egress is not declared: AWS's default allow-all stays.
			ec2WantAttr(t, live, "egress", []map[string]any{{"protocol": "-1", "cidrs": []string{"0.0.0.0/0"}}})
			if v, _ := live.Attrs["vpc_id"].(string); !strings.HasPrefix(v, "vpc-") {
				t.Errorf("vpc_id = %q, want the default VPC", v)
			}
			if live.Exports["id"] != live.Handle {
				t.Errorf("export id = %q, handle %q", live.Exports["id"], live.Handle)
			}
		},
		Update:  resources.Attrs{"ingress": updated, "egress": []map[string]any{}, "tags": conformanceTags("team", "mail")},
		Changed: []string{"ingress", "egress", "tags"},
		CheckUpdated: func(t *testing.T, live *resources.Live) {
			ec2WantAttr(t, live, "ingress", resources.NormalizeRules(updated))
			ec2WantAttr(t, live, "egress", []map[string]any{})
			if got := live.Tags()["team"]; got != "mail" {
				t.Errorf("tag team = %q, want mail", got)
			}
		},
	})
}

// ruleIDs maps each live rule (protocol, ports, network) to its AWS rule id,
// so a test can tell a rule kept from one revoked and authorized again.
func ruleIDs(t *testing.T, c *awsapi.Clients, group string, egress bool) map[string]string {
	t.Helper()
	out, err := c.EC2.DescribeSecurityGroupRules(context.Background(), &ec2.DescribeSecurityGroupRulesInput{
		Filters: []types.Filter{{Name: aws.String("group-id"), Values: []string{group}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, r := range out.SecurityGroupRules {
		if aws.ToBool(r.IsEgress) != egress {
			continue
		}
		cidr := aws.ToString(r.CidrIpv4) + aws.ToString(r.CidrIpv6)
		key := aws.ToString(r.IpProtocol) + " " + itoa(aws.ToInt32(r.FromPort)) + "-" + itoa(aws.ToInt32(r.ToPort)) + " " + cidr
		ids[key] = aws.ToString(r.SecurityGroupRuleId)
	}
	return ids
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func TestSecurityGroupRuleDiff(t *testing.T) {
	ds, c := drivers(t)
	d := ds["ec2_security_group"]
	ctx := moto.Context(t)

	initial := []map[string]any{
		rule("tcp", 443, "HTTPS", "0.0.0.0/0"),
		rule("tcp", 80, "ACME", "0.0.0.0/0"),
		rule("tcp", 22, "admin SSH", "203.0.113.10/32"),
	}
	target := ec2TestTarget("web", resources.Attrs{"name": "web", "description": "managed by envctl", "ingress": initial})
	live, err := d.Create(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	group := live.Handle

	// Out of band: someone opens MySQL to a private range.
	if _, err := c.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(group), IpPermissions: []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(3306), ToPort: aws.Int32(3306),
		IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}},
	}}}); err != nil {
		t.Fatal(err)
	}
	found, err := d.Find(ctx, target)
	if err != nil || found == nil {
		t.Fatalf("Find = %v, %v", found, err)
	}
	want := append(resources.NormalizeRules(initial), rule("tcp", 3306, "", "10.0.0.0/8"))
	if diff := cmp.Diff(resources.NormalizeRules(want), found.Attrs["ingress"]); diff != "" {
		t.Fatalf("ingress with the out-of-band rule (-want +got):\n%s", diff)
	}
	before := ruleIDs(t, c, group, false)

	// Desired now: 443 unchanged, 80's description changed, SSH moved to
	// another network; the MySQL rule is not declared.
	desired := []map[string]any{
		rule("tcp", 443, "HTTPS", "0.0.0.0/0"),
		rule("tcp", 80, "ACME HTTP-01", "0.0.0.0/0"),
		rule("tcp", 22, "admin SSH", "198.51.100.0/24"),
	}
	target.Attrs["ingress"] = desired
	updated, err := d.Update(ctx, found, target, []string{"ingress"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(resources.NormalizeRules(desired), updated.Attrs["ingress"]); diff != "" {
		t.Errorf("ingress after update (-want +got):\n%s", diff)
	}
	after := ruleIDs(t, c, group, false)
	if before["tcp 443-443 0.0.0.0/0"] == "" || after["tcp 443-443 0.0.0.0/0"] != before["tcp 443-443 0.0.0.0/0"] {
		t.Errorf("the unchanged 443 rule was revoked and re-authorized: id %q → %q", before["tcp 443-443 0.0.0.0/0"], after["tcp 443-443 0.0.0.0/0"])
	}
	if after["tcp 80-80 0.0.0.0/0"] != before["tcp 80-80 0.0.0.0/0"] {
		t.Errorf("a description change replaced the rule: id %q → %q", before["tcp 80-80 0.0.0.0/0"], after["tcp 80-80 0.0.0.0/0"])
	}
	if _, ok := after["tcp 3306-3306 10.0.0.0/8"]; ok {
		t.Errorf("out-of-band rule tcp 3306 10.0.0.0/8 was not revoked")
	}
	if _, ok := after["tcp 22-22 203.0.113.10/32"]; ok {
		t.Errorf("old SSH rule was not revoked")
	}

	// Egress: declaring it replaces AWS's allow-all with the declared rules.
	egress := []map[string]any{rule("tcp", 443, "", "0.0.0.0/0"), rule("udp", 53, "", "10.0.0.2/32")}
	target.Attrs["egress"] = egress
	updated, err = d.Update(ctx, updated, target, []string{"egress"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(resources.NormalizeRules(egress), updated.Attrs["egress"]); diff != "" {
		t.Errorf("egress after update (-want +got):\n%s", diff)
	}
}

func TestSecurityGroupCreateTwiceAndForeign(t *testing.T) {
	ds, c := drivers(t)
	d := ds["ec2_security_group"]
	ctx := moto.Context(t)
	target := ec2TestTarget("web", resources.Attrs{"name": "web", "description": "managed by envctl", "ingress": []map[string]any{rule("tcp", 443, "", "0.0.0.0/0")}})
	first, err := d.Create(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.Create(ctx, target)
	if err != nil {
		t.Fatalf("second Create: %v", err)
	}
	if again.Handle != first.Handle {
		t.Errorf("second Create made %s, first %s", again.Handle, first.Handle)
	}
	ec2TestGroup(t, c, "someone-elses")
	_, err = d.Create(ctx, ec2TestTarget("other", resources.Attrs{"name": "someone-elses", "description": "managed by envctl"}))
	if err == nil || !strings.Contains(err.Error(), "not owned") {
		t.Errorf("Create over an unowned group = %v, want a 'not owned' error", err)
	}
}

func TestNormalizeRules(t *testing.T) {
	tests := []struct {
		name string
		in   []map[string]any
		want []map[string]any
	}{
		{
			name: "rules with the same ports and description merge, cidrs sorted and deduplicated",
			in: []map[string]any{
				rule("tcp", 443, "web", "10.0.0.0/8"),
				rule("tcp", 443, "web", "0.0.0.0/0", "10.0.0.0/8"),
			},
			want: []map[string]any{rule("tcp", 443, "web", "0.0.0.0/0", "10.0.0.0/8")},
		},
		{
			name: "different descriptions stay apart",
			in:   []map[string]any{rule("tcp", 443, "b", "10.0.0.0/8"), rule("tcp", 443, "a", "0.0.0.0/0")},
			want: []map[string]any{rule("tcp", 443, "a", "0.0.0.0/0"), rule("tcp", 443, "b", "10.0.0.0/8")},
		},
		{
			name: "sorted by protocol then ports; one-port range reads as port; empty description dropped",
			in: []map[string]any{
				rule("udp", "53-53", "", "10.0.0.2/32"),
				{"protocol": "tcp", "ports": "8000-8100", "cidrs": []string{"0.0.0.0/0"}, "description": ""},
				rule("tcp", 22, "", "203.0.113.10/32"),
			},
			want: []map[string]any{
				rule("tcp", 22, "", "203.0.113.10/32"),
				rule("tcp", "8000-8100", "", "0.0.0.0/0"),
				rule("udp", 53, "", "10.0.0.2/32"),
			},
		},
		{
			name: "protocol defaults to tcp; numbers read as names",
			in:   []map[string]any{{"port": int64(80), "cidrs": []string{"0.0.0.0/0"}}, {"protocol": "6", "port": int64(80), "cidrs": []any{"10.0.0.0/8"}}},
			want: []map[string]any{rule("tcp", 80, "", "0.0.0.0/0", "10.0.0.0/8")},
		},
		{
			name: "icmp type and all-traffic rules carry no ports",
			in: []map[string]any{
				{"protocol": "-1", "cidrs": []string{"10.0.0.0/8"}},
				{"protocol": "icmp", "cidrs": []string{"0.0.0.0/0"}},
				{"protocol": "icmp", "port": int64(8), "cidrs": []string{"0.0.0.0/0"}},
			},
			want: []map[string]any{
				{"protocol": "-1", "cidrs": []string{"10.0.0.0/8"}},
				{"protocol": "icmp", "cidrs": []string{"0.0.0.0/0"}},
				{"protocol": "icmp", "port": int64(8), "cidrs": []string{"0.0.0.0/0"}},
			},
		},
		{
			name: "IPv6 networks in canonical form",
			in:   []map[string]any{rule("tcp", 443, "", "2001:DB8::/32", "::/0")},
			want: []map[string]any{rule("tcp", 443, "", "2001:db8::/32", "::/0")},
		},
		{
			name: "empty",
			in:   nil,
			want: []map[string]any{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resources.NormalizeRules(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NormalizeRules (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(got, resources.NormalizeRules(got)); diff != "" {
				t.Errorf("NormalizeRules is not idempotent (-first +second):\n%s", diff)
			}
		})
	}
	// The schema's Normalize accepts the []any shape too and ignores other attributes.
	s := resources.SchemaFor("ec2_security_group")
	asAny := []any{map[string]any{"port": int64(443), "cidrs": []any{"0.0.0.0/0"}}}
	if diff := cmp.Diff(resources.NormalizeRules([]map[string]any{rule("tcp", 443, "", "0.0.0.0/0")}), s.Normalize("ingress", asAny)); diff != "" {
		t.Errorf("Schema.Normalize(ingress) (-want +got):\n%s", diff)
	}
	if got := s.Normalize("name", "web"); got != "web" {
		t.Errorf("Schema.Normalize(name) = %v", got)
	}
}

func TestSecurityGroupRuleChecks(t *testing.T) {
	check := resources.SchemaFor("ec2_security_group").Attr("ingress").Check
	tests := []struct {
		name  string
		rules []map[string]any
		err   string // "" means valid
	}{
		{"port", []map[string]any{rule("tcp", 443, "", "0.0.0.0/0")}, ""},
		{"range", []map[string]any{rule("udp", "8000-8100", "", "10.0.0.0/8")}, ""},
		{"all traffic", []map[string]any{{"protocol": "-1", "cidrs": []string{"10.0.0.0/8"}}}, ""},
		{"icmp all", []map[string]any{{"protocol": "icmp", "cidrs": []string{"10.0.0.0/8"}}}, ""},
		{"tcp without port", []map[string]any{{"protocol": "tcp", "cidrs": []string{"0.0.0.0/0"}}}, "needs port or ports"},
		{"tcp with both", []map[string]any{{"protocol": "tcp", "port": int64(1), "ports": "1-2", "cidrs": []string{"0.0.0.0/0"}}}, "needs port or ports"},
		{"ports for all traffic", []map[string]any{{"protocol": "-1", "port": int64(1), "cidrs": []string{"0.0.0.0/0"}}}, "leave port and ports out"},
		{"icmp range", []map[string]any{{"protocol": "icmp", "ports": "1-2", "cidrs": []string{"0.0.0.0/0"}}}, "not ports"},
		{"host bits", []map[string]any{rule("tcp", 22, "", "203.0.113.10/24")}, "host bits"},
		{"not a cidr", []map[string]any{rule("tcp", 22, "", "example.com")}, "expected a CIDR"},
		{"no cidrs", []map[string]any{rule("tcp", 22, "")}, "at least one CIDR"},
		{"same network twice", []map[string]any{rule("tcp", 22, "a", "10.0.0.0/8"), rule("tcp", 22, "b", "10.0.0.0/8")}, "declared twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := check(tt.rules)
			if tt.err == "" && err != nil {
				t.Errorf("Check = %v, want nil", err)
			}
			if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("Check = %v, want an error containing %q", err, tt.err)
			}
		})
	}
	elem := resources.SchemaFor("ec2_security_group").Attr("ingress").Elem
	for _, a := range elem {
		if a.Name == "ports" {
			if err := a.Check("8100-8000"); err == nil {
				t.Errorf("ports 8100-8000 accepted")
			}
		}
		if a.Name == "protocol" {
			if err := a.Check("sctp"); err == nil {
				t.Errorf("protocol sctp accepted")
			}
		}
	}
}

func TestSecurityGroupDeleteWaitsForInstance(t *testing.T) {
	ds, c := drivers(t)
	d := ds["ec2_security_group"]
	ctx := moto.Context(t)
	defer resources.SetSGDeleteWait(30*time.Second, 200*time.Millisecond)()

	live, err := d.Create(ctx, ec2TestTarget("web", resources.Attrs{"name": "web", "description": "managed by envctl"}))
	if err != nil {
		t.Fatal(err)
	}
	inst := ec2TestLaunch(t, c, ec2TestAMI(t, c), []string{live.Handle}, nil)

	var wg sync.WaitGroup
	var terminatedAt time.Time
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(time.Second)
		if _, err := c.EC2.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{inst}}); err != nil {
			t.Errorf("terminate: %v", err)
		}
		terminatedAt = time.Now()
	}()
	err = d.Delete(ctx, live)
	deletedAt := time.Now()
	wg.Wait()
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if deletedAt.Before(terminatedAt) {
		t.Errorf("Delete returned at %s, before the instance using the group was terminated at %s", deletedAt.Format(time.StampMilli), terminatedAt.Format(time.StampMilli))
	}
	if got, err := d.Find(ctx, ec2TestTarget("web", resources.Attrs{"name": "web"})); err != nil || got != nil {
		t.Errorf("Find after Delete = %v, %v; want gone", got, err)
	}
}

func TestSecurityGroupDeleteTimeoutNamesHolder(t *testing.T) {
	ds, c := drivers(t)
	d := ds["ec2_security_group"]
	ctx := moto.Context(t)
	defer resources.SetSGDeleteWait(time.Second, 200*time.Millisecond)()

	target := ec2TestTarget("web", resources.Attrs{"name": "web", "description": "managed by envctl"})
	live, err := d.Create(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	inst := ec2TestLaunch(t, c, ec2TestAMI(t, c), []string{live.Handle}, nil)
	eni := aws.ToString(ec2TestInstance(t, c, inst).NetworkInterfaces[0].NetworkInterfaceId)

	err = d.Delete(ctx, live)
	if err == nil {
		t.Fatal("Delete of a group an instance still uses succeeded")
	}
	for _, want := range []string{live.Handle, inst, eni, "still in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Delete error %q does not name %s", err, want)
		}
	}
	if got, err := d.Find(ctx, target); err != nil || got == nil {
		t.Errorf("group gone after a refused Delete: %v, %v", got, err)
	}
}

// --- ec2_instance -----------------------------------------------------------

func TestInstanceConformance(t *testing.T) {
	userData := "#!/bin/sh\necho agentkeys broker\n"
	var sg1, sg2 string
	update := resources.Attrs{"tags": conformanceTags("Name", "broker-2")}
	runConformance(t, conformanceCase{
		Type: "ec2_instance",
		Setup: func(t *testing.T, target *resources.Target) {
			_, c := drivers(t)
			sg1, sg2 = ec2TestGroup(t, c, "web-1"), ec2TestGroup(t, c, "web-2")
			target.Attrs["ami"] = ec2TestAMI(t, c)
			target.Attrs["security_groups"] = []string{sg1}
			update["security_groups"] = []string{sg2, sg1}
		},
		Create: resources.Attrs{
			"instance_type":  "t3.micro",
			"root_volume_gb": int64(20),
			"user_data":      userData,
			"tags":           map[string]string{"Name": "broker"},
		},
		CheckCreated: func(t *testing.T, live *resources.Live) {
			ec2WantAttr(t, live, "instance_type", "t3.micro")
			ec2WantAttr(t, live, "root_volume_gb", int64(20))
			ec2WantAttr(t, live, "user_data", userData)
			ec2WantAttr(t, live, "security_groups", []string{sg1})
			ec2WantAttr(t, live, "key_name", "")
			ec2WantAttr(t, live, "iam_instance_profile", "")
			if live.Exports["id"] != live.Handle || !strings.HasPrefix(live.Handle, "i-") {
				t.Errorf("export id = %q, handle %q", live.Exports["id"], live.Handle)
			}
			if live.Notes["duplicates"] != "" {
				t.Errorf("duplicates note = %q on a single instance", live.Notes["duplicates"])
			}
		},
		Update:  update,
		Changed: []string{"security_groups", "tags"},
		CheckUpdated: func(t *testing.T, live *resources.Live) {
			want := []string{sg1, sg2}
			slices.Sort(want)
			ec2WantAttr(t, live, "security_groups", want)
			if got := live.Tags()["Name"]; got != "broker-2" {
				t.Errorf("tag Name = %q, want broker-2", got)
			}
		},
	})
}

func TestInstanceCreateIsIdempotent(t *testing.T) {
	ds, c := drivers(t)
	d := ds["ec2_instance"]
	ctx := moto.Context(t)
	target := ec2TestTarget("host", resources.Attrs{"ami": ec2TestAMI(t, c), "instance_type": "t3.micro", "user_data": "v1"})

	first, err := d.Create(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	// A retry after a lost answer: same target, same client token.
	again, err := d.Create(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if again.Handle != first.Handle {
		t.Errorf("second Create launched %s besides %s", again.Handle, first.Handle)
	}
	if got := ec2TestAlive(t, c, "host"); !slices.Equal(got, []string{first.Handle}) {
		t.Errorf("instances for host = %v, want only %s", got, first.Handle)
	}
	if tok := aws.ToString(ec2TestInstance(t, c, first.Handle).ClientToken); !strings.HasPrefix(tok, "envctl-") || len(tok) > 64 {
		t.Errorf("client token = %q, want envctl-<hash> of at most 64 characters", tok)
	}

	// A replacement (other attributes) gets its own token and instance.
	replacement := ec2TestTarget("host", resources.Attrs{"ami": target.Attrs["ami"], "instance_type": "t3.micro", "user_data": "v2"})
	second, err := d.Create(ctx, replacement)
	if err != nil {
		t.Fatal(err)
	}
	if second.Handle == first.Handle {
		t.Fatalf("replacement with other user data reused %s", first.Handle)
	}
	ec2WantAttr(t, second, "user_data", "v2")

	// Once the first is terminated, creating it again launches a new one
	// rather than handing back the terminated instance.
	if err := d.Delete(ctx, first); err != nil {
		t.Fatal(err)
	}
	third, err := d.Create(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if third.Handle == first.Handle || third.Handle == second.Handle {
		t.Errorf("Create after termination returned %s (first %s, second %s)", third.Handle, first.Handle, second.Handle)
	}
	if got := ec2TestInstance(t, c, third.Handle).State.Name; got != types.InstanceStateNameRunning {
		t.Errorf("new instance state = %s, want running", got)
	}
}

func TestInstanceTypeUpdatesInPlace(t *testing.T) {
	ds, c := drivers(t)
	d := ds["ec2_instance"]
	ctx := moto.Context(t)
	target := ec2TestTarget("host", resources.Attrs{"ami": ec2TestAMI(t, c), "instance_type": "t3.micro"})
	live, err := d.Create(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	target.Attrs["instance_type"] = "t3.small"
	updated, err := d.Update(ctx, live, target, []string{"instance_type"})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Handle != live.Handle {
		t.Errorf("Update replaced the instance: %s → %s", live.Handle, updated.Handle)
	}
	ec2WantAttr(t, updated, "instance_type", "t3.small")
	in := ec2TestInstance(t, c, live.Handle)
	if in.State.Name != types.InstanceStateNameRunning || in.InstanceType != "t3.small" {
		t.Errorf("after update: state %s type %s, want running t3.small", in.State.Name, in.InstanceType)
	}

	// A stopped instance gets the new type and stays stopped.
	if _, err := c.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{live.Handle}}); err != nil {
		t.Fatal(err)
	}
	target.Attrs["instance_type"] = "t3.medium"
	if _, err := d.Update(ctx, updated, target, []string{"instance_type"}); err != nil {
		t.Fatal(err)
	}
	in = ec2TestInstance(t, c, live.Handle)
	if in.State.Name != types.InstanceStateNameStopped || in.InstanceType != "t3.medium" {
		t.Errorf("stopped instance after update: state %s type %s, want stopped t3.medium", in.State.Name, in.InstanceType)
	}

	// Attributes that force a replacement are refused in place.
	if _, err := d.Update(ctx, updated, target, []string{"ami"}); err == nil || !strings.Contains(err.Error(), "forces a replacement") {
		t.Errorf("Update(ami) = %v, want a forces-replacement error", err)
	}
}

func TestInstanceFindReportsDuplicates(t *testing.T) {
	ds, c := drivers(t)
	d := ds["ec2_instance"]
	ctx := moto.Context(t)
	ami := ec2TestAMI(t, c)
	target := ec2TestTarget("host", resources.Attrs{"ami": ami, "instance_type": "t3.micro"})
	older, err := d.Create(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // moto's launch times have whole seconds
	newer := ec2TestLaunch(t, c, ami, nil, resources.TagMap(target.Attrs["tags"]))
	// Another env's instance with the same id is not a duplicate.
	ec2TestLaunch(t, c, ami, nil, map[string]string{resources.TagEnv: "prod", resources.TagID: "host"})

	found, err := d.Find(ctx, target)
	if err != nil || found == nil {
		t.Fatalf("Find = %v, %v", found, err)
	}
	if found.Handle != newer {
		t.Errorf("Find returned %s, want the newest %s", found.Handle, newer)
	}
	if got := found.Notes["duplicates"]; got != older.Handle {
		t.Errorf("duplicates note = %q, want %q", got, older.Handle)
	}
	listed, err := d.List(ctx, ec2TestEnv)
	if err != nil || len(listed) != 2 {
		t.Errorf("List = %d instances, %v; want both duplicates", len(listed), err)
	}
}

func TestInstanceResolvesSSMAMI(t *testing.T) {
	ds, c := drivers(t)
	d := ds["ec2_instance"]
	ctx := moto.Context(t)
	ami := ec2TestAMI(t, c)
	for name, value := range map[string]string{"/envctl/test/ami": ami, "/envctl/test/not-an-ami": "hello"} {
		if _, err := c.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: "String"}); err != nil {
			t.Fatal(err)
		}
	}
	res, ok := d.(resources.Resolver)
	if !ok {
		t.Fatal("ec2_instance driver does not implement resources.Resolver")
	}
	in := resources.Attrs{"ami": "ssm:/envctl/test/ami", "instance_type": "t3.micro"}
	got, err := res.Resolve(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(resources.Attrs{"ami": ami, "instance_type": "t3.micro"}, got); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
	if in["ami"] != "ssm:/envctl/test/ami" {
		t.Errorf("Resolve modified its input: ami = %v", in["ami"])
	}
	if got, err := res.Resolve(ctx, resources.Attrs{"ami": ami}); err != nil || got["ami"] != ami {
		t.Errorf("Resolve(literal) = %v, %v", got, err)
	}
	for value, want := range map[string]string{
		"ssm:/envctl/test/missing":    "/envctl/test/missing does not exist",
		"ssm:/envctl/test/not-an-ami": `holds "hello", not an AMI id`,
	} {
		if _, err := res.Resolve(ctx, resources.Attrs{"ami": value}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(%s) = %v, want an error containing %q", value, err, want)
		}
	}

	// Create resolves an ssm: AMI itself when handed one.
	live, err := d.Create(ctx, ec2TestTarget("host", in))
	if err != nil {
		t.Fatal(err)
	}
	ec2WantAttr(t, live, "ami", ami)
}

func TestInstanceProfileUpdatesInPlace(t *testing.T) {
	ds, c := drivers(t)
	d := ds["ec2_instance"]
	ctx := moto.Context(t)
	for _, name := range []string{"broker-a", "broker-b"} {
		if _, err := c.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	target := ec2TestTarget("host", resources.Attrs{"ami": ec2TestAMI(t, c), "instance_type": "t3.micro", "iam_instance_profile": "broker-a"})
	live, err := d.Create(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	ec2WantAttr(t, live, "iam_instance_profile", "broker-a")
	for _, want := range []string{"broker-b", ""} {
		target.Attrs["iam_instance_profile"] = want
		live, err = d.Update(ctx, live, target, []string{"iam_instance_profile"})
		if err != nil {
			t.Fatalf("Update to %q: %v", want, err)
		}
		found, err := d.Find(ctx, target)
		if err != nil || found == nil {
			t.Fatalf("Find = %v, %v", found, err)
		}
		ec2WantAttr(t, found, "iam_instance_profile", want)
	}
}

func TestInstanceChecks(t *testing.T) {
	s := resources.SchemaFor("ec2_instance")
	tests := []struct {
		attr  string
		value any
		ok    bool
	}{
		{"ami", "ami-0123456789abcdef0", true},
		{"ami", "ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", true},
		{"ami", "ubuntu", false},
		{"ami", "ssm:", false},
		{"instance_type", "t3.micro", true},
		{"instance_type", "micro", false},
		{"security_groups", []string{"sg-0123456789abcdef0"}, true},
		{"security_groups", []string{}, false},
		{"security_groups", []string{"web"}, false},
		{"subnet_id", "subnet-0123456789abcdef0", true},
		{"subnet_id", "vpc-0123456789abcdef0", false},
		{"root_volume_gb", int64(20), true},
		{"root_volume_gb", int64(0), false},
		{"user_data", strings.Repeat("x", 16*1024), true},
		{"user_data", strings.Repeat("x", 16*1024+1), false},
		{"iam_instance_profile", "broker", true},
		{"iam_instance_profile", "", true},
		{"iam_instance_profile", "arn:aws:iam::123456789012:instance-profile/broker", false},
	}
	for _, tt := range tests {
		err := s.Attr(tt.attr).Check(tt.value)
		if (err == nil) != tt.ok {
			t.Errorf("%s = %v: Check = %v, want ok=%v", tt.attr, tt.value, err, tt.ok)
		}
	}
	if user := s.Attr("user_data"); !user.Sensitive || !user.ForceNew {
		t.Errorf("user_data must be sensitive and force replacement")
	}
	if !s.CreateBeforeDestroy {
		t.Errorf("ec2_instance must be replaced create-before-destroy")
	}
}

// --- elastic_ip -------------------------------------------------------------

func TestElasticIPConformance(t *testing.T) {
	var inst1, inst2 string
	update := resources.Attrs{}
	runConformance(t, conformanceCase{
		Type: "elastic_ip",
		Setup: func(t *testing.T, target *resources.Target) {
			_, c := drivers(t)
			ami := ec2TestAMI(t, c)
			inst1, inst2 = ec2TestLaunch(t, c, ami, nil, nil), ec2TestLaunch(t, c, ami, nil, nil)
			target.Attrs["instance"] = inst1
			update["instance"] = inst2
		},
		Create: resources.Attrs{"tags": map[string]string{"Name": "broker"}},
		CheckCreated: func(t *testing.T, live *resources.Live) {
			ec2WantAttr(t, live, "instance", inst1)
			if !strings.HasPrefix(live.Exports["allocation_id"], "eipalloc-") || live.Exports["allocation_id"] != live.Handle {
				t.Errorf("allocation_id = %q, handle %q", live.Exports["allocation_id"], live.Handle)
			}
		},
		Update:  update,
		Changed: []string{"instance"},
		CheckUpdated: func(t *testing.T, live *resources.Live) {
			ec2WantAttr(t, live, "instance", inst2)
		},
	})
}

func ec2TestAddress(t *testing.T, c *awsapi.Clients, alloc string) *types.Address {
	t.Helper()
	out, err := c.EC2.DescribeAddresses(context.Background(), &ec2.DescribeAddressesInput{AllocationIds: []string{alloc}})
	if awsapi.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Addresses) == 0 {
		return nil
	}
	return &out.Addresses[0]
}

func TestElasticIPMovesAndReleases(t *testing.T) {
	ds, c := drivers(t)
	instances, d := ds["ec2_instance"], ds["elastic_ip"]
	ctx := moto.Context(t)
	ami := ec2TestAMI(t, c)

	old, err := instances.Create(ctx, ec2TestTarget("host", resources.Attrs{"ami": ami, "instance_type": "t3.micro", "user_data": "v1"}))
	if err != nil {
		t.Fatal(err)
	}
	target := ec2TestTarget("ip", resources.Attrs{"instance": old.Handle})
	ip, err := d.Create(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	a := ec2TestAddress(t, c, ip.Handle)
	if got := aws.ToString(a.InstanceId); got != old.Handle {
		t.Fatalf("address associated with %q, want %s", got, old.Handle)
	}
	if got := aws.ToString(ec2TestInstance(t, c, old.Handle).PublicIpAddress); got != ip.Exports["public_ip"] {
		t.Errorf("instance public IP = %s, want the elastic IP %s", got, ip.Exports["public_ip"])
	}
	if again, err := d.Create(ctx, target); err != nil || again.Handle != ip.Handle {
		t.Errorf("second Create = %v, %v; want the same address %s", again, err, ip.Handle)
	}

	// The host is replaced create-before-destroy: new instance, move the
	// address, then terminate the old one.
	replacement, err := instances.Create(ctx, ec2TestTarget("host", resources.Attrs{"ami": ami, "instance_type": "t3.micro", "user_data": "v2"}))
	if err != nil {
		t.Fatal(err)
	}
	target.Attrs["instance"] = replacement.Handle
	moved, err := d.Update(ctx, ip, target, []string{"instance"})
	if err != nil {
		t.Fatal(err)
	}
	ec2WantAttr(t, moved, "instance", replacement.Handle)
	if moved.Exports["public_ip"] != ip.Exports["public_ip"] {
		t.Errorf("public IP changed on move: %s → %s", ip.Exports["public_ip"], moved.Exports["public_ip"])
	}
	if got := aws.ToString(ec2TestAddress(t, c, ip.Handle).InstanceId); got != replacement.Handle {
		t.Errorf("DescribeAddresses: associated with %q, want %s", got, replacement.Handle)
	}
	if err := instances.Delete(ctx, old); err != nil {
		t.Fatal(err)
	}
	if got := ec2TestAddress(t, c, ip.Handle); got == nil || aws.ToString(got.InstanceId) != replacement.Handle {
		t.Errorf("terminating the old host disturbed the address: %+v", got)
	}

	// instance: "" disassociates.
	target.Attrs["instance"] = ""
	free, err := d.Update(ctx, moved, target, []string{"instance"})
	if err != nil {
		t.Fatal(err)
	}
	ec2WantAttr(t, free, "instance", "")
	if got := ec2TestAddress(t, c, ip.Handle); got.AssociationId != nil {
		t.Errorf("address still associated: %s", aws.ToString(got.AssociationId))
	}

	// Delete disassociates and releases.
	target.Attrs["instance"] = replacement.Handle
	if _, err := d.Update(ctx, free, target, []string{"instance"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, free); err != nil {
		t.Fatal(err)
	}
	if got := ec2TestAddress(t, c, ip.Handle); got != nil {
		t.Errorf("address not released: %+v", got)
	}
	if got := aws.ToString(ec2TestInstance(t, c, replacement.Handle).PublicIpAddress); got == ip.Exports["public_ip"] {
		t.Errorf("instance still has the released address %s", got)
	}
}

func TestElasticIPChecks(t *testing.T) {
	check := resources.SchemaFor("elastic_ip").Attr("instance").Check
	for value, ok := range map[string]bool{"i-0123456789abcdef0": true, "": true, "host": false, "eipalloc-0123456789abcdef0": false} {
		if err := check(value); (err == nil) != ok {
			t.Errorf("instance = %q: Check = %v, want ok=%v", value, err, ok)
		}
	}
}
