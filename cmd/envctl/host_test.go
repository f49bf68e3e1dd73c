package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/litentry/envctl/internal/moto"
)

var exampleFiles = []string{"../../testdata/example/prod.yaml", "../../testdata/example/test.yaml"}

// newExample starts from an empty emulator holding only the example.org zone.
func newExample(t *testing.T) (*harness, string) {
	t.Helper()
	c := newCLI(t, exampleFiles...)
	out, err := c.clients.Route53.CreateHostedZone(moto.Context(t), &route53.CreateHostedZoneInput{Name: aws.String("example.org"), CallerReference: aws.String(t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	return c, aws.ToString(out.HostedZone.Id)
}

// liveInstances returns the env's non-terminated instances.
func liveInstances(t *testing.T, c *harness, env string) []ec2types.Instance {
	t.Helper()
	out, err := c.clients.EC2.DescribeInstances(moto.Context(t), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:envctl:env"), Values: []string{env}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var all []ec2types.Instance
	for _, r := range out.Reservations {
		all = append(all, r.Instances...)
	}
	return all
}

func recordValues(t *testing.T, c *harness, zone, name, typ string) []string {
	t.Helper()
	out, err := c.clients.Route53.ListResourceRecordSets(moto.Context(t), &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, rr := range out.ResourceRecordSets {
		if strings.TrimSuffix(aws.ToString(rr.Name), ".") == name && string(rr.Type) == typ {
			for _, v := range rr.ResourceRecords {
				vals = append(vals, aws.ToString(v.Value))
			}
		}
	}
	return vals
}

func TestExampleEnvFullLifecycle(t *testing.T) {
	c, zone := newExample(t)
	r := c.must(2, "plan", "--env", "test", "--detailed-exitcode")
	contains(t, "first plan", r.out,
		"+ web_sg (ec2_security_group) will be created", "+ host (ec2_instance) will be created",
		"+ ip (elastic_ip) will be created", "+ dns (route53_record) will be created",
		"+ oidc (iam_oidc_provider)", "+ role (iam_role)", "+ bucket (s3_bucket)",
		"+ security_groups = (known after apply)", "+ values          = (known after apply)",
		"+ user_data       = (sensitive, sha256:", "+ ami             = \"ami-0ed094fb1304fd857\"",
		"Plan: 7 to add")
	c.must(0, "apply", "--env", "test", "--auto-approve")
	c.must(0, "plan", "--env", "test", "--detailed-exitcode")

	hosts := liveInstances(t, c, "test")
	if len(hosts) != 1 {
		t.Fatalf("%d instances for env test", len(hosts))
	}
	first := hosts[0]
	ip := aws.ToString(first.PublicIpAddress)
	if got := recordValues(t, c, zone, "test-broker.example.org", "A"); len(got) != 1 || got[0] != ip {
		t.Errorf("A record = %v, want the EIP %s", got, ip)
	}
	if got := recordValues(t, c, zone, "_envctl-a.test-broker.example.org", "TXT"); len(got) != 1 || got[0] != `"envctl:env=test,id=dns"` {
		t.Errorf("companion TXT = %v", got)
	}

	// Instance type: updated in place.
	c.edit("test.yaml", func(s string) string {
		return strings.Replace(s, "vars:\n", "vars:\n  instance_type: t3.small\n", 1)
	})
	r = c.must(2, "plan", "--env", "test", "--detailed-exitcode")
	contains(t, "type plan", r.out, "~ host (ec2_instance) will be updated in place: changing instance_type stops the host, changes it and starts it again (the host restarts)", `~ instance_type = "t3.micro" → "t3.small"`, "1 to change")
	c.must(0, "apply", "--env", "test", "--auto-approve")
	hosts = liveInstances(t, c, "test")
	if len(hosts) != 1 || aws.ToString(hosts[0].InstanceId) != aws.ToString(first.InstanceId) || hosts[0].InstanceType != "t3.small" {
		t.Fatalf("after type change: %d instances, want the same one as t3.small", len(hosts))
	}

	// user_data: replaced; the address and the record follow the new host.
	c.edit("prod.yaml", func(s string) string {
		return strings.Replace(s, "    user_data_file:", "    user_data: \"#!/bin/sh\\necho v2\\n\"\n    #user_data_file:", 1)
	})
	r = c.must(2, "plan", "--env", "test", "--detailed-exitcode")
	contains(t, "user_data plan", r.out, "-/+ host (ec2_instance) must be replaced: user_data forces replacement", "# forces replacement")
	c.must(0, "apply", "--env", "test", "--auto-approve")
	hosts = liveInstances(t, c, "test")
	if len(hosts) != 1 || aws.ToString(hosts[0].InstanceId) == aws.ToString(first.InstanceId) {
		t.Fatalf("after replace: %d non-terminated instances, want exactly one new one", len(hosts))
	}
	addrs, _ := c.clients.EC2.DescribeAddresses(moto.Context(t), &ec2.DescribeAddressesInput{})
	if len(addrs.Addresses) != 1 || aws.ToString(addrs.Addresses[0].InstanceId) != aws.ToString(hosts[0].InstanceId) || aws.ToString(addrs.Addresses[0].PublicIp) != ip {
		t.Errorf("EIP after replace: %+v; want the same address on the new host", addrs.Addresses)
	}
	if got := recordValues(t, c, zone, "test-broker.example.org", "A"); len(got) != 1 || got[0] != ip {
		t.Errorf("A record after replace = %v, want %s", got, ip)
	}
	c.must(0, "plan", "--env", "test", "--detailed-exitcode")

	// Destroy leaves nothing of the env, companion record included.
	c.must(0, "destroy", "--env", "test", "--auto-approve")
	if n := len(liveInstances(t, c, "test")); n != 0 {
		t.Errorf("%d instances left", n)
	}
	addrs, _ = c.clients.EC2.DescribeAddresses(moto.Context(t), &ec2.DescribeAddressesInput{})
	if len(addrs.Addresses) != 0 {
		t.Errorf("%d addresses left", len(addrs.Addresses))
	}
	sgs, _ := c.clients.EC2.DescribeSecurityGroups(moto.Context(t), &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{"agentkeys-broker-test"}}}})
	if len(sgs.SecurityGroups) != 0 {
		t.Errorf("security group left")
	}
	for _, n := range []string{"test-broker.example.org", "_envctl-a.test-broker.example.org"} {
		for _, typ := range []string{"A", "TXT"} {
			if v := recordValues(t, c, zone, n, typ); len(v) != 0 {
				t.Errorf("record %s %s left: %v", n, typ, v)
			}
		}
	}
}

func TestHostDriftIsRepaired(t *testing.T) {
	c, zone := newExample(t)
	c.must(0, "apply", "--env", "test", "--auto-approve")
	ctx := moto.Context(t)
	// Someone points the name elsewhere (an exact delete and a create, as
	// another careful client would) and opens a port.
	old := recordValues(t, c, zone, "test-broker.example.org", "A")
	_, err := c.clients.Route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{
		{Action: r53types.ChangeActionDelete, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("test-broker.example.org"), Type: r53types.RRTypeA, TTL: aws.Int64(300),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(old[0])}}}},
		{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("test-broker.example.org"), Type: r53types.RRTypeA, TTL: aws.Int64(300),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("198.51.100.66")}}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	sgs, _ := c.clients.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{"agentkeys-broker-test"}}}})
	_, err = c.clients.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sgs.SecurityGroups[0].GroupId, IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(3306), ToPort: aws.Int32(3306), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	r := c.must(2, "plan", "--env", "test", "--detailed-exitcode")
	contains(t, "drift plan", r.out, "~ dns (route53_record) will be updated in place", `["198.51.100.66"] → [`, "~ web_sg (ec2_security_group) will be updated in place", "3306", "2 to change")
	c.must(0, "apply", "--env", "test", "--auto-approve")
	c.must(0, "plan", "--env", "test", "--detailed-exitcode")
}

func TestRecordOwnedByAnotherEnvIsRefused(t *testing.T) {
	c, zone := newExample(t)
	_, err := c.clients.Route53.ChangeResourceRecordSets(moto.Context(t), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{
		{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("test-broker.example.org"), Type: r53types.RRTypeA, TTL: aws.Int64(60),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("192.0.2.1")}}}},
		{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("_envctl-a.test-broker.example.org"), Type: r53types.RRTypeTxt, TTL: aws.Int64(60),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(`"envctl:env=prod,id=dns"`)}}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	r := c.must(1, "plan", "--env", "test")
	contains(t, "plan", r.err, "dns (route53_record)", `belongs to env "prod"`)
	r = c.must(1, "apply", "--env", "test", "--auto-approve")
	contains(t, "apply", r.err, `belongs to env "prod"`)
	if got := recordValues(t, c, zone, "test-broker.example.org", "A"); len(got) != 1 || got[0] != "192.0.2.1" {
		t.Errorf("the other env's record changed: %v", got)
	}
}
