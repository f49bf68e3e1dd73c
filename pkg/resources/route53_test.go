package resources_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/google/go-cmp/cmp"

	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/awsapi"
	"github.com/litentry/envctl/pkg/resources"
)

const r53TestZone = "litentry.org"

// r53CreateZone creates a hosted zone with the raw SDK and returns its id.
func r53CreateZone(t *testing.T, c *awsapi.Clients, name string) string {
	t.Helper()
	out, err := c.Route53.CreateHostedZone(context.Background(), &route53.CreateHostedZoneInput{
		Name:            aws.String(name),
		CallerReference: aws.String("envctl-test-" + name),
	})
	if err != nil {
		t.Fatalf("create hosted zone %s: %v", name, err)
	}
	return strings.TrimPrefix(aws.ToString(out.HostedZone.Id), "/hostedzone/")
}

// r53Setup returns the route53_record driver, the raw clients and the id of
// a fresh litentry.org zone.
func r53Setup(t *testing.T) (resources.Driver, *awsapi.Clients, string) {
	t.Helper()
	ds, c := drivers(t)
	return ds["route53_record"], c, r53CreateZone(t, c, r53TestZone)
}

// r53Target is the target of resource "broker" in env "test".
func r53Target(name, typ string, values ...string) resources.Target {
	return resources.Target{Env: "test", ID: "broker", Attrs: resources.Attrs{
		"zone":        r53TestZone,
		"name":        name,
		"record_type": typ,
		"ttl":         int64(300),
		"values":      values,
		"tags":        map[string]string{resources.TagEnv: "test", resources.TagID: "broker"},
	}}
}

// r53Raw reads one record set with the raw SDK, or nil when absent.
func r53Raw(t *testing.T, c *awsapi.Clients, zoneID, name, typ string) *types.ResourceRecordSet {
	t.Helper()
	out, err := c.Route53.ListResourceRecordSets(context.Background(), &route53.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID),
	})
	if err != nil {
		t.Fatalf("list record sets: %v", err)
	}
	for i, s := range out.ResourceRecordSets {
		if strings.TrimSuffix(aws.ToString(s.Name), ".") == name && string(s.Type) == typ {
			return &out.ResourceRecordSets[i]
		}
	}
	return nil
}

// r53RawValues returns the values of a record set as stored, or nil.
func r53RawValues(t *testing.T, c *awsapi.Clients, zoneID, name, typ string) []string {
	t.Helper()
	s := r53Raw(t, c, zoneID, name, typ)
	if s == nil {
		return nil
	}
	var vs []string
	for _, rr := range s.ResourceRecords {
		vs = append(vs, aws.ToString(rr.Value))
	}
	return vs
}

// r53RawChange applies one change with the raw SDK (values as stored).
func r53RawChange(t *testing.T, c *awsapi.Clients, zoneID string, action types.ChangeAction, name, typ string, ttl int64, values ...string) {
	t.Helper()
	var rrs []types.ResourceRecord
	for _, v := range values {
		rrs = append(rrs, types.ResourceRecord{Value: aws.String(v)})
	}
	_, err := c.Route53.ChangeResourceRecordSets(context.Background(), &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID),
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{
			Action:            action,
			ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String(name), Type: types.RRType(typ), TTL: aws.Int64(ttl), ResourceRecords: rrs},
		}}},
	})
	if err != nil {
		t.Fatalf("raw %s %s %s: %v", action, name, typ, err)
	}
}

func TestRoute53RecordConformance(t *testing.T) {
	runConformance(t, conformanceCase{
		Type: "route53_record",
		Setup: func(t *testing.T, target *resources.Target) {
			// drivers resets moto, which holds nothing yet at this point.
			_, c := drivers(t)
			r53CreateZone(t, c, r53TestZone)
		},
		Create: resources.Attrs{
			"zone":        r53TestZone,
			"name":        "test-broker.litentry.org",
			"record_type": "A",
			"ttl":         int64(300),
			"values":      []string{"192.0.2.11", "192.0.2.10"},
		},
		CheckCreated: func(t *testing.T, live *resources.Live) {
			want := resources.Attrs{"values": []string{"192.0.2.10", "192.0.2.11"}, "ttl": int64(300), "fqdn": "test-broker.litentry.org"}
			got := resources.Attrs{"values": live.Attrs["values"], "ttl": live.Attrs["ttl"], "fqdn": live.Exports["fqdn"]}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("created record (-want +got):\n%s", diff)
			}
		},
		Update:  resources.Attrs{"values": []string{"192.0.2.12"}, "ttl": int64(60)},
		Changed: []string{"values", "ttl"},
		CheckUpdated: func(t *testing.T, live *resources.Live) {
			want := resources.Attrs{"values": []string{"192.0.2.12"}, "ttl": int64(60)}
			got := resources.Attrs{"values": live.Attrs["values"], "ttl": live.Attrs["ttl"]}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("updated record (-want +got):\n%s", diff)
			}
		},
	})
}

func TestRoute53RecordSchemaChecks(t *testing.T) {
	s := resources.SchemaFor("route53_record")
	base := func(mod func(resources.Attrs)) resources.Attrs {
		a := resources.Attrs{"zone": "litentry.org", "name": "test-broker.litentry.org", "record_type": "A", "values": []string{"192.0.2.10"}}
		if mod != nil {
			mod(a)
		}
		return a
	}
	validate := []struct {
		name    string
		attrs   resources.Attrs
		wantErr string
	}{
		{"valid", base(nil), ""},
		{"zone with trailing dot", base(func(a resources.Attrs) { a["zone"] = "litentry.org." }), ""},
		{"zone id instead of zone", base(func(a resources.Attrs) { delete(a, "zone"); a["zone_id"] = "Z123" }), ""},
		{"both zone and zone id", base(func(a resources.Attrs) { a["zone_id"] = "Z123" }), "exactly one of zone"},
		{"neither zone nor zone id", base(func(a resources.Attrs) { delete(a, "zone") }), "exactly one of zone"},
		{"name outside zone", base(func(a resources.Attrs) { a["name"] = "test-broker.example.org" }), "not inside zone"},
		{"name sharing a suffix only", base(func(a resources.Attrs) { a["name"] = "notlitentry.org" }), "not inside zone"},
		{"apex A record", base(func(a resources.Attrs) { a["name"] = "litentry.org" }), ""},
		{"apex CNAME", base(func(a resources.Attrs) {
			a["name"], a["record_type"], a["values"] = "litentry.org", "CNAME", []string{"x.example.com"}
		}), "zone apex"},
		{"CNAME with two values", base(func(a resources.Attrs) {
			a["record_type"], a["values"] = "CNAME", []string{"a.example.com", "b.example.com"}
		}), "exactly one value"},
		{"A with an IPv6 value", base(func(a resources.Attrs) { a["values"] = []string{"2001:db8::1"} }), "IPv4"},
		{"AAAA not canonical", base(func(a resources.Attrs) {
			a["record_type"], a["values"] = "AAAA", []string{"2001:0db8::0001"}
		}), "canonical form 2001:db8::1"},
		{"TXT free text", base(func(a resources.Attrs) {
			a["record_type"], a["values"] = "TXT", []string{`v=spf1 "quoted" -all`}
		}), ""},
		{"TXT too long", base(func(a resources.Attrs) {
			a["record_type"], a["values"] = "TXT", []string{strings.Repeat("x", 4000)}
		}), "longer than"},
		{"values unknown yet", base(func(a resources.Attrs) { delete(a, "values") }), ""},
	}
	for _, tc := range validate {
		t.Run("validate/"+tc.name, func(t *testing.T) {
			r53WantErr(t, s.Validate(tc.attrs), tc.wantErr)
		})
	}
	checks := []struct {
		name, attr string
		value      any
		wantErr    string
	}{
		{"name ok", "name", "test-broker.litentry.org", ""},
		{"wildcard name", "name", "*.test.litentry.org", ""},
		{"name trailing dot", "name", "test-broker.litentry.org.", "without the trailing dot"},
		{"name uppercase", "name", "Test.litentry.org", "lowercase"},
		{"name single label", "name", "broker", "fully qualified"},
		{"name reserved", "name", "_envctl-a.x.litentry.org", "reserved"},
		{"name bad char", "name", "a b.litentry.org", "letters, digits"},
		{"zone with dot", "zone", "litentry.org.", ""},
		{"zone id with prefix", "zone_id", "/hostedzone/Z123", "bare hosted zone id"},
		{"type MX", "record_type", "MX", "one of A, AAAA, CNAME, TXT"},
		{"ttl negative", "ttl", int64(-1), "0 to 2147483647"},
		{"values empty", "values", []string{}, "at least one"},
		{"values duplicate", "values", []string{"192.0.2.1", "192.0.2.1"}, "listed twice"},
	}
	for _, tc := range checks {
		t.Run("check/"+tc.name, func(t *testing.T) {
			r53WantErr(t, s.Attr(tc.attr).Check(tc.value), tc.wantErr)
		})
	}
	if s.Attr("tags") != nil {
		t.Error("route53_record must not declare a tags attribute: records carry no tags")
	}
	if !s.CreateBeforeDestroy || !s.Exported("fqdn") {
		t.Errorf("CreateBeforeDestroy = %v, fqdn exported = %v; want both", s.CreateBeforeDestroy, s.Exported("fqdn"))
	}
}

func r53WantErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("error %q does not contain %q", err, want)
	}
}

func TestRoute53RecordTXTRoundTrip(t *testing.T) {
	d, c, zoneID := r53Setup(t)
	ctx := moto.Context(t)
	long := strings.Repeat("0123456789", 60) // 600 bytes: three strings
	values := []string{"hello world", `say "hi" \ back`, "café", long}
	target := r53Target("txt.litentry.org", "TXT", values...)

	if _, err := d.Create(ctx, target); err != nil {
		t.Fatalf("Create: %v", err)
	}
	live, err := d.Find(ctx, target)
	if err != nil || live == nil {
		t.Fatalf("Find = %v, %v", live, err)
	}
	want := []string{long, "café", "hello world", `say "hi" \ back`}
	if diff := cmp.Diff(want, live.Attrs["values"]); diff != "" {
		t.Errorf("values read back (-want +got):\n%s", diff)
	}

	raw := map[string]bool{}
	for _, v := range r53RawValues(t, c, zoneID, "txt.litentry.org", "TXT") {
		raw[v] = true
	}
	for _, v := range []string{
		`"hello world"`,
		`"say \"hi\" \\ back"`,
		`"caf\303\251"`,
		`"` + long[:255] + `" "` + long[255:510] + `" "` + long[510:] + `"`,
	} {
		if !raw[v] {
			t.Errorf("stored TXT value %s missing; stored: %v", v, raw)
		}
	}

	// Converged: an update with the same set in another order writes nothing.
	target.Attrs["values"] = []string{"hello world", long, `say "hi" \ back`, "café"}
	if _, err := d.Update(ctx, live, target, []string{"values"}); err != nil {
		t.Fatalf("Update with the same values: %v", err)
	}
}

func TestRoute53RecordOwnerRecordContent(t *testing.T) {
	d, c, zoneID := r53Setup(t)
	ctx := moto.Context(t)
	target := r53Target("test-broker.litentry.org", "A", "192.0.2.10")
	target.Attrs["tags"] = map[string]string{resources.TagEnv: "test", resources.TagID: "broker", resources.TagProtect: "true"}

	if _, err := d.Create(ctx, target); err != nil {
		t.Fatalf("Create: %v", err)
	}
	const owner = "_envctl-a.test-broker.litentry.org"
	if diff := cmp.Diff([]string{`"envctl:env=test,id=broker,protect=true"`}, r53RawValues(t, c, zoneID, owner, "TXT")); diff != "" {
		t.Errorf("owner record (-want +got):\n%s", diff)
	}
	if got := r53Raw(t, c, zoneID, "test-broker.litentry.org", "TXT"); got != nil {
		t.Errorf("a TXT record was written at the data name: %+v", got)
	}
	live, err := d.Find(ctx, target)
	if err != nil || live == nil {
		t.Fatalf("Find = %v, %v", live, err)
	}
	wantTags := map[string]string{resources.TagEnv: "test", resources.TagID: "broker", resources.TagProtect: "true"}
	if diff := cmp.Diff(wantTags, live.Attrs["tags"]); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}

	// Unprotect: the owner record is rewritten, the data record untouched.
	target.Attrs["tags"] = map[string]string{resources.TagEnv: "test", resources.TagID: "broker"}
	updated, err := d.Update(ctx, live, target, []string{"tags"})
	if err != nil {
		t.Fatalf("Update tags: %v", err)
	}
	if diff := cmp.Diff([]string{`"envctl:env=test,id=broker"`}, r53RawValues(t, c, zoneID, owner, "TXT")); diff != "" {
		t.Errorf("owner record after unprotect (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(target.Attrs["tags"], updated.Attrs["tags"]); diff != "" {
		t.Errorf("tags after unprotect (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"192.0.2.10"}, r53RawValues(t, c, zoneID, "test-broker.litentry.org", "A")); diff != "" {
		t.Errorf("data record after tag update (-want +got):\n%s", diff)
	}
}

func TestRoute53RecordFindReportsOtherOwners(t *testing.T) {
	d, c, zoneID := r53Setup(t)
	ctx := moto.Context(t)
	r53RawChange(t, c, zoneID, types.ChangeActionCreate, "prod.litentry.org", "A", 300, "192.0.2.1")
	r53RawChange(t, c, zoneID, types.ChangeActionCreate, "_envctl-a.prod.litentry.org", "TXT", 300, `"envctl:env=prod,id=broker"`)
	r53RawChange(t, c, zoneID, types.ChangeActionCreate, "bare.litentry.org", "A", 300, "192.0.2.2")
	r53RawChange(t, c, zoneID, types.ChangeActionCreate, "odd.litentry.org", "A", 300, "192.0.2.3")
	r53RawChange(t, c, zoneID, types.ChangeActionCreate, "_envctl-a.odd.litentry.org", "TXT", 300, `"heritage=external-dns"`)

	tests := []struct {
		name      string
		wantTags  map[string]string
		wantOwner string
	}{
		{"prod.litentry.org", map[string]string{resources.TagEnv: "prod", resources.TagID: "broker"}, `"envctl:env=prod,id=broker"`},
		{"bare.litentry.org", map[string]string{}, ""},
		{"odd.litentry.org", map[string]string{}, `"heritage=external-dns"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			live, err := d.Find(ctx, r53Target(tc.name, "A", "192.0.2.9"))
			if err != nil || live == nil {
				t.Fatalf("Find = %v, %v; want the record", live, err)
			}
			if diff := cmp.Diff(tc.wantTags, live.Attrs["tags"]); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if got := live.Notes["owner"]; got != tc.wantOwner {
				t.Errorf("Notes[owner] = %q, want %q", got, tc.wantOwner)
			}
		})
	}
	if listed, err := d.List(ctx, "test"); err != nil || len(listed) != 0 {
		t.Errorf("List(test) = %d, %v; want none", len(listed), err)
	}
	if listed, err := d.List(ctx, "prod"); err != nil || len(listed) != 1 {
		t.Errorf("List(prod) = %d, %v; want the prod record", len(listed), err)
	}
}

func TestRoute53RecordCreateOverUnownedRecordFails(t *testing.T) {
	d, c, zoneID := r53Setup(t)
	ctx := moto.Context(t)
	r53RawChange(t, c, zoneID, types.ChangeActionCreate, "test-broker.litentry.org", "A", 300, "198.51.100.1")

	_, err := d.Create(ctx, r53Target("test-broker.litentry.org", "A", "192.0.2.10"))
	if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), "not owned by envctl") {
		t.Fatalf("Create over an unowned record: err = %v; want it to say the record exists and is not owned by envctl", err)
	}
	if diff := cmp.Diff([]string{"198.51.100.1"}, r53RawValues(t, c, zoneID, "test-broker.litentry.org", "A")); diff != "" {
		t.Errorf("the existing record changed (-want +got):\n%s", diff)
	}
	if got := r53Raw(t, c, zoneID, "_envctl-a.test-broker.litentry.org", "TXT"); got != nil {
		t.Errorf("an owner record was written: %+v", got)
	}
}

func TestRoute53RecordCreateIsSafeToRepeat(t *testing.T) {
	d, _, _ := r53Setup(t)
	ctx := moto.Context(t)
	target := r53Target("test-broker.litentry.org", "A", "192.0.2.10")
	first, err := d.Create(ctx, target)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	again, err := d.Create(ctx, target)
	if err != nil {
		t.Fatalf("second Create of the same owned record: %v", err)
	}
	if again.Handle != first.Handle {
		t.Errorf("second Create handle = %q, want %q", again.Handle, first.Handle)
	}
	// The same name and type for another resource id is someone else's.
	other := r53Target("test-broker.litentry.org", "A", "192.0.2.10")
	other.ID = "other"
	other.Attrs["tags"] = map[string]string{resources.TagEnv: "test", resources.TagID: "other"}
	if _, err := d.Create(ctx, other); err == nil {
		t.Error("Create for another resource id over an owned record succeeded")
	}
}

func TestRoute53RecordUpdateRefusesStaleRecord(t *testing.T) {
	d, c, zoneID := r53Setup(t)
	ctx := moto.Context(t)
	target := r53Target("test-broker.litentry.org", "A", "192.0.2.10")
	if _, err := d.Create(ctx, target); err != nil {
		t.Fatalf("Create: %v", err)
	}
	live, err := d.Find(ctx, target)
	if err != nil || live == nil {
		t.Fatalf("Find = %v, %v", live, err)
	}
	// Someone changes the record after it was read.
	r53RawChange(t, c, zoneID, types.ChangeActionUpsert, "test-broker.litentry.org", "A", 300, "203.0.113.9")

	target.Attrs["values"] = []string{"192.0.2.20"}
	if _, err := d.Update(ctx, live, target, []string{"values"}); err == nil {
		t.Fatal("Update over a record changed since it was read succeeded")
	}
	if diff := cmp.Diff([]string{"203.0.113.9"}, r53RawValues(t, c, zoneID, "test-broker.litentry.org", "A")); diff != "" {
		t.Errorf("the out-of-band value was overwritten (-want +got):\n%s", diff)
	}
	if err := d.Delete(ctx, live); err == nil {
		t.Error("Delete of a record changed since it was read succeeded")
	}
}

func TestRoute53RecordAdoptWritesOwnerOnly(t *testing.T) {
	d, c, zoneID := r53Setup(t)
	ctx := moto.Context(t)
	r53RawChange(t, c, zoneID, types.ChangeActionCreate, "test-broker.litentry.org", "A", 300, "192.0.2.10")
	target := r53Target("test-broker.litentry.org", "A", "192.0.2.10")
	live, err := d.Find(ctx, target)
	if err != nil || live == nil {
		t.Fatalf("Find = %v, %v", live, err)
	}
	adopted, err := d.Update(ctx, live, target, []string{"tags"})
	if err != nil {
		t.Fatalf("Update tags (adopt): %v", err)
	}
	if diff := cmp.Diff(target.Attrs["tags"], adopted.Attrs["tags"]); diff != "" {
		t.Errorf("tags after adopt (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`"envctl:env=test,id=broker"`}, r53RawValues(t, c, zoneID, "_envctl-a.test-broker.litentry.org", "TXT")); diff != "" {
		t.Errorf("owner record (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"192.0.2.10"}, r53RawValues(t, c, zoneID, "test-broker.litentry.org", "A")); diff != "" {
		t.Errorf("data record (-want +got):\n%s", diff)
	}
}

func TestRoute53RecordDeleteRemovesRecordAndOwner(t *testing.T) {
	d, c, zoneID := r53Setup(t)
	ctx := moto.Context(t)
	// Someone else's TXT at the data name must survive.
	r53RawChange(t, c, zoneID, types.ChangeActionCreate, "test-broker.litentry.org", "TXT", 300, `"v=spf1 -all"`)
	target := r53Target("test-broker.litentry.org", "A", "192.0.2.10", "192.0.2.11")
	live, err := d.Create(ctx, target)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := d.Delete(ctx, live); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := r53Raw(t, c, zoneID, "test-broker.litentry.org", "A"); got != nil {
		t.Errorf("data record still there: %+v", got)
	}
	if got := r53Raw(t, c, zoneID, "_envctl-a.test-broker.litentry.org", "TXT"); got != nil {
		t.Errorf("owner record still there: %+v", got)
	}
	if diff := cmp.Diff([]string{`"v=spf1 -all"`}, r53RawValues(t, c, zoneID, "test-broker.litentry.org", "TXT")); diff != "" {
		t.Errorf("TXT at the data name (-want +got):\n%s", diff)
	}
	if err := d.Delete(ctx, live); err != nil {
		t.Errorf("second Delete: %v", err)
	}
}

func TestRoute53RecordListReturnsDanglingOwner(t *testing.T) {
	d, c, zoneID := r53Setup(t)
	ctx := moto.Context(t)
	target := r53Target("test-broker.litentry.org", "A", "192.0.2.10")
	if _, err := d.Create(ctx, target); err != nil {
		t.Fatalf("Create: %v", err)
	}
	// The data record is removed behind envctl's back; its owner remains.
	r53RawChange(t, c, zoneID, types.ChangeActionDelete, "test-broker.litentry.org", "A", 300, "192.0.2.10")

	if live, err := d.Find(ctx, target); err != nil || live != nil {
		t.Fatalf("Find = %+v, %v; want nil, nil for an owner record alone", live, err)
	}
	listed, err := d.List(ctx, "test")
	if err != nil || len(listed) != 1 {
		t.Fatalf("List = %d, %v; want the dangling owner record", len(listed), err)
	}
	l := listed[0]
	if want := zoneID + "|test-broker.litentry.org|A"; l.Handle != want {
		t.Errorf("handle = %q, want %q", l.Handle, want)
	}
	if l.Notes["dangling"] != "true" {
		t.Errorf("Notes = %v, want dangling=true", l.Notes)
	}
	if diff := cmp.Diff(target.Attrs["tags"], l.Attrs["tags"]); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if err := d.Delete(ctx, l); err != nil {
		t.Fatalf("Delete dangling owner record: %v", err)
	}
	if err := d.Delete(ctx, l); err != nil {
		t.Fatalf("second Delete of the dangling owner record: %v", err)
	}
	if got := r53Raw(t, c, zoneID, "_envctl-a.test-broker.litentry.org", "TXT"); got != nil {
		t.Errorf("owner record still there: %+v", got)
	}
	if listed, err := d.List(ctx, "test"); err != nil || len(listed) != 0 {
		t.Errorf("List after delete = %d, %v; want none", len(listed), err)
	}
}

func TestRoute53RecordZoneLookup(t *testing.T) {
	d, _, zoneID := r53Setup(t)
	ctx := moto.Context(t)
	created, err := d.Create(ctx, r53Target("test-broker.litentry.org", "A", "192.0.2.10"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	tests := []struct {
		name     string
		zoneAttr string
		zone     string
		wantZone string
	}{
		{"zone name", "zone", "litentry.org", "litentry.org"},
		{"zone name with trailing dot", "zone", "litentry.org.", "litentry.org"},
		{"zone id", "zone_id", zoneID, "litentry.org"},
	}
	// The plan compares zone spellings through Normalize.
	if s := d.Schema(); s.Normalize("zone", "litentry.org.") != s.Normalize("zone", "litentry.org") {
		t.Error(`Normalize("zone") keeps the trailing dot: litentry.org. and litentry.org would show as a change`)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := r53Target("test-broker.litentry.org", "A", "192.0.2.10")
			delete(target.Attrs, "zone")
			target.Attrs[tc.zoneAttr] = tc.zone
			live, err := d.Find(ctx, target)
			if err != nil || live == nil {
				t.Fatalf("Find = %v, %v", live, err)
			}
			if live.Handle != created.Handle {
				t.Errorf("handle = %q, want %q", live.Handle, created.Handle)
			}
			got := resources.Attrs{"zone": live.Attrs["zone"], "zone_id": live.Attrs["zone_id"]}
			if diff := cmp.Diff(resources.Attrs{"zone": tc.wantZone, "zone_id": zoneID}, got); diff != "" {
				t.Errorf("zone attributes (-want +got):\n%s", diff)
			}
		})
	}
	missing := r53Target("test-broker.example.org", "A", "192.0.2.10")
	missing.Attrs["zone"] = "example.org"
	if _, err := d.Find(ctx, missing); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Find in a missing zone: err = %v, want hosted zone not found", err)
	}
}

func TestRoute53RecordCreateRejectsNameOutsideZone(t *testing.T) {
	d, c, zoneID := r53Setup(t)
	ctx := moto.Context(t)
	// With zone_id, only the driver knows the zone's name.
	target := r53Target("test-broker.example.org", "A", "192.0.2.10")
	delete(target.Attrs, "zone")
	target.Attrs["zone_id"] = zoneID
	if _, err := d.Create(ctx, target); err == nil || !strings.Contains(err.Error(), "not inside zone litentry.org") {
		t.Errorf("Create outside the zone: err = %v, want it to say the name is not inside zone litentry.org", err)
	}
	if got := r53Raw(t, c, zoneID, "test-broker.example.org", "A"); got != nil {
		t.Errorf("a record was written: %+v", got)
	}
}

// The engine finds a resource whose record was deleted behind envctl's back
// through List (its owner record is left) and calls Update: the record is
// written again under the same owner record.
func TestRoute53RecordUpdateRecreatesDanglingRecord(t *testing.T) {
	d, c, zoneID := r53Setup(t)
	ctx := moto.Context(t)
	target := r53Target("test-broker.litentry.org", "A", "192.0.2.10")
	if _, err := d.Create(ctx, target); err != nil {
		t.Fatalf("Create: %v", err)
	}
	r53RawChange(t, c, zoneID, types.ChangeActionDelete, "test-broker.litentry.org", "A", 300, "192.0.2.10")
	listed, err := d.List(ctx, "test")
	if err != nil || len(listed) != 1 {
		t.Fatalf("List = %d, %v; want the dangling owner record", len(listed), err)
	}
	target.Attrs["values"] = []string{"192.0.2.30"}
	live, err := d.Update(ctx, listed[0], target, []string{"values", "ttl"})
	if err != nil {
		t.Fatalf("Update of a dangling owner record: %v", err)
	}
	if diff := cmp.Diff([]string{"192.0.2.30"}, live.Attrs["values"]); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if live.Notes["dangling"] != "" {
		t.Errorf("Notes = %v; the record is no longer dangling", live.Notes)
	}
	if diff := cmp.Diff([]string{`"envctl:env=test,id=broker"`}, r53RawValues(t, c, zoneID, "_envctl-a.test-broker.litentry.org", "TXT")); diff != "" {
		t.Errorf("owner record (-want +got):\n%s", diff)
	}
}

// Create finds the resource's own owner record left without its record and
// writes the record under it.
func TestRoute53RecordCreateOverOwnDanglingOwner(t *testing.T) {
	d, c, zoneID := r53Setup(t)
	ctx := moto.Context(t)
	target := r53Target("test-broker.litentry.org", "A", "192.0.2.10")
	if _, err := d.Create(ctx, target); err != nil {
		t.Fatalf("Create: %v", err)
	}
	r53RawChange(t, c, zoneID, types.ChangeActionDelete, "test-broker.litentry.org", "A", 300, "192.0.2.10")
	target.Attrs["values"] = []string{"192.0.2.40"}
	if _, err := d.Create(ctx, target); err != nil {
		t.Fatalf("Create under its own dangling owner record: %v", err)
	}
	if diff := cmp.Diff([]string{"192.0.2.40"}, r53RawValues(t, c, zoneID, "test-broker.litentry.org", "A")); diff != "" {
		t.Errorf("data record (-want +got):\n%s", diff)
	}
	other := r53Target("other.litentry.org", "A", "192.0.2.10")
	r53RawChange(t, c, zoneID, types.ChangeActionCreate, "_envctl-a.other.litentry.org", "TXT", 300, `"envctl:env=prod,id=broker"`)
	if _, err := d.Create(ctx, other); err == nil || !strings.Contains(err.Error(), "is not this resource's") {
		t.Errorf("Create under another env's owner record: err = %v, want a refusal", err)
	}
	if got := r53Raw(t, c, zoneID, "other.litentry.org", "A"); got != nil {
		t.Errorf("a record was written under another env's owner record: %+v", got)
	}
}
