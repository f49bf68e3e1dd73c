package awsproxy

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/awsapi"
)

// The integration tests share one moto_server (started on first use and
// stopped after the package, by moto.Main) and reset it per test, so they
// must not run in parallel. A missing moto_server fails them.
func TestMain(m *testing.M) { os.Exit(moto.Main(m)) }

const trustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// startProxy starts a proxy in front of a fresh moto and returns both.
func startProxy(t *testing.T, cfg Config) (*Proxy, *moto.Server) {
	t.Helper()
	srv := moto.ForTest(t)
	cfg.Target = srv.URL
	p, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, srv
}

// clients builds envctl's SDK clients against endpoint. maxAttempts 0 keeps
// envctl's default retry budget.
func clients(t *testing.T, endpoint string, maxAttempts int) *awsapi.Clients {
	t.Helper()
	c, err := awsapi.New(context.Background(), awsapi.Options{EndpointURL: endpoint, MaxAttempts: maxAttempts})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func check(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestCountsByAction(t *testing.T) {
	p, _ := startProxy(t, Config{})
	c := clients(t, p.URL(), 1)
	ctx := moto.Context(t)

	_, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("counts-role"), AssumeRolePolicyDocument: aws.String(trustPolicy)})
	check(t, "CreateRole", err)
	_, err = c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("counts-role")})
	check(t, "GetRole", err)
	_, err = c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("counts-bucket")})
	check(t, "CreateBucket", err)
	_, err = c.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
		Bucket:  aws.String("counts-bucket"),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}},
	})
	check(t, "PutBucketTagging", err)
	// No policy is set, so this fails; it still reaches the proxy.
	_, err = c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("counts-bucket")})
	if awsapi.Code(err) != "NoSuchBucketPolicy" {
		t.Fatalf("GetBucketPolicy: want NoSuchBucketPolicy, got %v", err)
	}
	_, err = c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	check(t, "DescribeVpcs", err)
	_, err = c.Route53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("counts.awsproxy.test."), CallerReference: aws.String("counts")})
	check(t, "CreateHostedZone", err)
	_, err = c.Route53.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String("counts.awsproxy.test.")})
	check(t, "ListHostedZonesByName", err)
	_, err = c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	check(t, "GetCallerIdentity", err)
	_, err = c.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/proxytest/counts"), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString})
	check(t, "PutParameter", err)
	_, err = c.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/proxytest/counts")})
	check(t, "GetParameter", err)

	want := map[string]int{
		"iam:CreateRole":                1,
		"iam:GetRole":                   1,
		"s3:CreateBucket":               1,
		"s3:PutBucketTagging":           1,
		"s3:GetBucketPolicy":            1,
		"ec2:DescribeVpcs":              1,
		"route53:CreateHostedZone":      1,
		"route53:ListHostedZonesByName": 1,
		"sts:GetCallerIdentity":         1,
		"ssm:PutParameter":              1,
		"ssm:GetParameter":              1,
	}
	if diff := cmp.Diff(want, p.Counts()); diff != "" {
		t.Errorf("Counts() (-want +got):\n%s", diff)
	}
	if got := p.Mutating(); got != 5 {
		t.Errorf("Mutating() = %d, want 5 (CreateRole, CreateBucket, PutBucketTagging, CreateHostedZone, PutParameter)", got)
	}
	if got := p.Faulted(); len(got) != 0 {
		t.Errorf("Faulted() = %v, want none at fault rate 0", got)
	}
	p.Reset()
	if got, n := p.Counts(), p.Mutating(); len(got) != 0 || n != 0 {
		t.Errorf("after Reset: Counts() = %v, Mutating() = %d, want empty and 0", got, n)
	}
}

// outcome is what the SDK and its default retryer make of an error.
type outcome struct {
	Code      string // smithy error code
	Status    int    // HTTP status, 0 for a dropped connection
	Throttle  bool   // retry.DefaultThrottles says throttle
	Retryable bool   // retry.DefaultRetryables says retry
	SendError bool   // the SDK saw no response at all
}

func classifyErr(err error) outcome {
	var send *smithyhttp.RequestSendError
	return outcome{
		Code:      awsapi.Code(err),
		Status:    awsapi.HTTPStatus(err),
		Throttle:  retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary,
		Retryable: retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary,
		SendError: errors.As(err, &send),
	}
}

// TestFaultShapes checks that each injected fault reaches the SDK as the
// real AWS error would, per protocol: same code, same status, same verdict
// from the retryer.
func TestFaultShapes(t *testing.T) {
	p, _ := startProxy(t, Config{})
	c := clients(t, p.URL(), 1)
	ctx := moto.Context(t)

	calls := []struct {
		name string
		call func() error
	}{
		{"iam", func() error { _, err := c.IAM.ListRoles(ctx, &iam.ListRolesInput{}); return err }},
		{"sts", func() error { _, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err }},
		{"ec2", func() error { _, err := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); return err }},
		{"s3", func() error { _, err := c.S3.ListBuckets(ctx, &s3.ListBucketsInput{}); return err }},
		{"route53", func() error {
			_, err := c.Route53.ListHostedZones(ctx, &route53.ListHostedZonesInput{})
			return err
		}},
		{"ssm", func() error {
			_, err := c.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/proxytest/shapes")})
			return err
		}},
	}
	throttle := func(code string, status int) outcome {
		return outcome{Code: code, Status: status, Throttle: true, Retryable: true}
	}
	internal := func(code string) outcome {
		return outcome{Code: code, Status: 500, Retryable: true}
	}
	dropped := outcome{Retryable: true, SendError: true}
	tests := []struct {
		kind Kind
		want map[string]outcome
	}{
		{Throttle, map[string]outcome{
			"iam":     throttle("Throttling", 400),
			"sts":     throttle("Throttling", 400),
			"ec2":     throttle("RequestLimitExceeded", 503),
			"s3":      throttle("SlowDown", 503),
			"route53": throttle("Throttling", 400),
			"ssm":     throttle("ThrottlingException", 400),
		}},
		{InternalError, map[string]outcome{
			"iam":     internal("ServiceFailure"),
			"sts":     internal("InternalFailure"),
			"ec2":     internal("InternalError"),
			"s3":      internal("InternalError"),
			"route53": internal("InternalFailure"),
			"ssm":     internal("InternalServerError"),
		}},
		{DropBeforeServer, map[string]outcome{
			"iam": dropped, "sts": dropped, "ec2": dropped, "s3": dropped, "route53": dropped, "ssm": dropped,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			if err := p.SetConfig(Config{Target: p.target.Load().String(), FaultRate: 1, Faults: []Kind{tt.kind}}); err != nil {
				t.Fatal(err)
			}
			got := map[string]outcome{}
			for _, c := range calls {
				err := c.call()
				if err == nil {
					t.Fatalf("%s: call succeeded through a proxy faulting every request", c.name)
				}
				got[c.name] = classifyErr(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SDK's view of %v faults (-want +got):\n%s", tt.kind, diff)
			}
		})
	}
}

// TestRetriesRideThroughThrottling: with envctl's retryer, half the requests
// throttled still means every call succeeds, one extra request per fault.
func TestRetriesRideThroughThrottling(t *testing.T) {
	p, _ := startProxy(t, Config{Seed: 7, FaultRate: 0.5, Faults: []Kind{Throttle}})
	c := clients(t, p.URL(), 0)
	ctx := moto.Context(t)

	calls := []func() error{
		func() error { _, err := c.IAM.ListRoles(ctx, &iam.ListRolesInput{}); return err },
		func() error { _, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err },
		func() error { _, err := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); return err },
		func() error { _, err := c.S3.ListBuckets(ctx, &s3.ListBucketsInput{}); return err },
		func() error { _, err := c.Route53.ListHostedZones(ctx, &route53.ListHostedZonesInput{}); return err },
		func() error {
			_, err := c.SSM.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
			return err
		},
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d failed despite retries: %v", i, err)
		}
	}
	faults, requests := 0, 0
	for _, n := range p.Faulted() {
		faults += n
	}
	for _, n := range p.Counts() {
		requests += n
	}
	t.Logf("faulted: %v", p.Faulted())
	if faults == 0 {
		t.Fatal("no request was throttled at fault rate 0.5")
	}
	if requests != len(calls)+faults {
		t.Errorf("requests = %d, want %d calls + %d retries", requests, len(calls), faults)
	}
}

// TestDropAfterServer: the client sees a failure, but moto performed the
// call — and the SDK's own retry then runs into the result.
func TestDropAfterServer(t *testing.T) {
	var createRoles atomic.Int32
	p, srv := startProxy(t, Config{
		FaultRate: 1,
		Faults:    []Kind{DropAfterServer},
		Match: func(r Request) bool {
			if r.Key() != "iam:CreateRole" {
				return false
			}
			return createRoles.Add(1) == 1
		},
	})
	ctx := moto.Context(t)
	direct := clients(t, srv.URL, 1)

	t.Run("client sees an error, role exists", func(t *testing.T) {
		c := clients(t, p.URL(), 1)
		_, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("dropped-role"), AssumeRolePolicyDocument: aws.String(trustPolicy)})
		if got := classifyErr(err); !got.SendError || !got.Retryable {
			t.Fatalf("CreateRole: want a retryable send error, got %v (%+v)", err, got)
		}
		if _, err := direct.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("dropped-role")}); err != nil {
			t.Fatalf("GetRole against moto: the dropped CreateRole should have created the role: %v", err)
		}
	})

	t.Run("SDK retry repeats the mutation", func(t *testing.T) {
		createRoles.Store(0)
		p.Reset()
		c := clients(t, p.URL(), 3)
		_, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("dropped-retried-role"), AssumeRolePolicyDocument: aws.String(trustPolicy)})
		if code := awsapi.Code(err); code != "EntityAlreadyExists" {
			t.Fatalf("CreateRole retried after a lost response: want EntityAlreadyExists, got %v", err)
		}
		want := map[string]int{"iam:CreateRole": 2}
		if diff := cmp.Diff(want, p.Counts()); diff != "" {
			t.Errorf("Counts() (-want +got):\n%s", diff)
		}
	})
}

func TestLatency(t *testing.T) {
	const latency = 50 * time.Millisecond
	p, _ := startProxy(t, Config{Latency: latency})
	c := clients(t, p.URL(), 1)
	ctx := moto.Context(t)

	start := time.Now()
	_, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	took := time.Since(start)
	check(t, "GetCallerIdentity", err)
	if took < latency {
		t.Errorf("call through a %v proxy took %v", latency, took)
	}
}

func TestMutating(t *testing.T) {
	p, _ := startProxy(t, Config{})
	c := clients(t, p.URL(), 1)
	ctx := moto.Context(t)

	// Each step: the call and whether it mutates.
	var zoneID *string
	steps := []struct {
		name    string
		mutates bool
		call    func() error
	}{
		{"GetCallerIdentity", false, func() error { _, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err }},
		{"CreateRole", true, func() error {
			_, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("mutating-role"), AssumeRolePolicyDocument: aws.String(trustPolicy)})
			return err
		}},
		{"GetRole", false, func() error {
			_, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("mutating-role")})
			return err
		}},
		{"TagRole", true, func() error {
			_, err := c.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("mutating-role"), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
		{"CreateBucket", true, func() error {
			_, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mutating-bucket")})
			return err
		}},
		{"HeadBucket", false, func() error {
			_, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("mutating-bucket")})
			return err
		}},
		{"PutBucketVersioning", true, func() error {
			_, err := c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
				Bucket:                  aws.String("mutating-bucket"),
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
			})
			return err
		}},
		{"ListObjectVersions", false, func() error {
			_, err := c.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("mutating-bucket")})
			return err
		}},
		{"DeleteBucket", true, func() error {
			_, err := c.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("mutating-bucket")})
			return err
		}},
		{"DescribeVpcs", false, func() error { _, err := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); return err }},
		{"CreateVpc", true, func() error {
			_, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.42.0.0/16")})
			return err
		}},
		{"CreateHostedZone", true, func() error {
			out, err := c.Route53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("mutating.awsproxy.test."), CallerReference: aws.String("mutating")})
			if err == nil {
				zoneID = out.HostedZone.Id
			}
			return err
		}},
		{"ChangeResourceRecordSets", true, func() error {
			_, err := c.Route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
				HostedZoneId: zoneID,
				ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{
					Action: r53types.ChangeActionUpsert,
					ResourceRecordSet: &r53types.ResourceRecordSet{
						Name: aws.String("www.mutating.awsproxy.test."), Type: r53types.RRTypeA, TTL: aws.Int64(60),
						ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("192.0.2.1")}},
					},
				}}},
			})
			return err
		}},
		{"ListResourceRecordSets", false, func() error {
			_, err := c.Route53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: zoneID})
			return err
		}},
		{"PutParameter", true, func() error {
			_, err := c.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/proxytest/mutating"), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString})
			return err
		}},
		{"GetParameter", false, func() error {
			_, err := c.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/proxytest/mutating")})
			return err
		}},
	}
	want := 0
	for _, s := range steps {
		check(t, s.name, s.call())
		if s.mutates {
			want++
		}
	}
	if got := p.Mutating(); got != want {
		t.Errorf("Mutating() = %d, want %d; counts: %v", got, want, p.Counts())
	}
}
