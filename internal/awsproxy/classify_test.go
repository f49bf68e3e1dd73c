package awsproxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func signed(service string) string {
	return "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/" + service +
		"/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
}

type classifyCase struct {
	name      string
	method    string
	target    string
	header    map[string]string
	body      string
	want      Request
	wantProto protocol
}

func TestClassify(t *testing.T) {
	const form = "application/x-www-form-urlencoded; charset=utf-8"
	tests := []classifyCase{
		{
			name: "iam query", method: "POST", target: "/",
			header: map[string]string{"Authorization": signed("iam"), "Content-Type": form},
			body:   "Action=CreateRole&Version=2010-05-08&RoleName=r",
			want:   Request{Service: "iam", Action: "CreateRole", Method: "POST", Path: "/"}, wantProto: protoQuery,
		},
		{
			name: "sts query", method: "POST", target: "/",
			header: map[string]string{"Authorization": signed("sts"), "Content-Type": form},
			body:   "Action=GetCallerIdentity&Version=2011-06-15",
			want:   Request{Service: "sts", Action: "GetCallerIdentity", Method: "POST", Path: "/"}, wantProto: protoQuery,
		},
		{
			name: "ec2 query", method: "POST", target: "/",
			header: map[string]string{"Authorization": signed("ec2"), "Content-Type": form},
			body:   "Action=RunInstances&Version=2016-11-15",
			want:   Request{Service: "ec2", Action: "RunInstances", Method: "POST", Path: "/"}, wantProto: protoEC2,
		},
		{
			name: "ssm json", method: "POST", target: "/",
			header: map[string]string{"Authorization": signed("ssm"), "X-Amz-Target": "AmazonSSM.GetParameter", "Content-Type": "application/x-amz-json-1.1"},
			body:   `{"Name":"/x"}`,
			want:   Request{Service: "ssm", Action: "GetParameter", Method: "POST", Path: "/"}, wantProto: protoJSON,
		},
		{
			name: "presigned sts", method: "GET", target: "/?Action=GetCallerIdentity&X-Amz-Credential=testing%2F20250101%2Fus-east-1%2Fsts%2Faws4_request",
			want: Request{Service: "sts", Action: "GetCallerIdentity", Method: "GET", Path: "/"}, wantProto: protoQuery,
		},
		{
			name: "unsigned", method: "GET", target: "/whatever",
			want: Request{Service: "unknown", Action: "GET /whatever", Method: "GET", Path: "/whatever"}, wantProto: protoQuery,
		},
	}
	route53 := []struct{ method, path, action string }{
		{"POST", "/2013-04-01/hostedzone", "CreateHostedZone"},
		{"GET", "/2013-04-01/hostedzone", "ListHostedZones"},
		{"GET", "/2013-04-01/hostedzone/Z1D633PJN98FT9", "GetHostedZone"},
		{"DELETE", "/2013-04-01/hostedzone/Z1D633PJN98FT9", "DeleteHostedZone"},
		{"POST", "/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset/", "ChangeResourceRecordSets"},
		{"GET", "/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset", "ListResourceRecordSets"},
		{"GET", "/2013-04-01/change/C2682N5HXP0BZ4", "GetChange"},
		{"GET", "/2013-04-01/hostedzonesbyname", "ListHostedZonesByName"},
		{"GET", "/2013-04-01/tags/hostedzone/Z1D633PJN98FT9", "ListTagsForResource"},
		{"POST", "/2013-04-01/tags/hostedzone/Z1D633PJN98FT9", "ChangeTagsForResource"},
		{"GET", "/2013-04-01/healthcheck/0d1c6d4e-9b1a-4a3c-8e4b-1f2a3b4c5d6e", "GetHealthCheck"},
		{"GET", "/2013-04-01/hostedzone/Z1D633PJN98FT9/keysigningkey/KSK", "GET /2013-04-01/hostedzone/{id}/keysigningkey/{id}"},
	}
	for _, r := range route53 {
		tests = append(tests, classifyCase{
			name: "route53 " + r.action, method: r.method, target: r.path,
			header: map[string]string{"Authorization": signed("route53")},
			want:   Request{Service: "route53", Action: r.action, Method: r.method, Path: r.path}, wantProto: protoRESTXML,
		})
	}
	s3 := []struct {
		method, target, action string
		header                 map[string]string
	}{
		{"GET", "/", "ListBuckets", nil},
		{"PUT", "/b", "CreateBucket", nil},
		{"DELETE", "/b", "DeleteBucket", nil},
		{"HEAD", "/b", "HeadBucket", nil},
		{"GET", "/b?list-type=2", "ListObjectsV2", nil},
		{"GET", "/b", "ListObjects", nil},
		{"PUT", "/b?policy", "PutBucketPolicy", nil},
		{"GET", "/b?policy=", "GetBucketPolicy", nil},
		{"DELETE", "/b?policy", "DeleteBucketPolicy", nil},
		{"PUT", "/b?tagging", "PutBucketTagging", nil},
		{"GET", "/b?versioning", "GetBucketVersioning", nil},
		{"PUT", "/b?encryption", "PutBucketEncryption", nil},
		{"PUT", "/b?lifecycle", "PutBucketLifecycleConfiguration", nil},
		{"DELETE", "/b?lifecycle", "DeleteBucketLifecycle", nil},
		{"GET", "/b?publicAccessBlock", "GetPublicAccessBlock", nil},
		{"PUT", "/b?ownershipControls", "PutBucketOwnershipControls", nil},
		{"GET", "/b?versions", "ListObjectVersions", nil},
		{"POST", "/b?delete", "DeleteObjects", nil},
		{"PUT", "/b/k/x.txt", "PutObject", nil},
		{"PUT", "/b/k", "CopyObject", map[string]string{"X-Amz-Copy-Source": "/a/k"}},
		{"GET", "/b/k?x-id=GetObject", "GetObject", nil},
		{"DELETE", "/b/k", "DeleteObject", nil},
		{"HEAD", "/b/k", "HeadObject", nil},
		{"GET", "/b/k?tagging", "GetObjectTagging", nil},
		{"POST", "/b/k?uploads", "CreateMultipartUpload", nil},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "UploadPart", nil},
		{"GET", "/b?unheardof", "ListObjects", nil},
		{"POST", "/b?unheardof", "POST bucket", nil},
	}
	for _, r := range s3 {
		h := map[string]string{"Authorization": signed("s3")}
		for k, v := range r.header {
			h[k] = v
		}
		path, _, _ := strings.Cut(r.target, "?")
		tests = append(tests, classifyCase{
			name: "s3 " + r.method + " " + r.target, method: r.method, target: r.target, header: h,
			want: Request{Service: "s3", Action: r.action, Method: r.method, Path: path}, wantProto: protoS3,
		})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			var body []byte
			if isForm(r.Header.Get("Content-Type")) {
				body = []byte(tt.body)
			}
			got, proto := classify(r, body)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("classify (-want +got):\n%s", diff)
			}
			if proto != tt.wantProto {
				t.Errorf("protocol = %d, want %d", proto, tt.wantProto)
			}
		})
	}
}

func TestMutatingActions(t *testing.T) {
	tests := []struct {
		req  Request
		want bool
	}{
		{Request{Service: "iam", Action: "CreateRole", Method: "POST"}, true},
		{Request{Service: "iam", Action: "GetRole", Method: "POST"}, false},
		{Request{Service: "iam", Action: "ListRoles", Method: "POST"}, false},
		{Request{Service: "iam", Action: "TagRole", Method: "POST"}, true},
		{Request{Service: "iam", Action: "UntagRole", Method: "POST"}, true},
		{Request{Service: "iam", Action: "SetDefaultPolicyVersion", Method: "POST"}, true},
		{Request{Service: "ec2", Action: "RunInstances", Method: "POST"}, true},
		{Request{Service: "ec2", Action: "DescribeInstances", Method: "POST"}, false},
		{Request{Service: "ec2", Action: "AuthorizeSecurityGroupIngress", Method: "POST"}, true},
		{Request{Service: "ec2", Action: "ReleaseAddress", Method: "POST"}, true},
		{Request{Service: "sts", Action: "GetCallerIdentity", Method: "POST"}, false},
		{Request{Service: "route53", Action: "ChangeResourceRecordSets", Method: "POST"}, true},
		{Request{Service: "route53", Action: "ListTagsForResources", Method: "POST"}, false},
		{Request{Service: "route53", Action: "GetChange", Method: "GET"}, false},
		{Request{Service: "route53", Action: "POST /2013-04-01/hostedzone/{id}/x", Method: "POST"}, true},
		{Request{Service: "ssm", Action: "PutParameter", Method: "POST"}, true},
		{Request{Service: "ssm", Action: "GetParameter", Method: "POST"}, false},
		{Request{Service: "s3", Action: "PutBucketPolicy", Method: "PUT"}, true},
		{Request{Service: "s3", Action: "DeleteObjects", Method: "POST"}, true},
		{Request{Service: "s3", Action: "GetBucketPolicy", Method: "GET"}, false},
		{Request{Service: "s3", Action: "HeadBucket", Method: "HEAD"}, false},
		{Request{Service: "x", Action: "Adder", Method: "POST"}, false}, // prefix must end at a word boundary
	}
	for _, tt := range tests {
		if got := tt.req.Mutating(); got != tt.want {
			t.Errorf("%s Mutating() = %v, want %v", tt.req.Key(), got, tt.want)
		}
	}
}

// TestFaultChoiceDeterministic: the same seed and request sequence give the
// same faults, and requests Match rejects do not shift the sequence.
func TestFaultChoiceDeterministic(t *testing.T) {
	kinds := []Kind{Throttle, InternalError, DropBeforeServer, DropAfterServer}
	sequence := func(seed int64, interleave bool) []Kind {
		p, err := Start(Config{
			Target: "http://127.0.0.1:1", Seed: seed, FaultRate: 0.4, Faults: kinds,
			Match: func(r Request) bool { return r.Service == "iam" },
		})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var got []Kind
		for i := 0; i < 200; i++ {
			if interleave {
				if k, _, _ := p.decide(Request{Service: "s3", Action: "GetObject", Method: http.MethodGet}); k != 0 {
					t.Fatalf("unmatched request got fault %v", k)
				}
			}
			k, _, _ := p.decide(Request{Service: "iam", Action: "GetRole", Method: http.MethodPost})
			got = append(got, k)
		}
		return got
	}
	a := sequence(42, false)
	if diff := cmp.Diff(a, sequence(42, true)); diff != "" {
		t.Errorf("same seed, different faults (-first +second):\n%s", diff)
	}
	if cmp.Equal(a, sequence(43, false)) {
		t.Error("seeds 42 and 43 gave the same 200 faults")
	}
	seen := map[Kind]int{}
	for _, k := range a {
		seen[k]++
	}
	for _, k := range kinds {
		if seen[k] == 0 {
			t.Errorf("kind %v never chosen in 200 draws at rate 0.4", k)
		}
	}
	if n := seen[0]; n < 80 || n > 160 {
		t.Errorf("%d of 200 requests unfaulted at rate 0.4", n)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no target", Config{}},
		{"relative target", Config{Target: "127.0.0.1:5000"}},
		{"rate above one", Config{Target: "http://x", FaultRate: 1.5, Faults: []Kind{Throttle}}},
		{"rate without kinds", Config{Target: "http://x", FaultRate: 0.5}},
		{"bad kind", Config{Target: "http://x", FaultRate: 0.5, Faults: []Kind{99}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := Start(tt.cfg); err == nil {
				p.Close()
				t.Error("Start accepted an invalid config")
			}
		})
	}
}

func TestParseKinds(t *testing.T) {
	got, err := ParseKinds("throttle, 500,drop-before,drop-after,internal-error")
	if err != nil {
		t.Fatal(err)
	}
	want := []Kind{Throttle, InternalError, DropBeforeServer, DropAfterServer, InternalError}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseKinds (-want +got):\n%s", diff)
	}
	if _, err := ParseKinds("throttle,teapot"); err == nil {
		t.Error("ParseKinds accepted an unknown kind")
	}
}
