package awsproxy

import (
	"net/http"
	"net/url"
	"strings"
)

// Request identifies one AWS API call as the proxy saw it. It is what
// Config.Match receives and what Counts and Faulted are keyed by
// (Service + ":" + Action).
type Request struct {
	// Service is the signing name from the SigV4 credential scope: "iam",
	// "sts", "ec2", "s3", "route53", "ssm"; "unknown" for unsigned requests
	// the proxy cannot place.
	Service string
	// Action is the API operation name, "CreateRole". When the proxy cannot
	// name a REST call it falls back to the method and the shape of the path,
	// "GET /2013-04-01/hostedzone/{id}/keysigningkey", so such calls are
	// still counted and can still be matched.
	Action string
	// Method and Path are the HTTP request's.
	Method string
	Path   string
}

// Key is the "service:Action" string Counts and Faulted use.
func (r Request) Key() string { return r.Service + ":" + r.Action }

// protocol is the AWS wire protocol of a request. It decides how an injected
// error must look: the SDK parses error codes per protocol, and a body in the
// wrong shape would surface as an unclassified error the retryer treats
// differently from the real one.
type protocol int

const (
	protoQuery   protocol = iota // awsQuery: IAM, STS
	protoEC2                     // ec2Query
	protoRESTXML                 // Route53
	protoS3                      // S3's REST-XML dialect
	protoJSON                    // awsJson1.0/1.1: SSM
)

// classify names the call in r. body is the request body when the proxy had
// to read it (form-encoded query-protocol requests), otherwise nil.
func classify(r *http.Request, body []byte) (Request, protocol) {
	req := Request{Service: signingService(r), Method: r.Method, Path: r.URL.Path}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		// JSON protocols name the operation in a header: "AmazonSSM.GetParameter".
		req.Action = target[strings.LastIndex(target, ".")+1:]
		if req.Service == "" {
			req.Service = "unknown"
		}
		return req, protoJSON
	}
	switch {
	case req.Service == "s3":
		req.Action = s3Action(r)
		return req, protoS3
	case req.Service == "route53" || strings.HasPrefix(r.URL.Path, route53Prefix):
		req.Service = "route53"
		req.Action = route53Action(r.Method, r.URL.Path)
		return req, protoRESTXML
	}
	action := r.URL.Query().Get("Action")
	if body != nil {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			action = form.Get("Action")
		}
	}
	if action == "" {
		action = r.Method + " " + r.URL.Path
	}
	req.Action = action
	if req.Service == "" {
		req.Service = "unknown"
	}
	if req.Service == "ec2" {
		return req, protoEC2
	}
	return req, protoQuery
}

// signingService returns the service from the SigV4 credential scope,
// AKID/date/region/SERVICE/aws4_request, found in the Authorization header
// or, for presigned URLs, in X-Amz-Credential. Every service shares one
// endpoint behind the proxy, so the scope is the only reliable way to tell
// IAM from STS from EC2. The service is the second-to-last element, which
// also holds for SigV4a scopes (those have no region).
func signingService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			cred = auth[i+len("Credential="):]
			if j := strings.IndexAny(cred, ", "); j >= 0 {
				cred = cred[:j]
			}
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) < 4 {
		return ""
	}
	return parts[len(parts)-2]
}

// mutatingPrefixes are the verbs of AWS actions that change state. The list
// is the brief's plus verbs IAM, EC2 and SSM use for changes that the brief's
// list misses (SetDefaultPolicyVersion, ReplaceRoute, ImportKeyPair, ...).
var mutatingPrefixes = []string{
	"Create", "Put", "Delete", "Update", "Attach", "Detach", "Tag", "Untag",
	"Run", "Terminate", "Allocate", "Associate", "Disassociate", "Release",
	"Authorize", "Revoke", "Modify", "Change", "Add", "Remove", "Start", "Stop",
	"Set", "Reset", "Replace", "Import", "Enable", "Disable", "Register",
	"Deregister", "Reboot", "Upload", "Copy", "Restore", "Assign", "Unassign",
	"Accept", "Reject", "Cancel", "Label", "Send",
}

// Mutating reports whether the call changes state. S3 is judged by HTTP
// method, as the brief asks, because its REST verbs carry the meaning (a
// POST is DeleteObjects or a multipart step, never a read). Calls the proxy
// could only name by method and path are judged the same way.
func (r Request) Mutating() bool {
	if r.Service == "s3" || strings.Contains(r.Action, " ") {
		switch r.Method {
		case http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodPatch:
			return true
		}
		return false
	}
	for _, p := range mutatingPrefixes {
		// Require a word boundary so a prefix never matches inside a longer
		// word ("Add" must not match a hypothetical "Address...").
		if rest, ok := strings.CutPrefix(r.Action, p); ok && (rest == "" || isUpper(rest[0])) {
			return true
		}
	}
	return false
}

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

const route53Prefix = "/2013-04-01/"

// route53Actions maps "METHOD shape" to the operation, where shape is the
// path after the API version with identifiers replaced by {id}.
var route53Actions = map[string]string{
	"POST hostedzone":                      "CreateHostedZone",
	"GET hostedzone":                       "ListHostedZones",
	"GET hostedzone/{id}":                  "GetHostedZone",
	"POST hostedzone/{id}":                 "UpdateHostedZoneComment",
	"DELETE hostedzone/{id}":               "DeleteHostedZone",
	"POST hostedzone/{id}/rrset":           "ChangeResourceRecordSets",
	"GET hostedzone/{id}/rrset":            "ListResourceRecordSets",
	"POST hostedzone/{id}/associatevpc":    "AssociateVPCWithHostedZone",
	"POST hostedzone/{id}/disassociatevpc": "DisassociateVPCFromHostedZone",
	"GET hostedzone/{id}/dnssec":           "GetDNSSEC",
	"GET hostedzonesbyname":                "ListHostedZonesByName",
	"GET hostedzonesbyvpc":                 "ListHostedZonesByVPC",
	"GET hostedzonecount":                  "GetHostedZoneCount",
	"GET change/{id}":                      "GetChange",
	"GET tags/hostedzone/{id}":             "ListTagsForResource",
	"POST tags/hostedzone/{id}":            "ChangeTagsForResource",
	"POST tags/hostedzone":                 "ListTagsForResources",
	"GET tags/healthcheck/{id}":            "ListTagsForResource",
	"POST tags/healthcheck/{id}":           "ChangeTagsForResource",
	"POST tags/healthcheck":                "ListTagsForResources",
	"POST healthcheck":                     "CreateHealthCheck",
	"GET healthcheck":                      "ListHealthChecks",
	"GET healthcheck/{id}":                 "GetHealthCheck",
	"POST healthcheck/{id}":                "UpdateHealthCheck",
	"DELETE healthcheck/{id}":              "DeleteHealthCheck",
	"GET healthcheckcount":                 "GetHealthCheckCount",
	"POST delegationset":                   "CreateReusableDelegationSet",
	"GET delegationset":                    "ListReusableDelegationSets",
	"GET delegationset/{id}":               "GetReusableDelegationSet",
	"DELETE delegationset/{id}":            "DeleteReusableDelegationSet",
	"POST queryloggingconfig":              "CreateQueryLoggingConfig",
	"GET queryloggingconfig":               "ListQueryLoggingConfigs",
	"GET queryloggingconfig/{id}":          "GetQueryLoggingConfig",
	"DELETE queryloggingconfig/{id}":       "DeleteQueryLoggingConfig",
}

// route53Action names a Route53 REST-XML call from its method and path.
func route53Action(method, path string) string {
	rest := strings.Trim(strings.TrimPrefix(path, strings.TrimSuffix(route53Prefix, "/")), "/")
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		if !isKeyword(s) {
			segs[i] = "{id}"
		}
	}
	shape := strings.Join(segs, "/")
	if a, ok := route53Actions[method+" "+shape]; ok {
		return a
	}
	return method + " " + route53Prefix + shape
}

// isKeyword reports whether a path segment is a fixed word of the API rather
// than an identifier. Route53 resource ids are upper case and change and
// health-check ids contain digits or hyphens, so "only lower-case letters"
// separates the two without a list of every keyword.
func isKeyword(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// s3Subresources lists the query-string subresources that select an S3
// operation, in the order they are checked; each maps method to operation.
// Bucket and object share names (tagging, acl) but not operations, hence two
// tables.
var (
	s3BucketSubresources = []string{
		"delete", "versions", "uploads", "policy", "policyStatus", "tagging",
		"versioning", "encryption", "lifecycle", "publicAccessBlock",
		"ownershipControls", "acl", "cors", "website", "logging",
		"notification", "replication", "location", "object-lock",
		"accelerate", "requestPayment",
	}
	s3BucketActions = map[string]map[string]string{
		"delete":            {"POST": "DeleteObjects"},
		"versions":          {"GET": "ListObjectVersions"},
		"uploads":           {"GET": "ListMultipartUploads"},
		"policy":            {"GET": "GetBucketPolicy", "PUT": "PutBucketPolicy", "DELETE": "DeleteBucketPolicy"},
		"policyStatus":      {"GET": "GetBucketPolicyStatus"},
		"tagging":           {"GET": "GetBucketTagging", "PUT": "PutBucketTagging", "DELETE": "DeleteBucketTagging"},
		"versioning":        {"GET": "GetBucketVersioning", "PUT": "PutBucketVersioning"},
		"encryption":        {"GET": "GetBucketEncryption", "PUT": "PutBucketEncryption", "DELETE": "DeleteBucketEncryption"},
		"lifecycle":         {"GET": "GetBucketLifecycleConfiguration", "PUT": "PutBucketLifecycleConfiguration", "DELETE": "DeleteBucketLifecycle"},
		"publicAccessBlock": {"GET": "GetPublicAccessBlock", "PUT": "PutPublicAccessBlock", "DELETE": "DeletePublicAccessBlock"},
		"ownershipControls": {"GET": "GetBucketOwnershipControls", "PUT": "PutBucketOwnershipControls", "DELETE": "DeleteBucketOwnershipControls"},
		"acl":               {"GET": "GetBucketAcl", "PUT": "PutBucketAcl"},
		"cors":              {"GET": "GetBucketCors", "PUT": "PutBucketCors", "DELETE": "DeleteBucketCors"},
		"website":           {"GET": "GetBucketWebsite", "PUT": "PutBucketWebsite", "DELETE": "DeleteBucketWebsite"},
		"logging":           {"GET": "GetBucketLogging", "PUT": "PutBucketLogging"},
		"notification":      {"GET": "GetBucketNotificationConfiguration", "PUT": "PutBucketNotificationConfiguration"},
		"replication":       {"GET": "GetBucketReplication", "PUT": "PutBucketReplication", "DELETE": "DeleteBucketReplication"},
		"location":          {"GET": "GetBucketLocation"},
		"object-lock":       {"GET": "GetObjectLockConfiguration", "PUT": "PutObjectLockConfiguration"},
		"accelerate":        {"GET": "GetBucketAccelerateConfiguration", "PUT": "PutBucketAccelerateConfiguration"},
		"requestPayment":    {"GET": "GetBucketRequestPayment", "PUT": "PutBucketRequestPayment"},
		"":                  {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket", "GET": "ListObjects"},
	}
	s3ObjectSubresources = []string{
		"uploadId", "uploads", "tagging", "acl", "retention", "legal-hold",
		"attributes", "restore",
	}
	s3ObjectActions = map[string]map[string]string{
		"uploadId":   {"PUT": "UploadPart", "POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload", "GET": "ListParts"},
		"uploads":    {"POST": "CreateMultipartUpload"},
		"tagging":    {"GET": "GetObjectTagging", "PUT": "PutObjectTagging", "DELETE": "DeleteObjectTagging"},
		"acl":        {"GET": "GetObjectAcl", "PUT": "PutObjectAcl"},
		"retention":  {"GET": "GetObjectRetention", "PUT": "PutObjectRetention"},
		"legal-hold": {"GET": "GetObjectLegalHold", "PUT": "PutObjectLegalHold"},
		"attributes": {"GET": "GetObjectAttributes"},
		"restore":    {"POST": "RestoreObject"},
		"":           {"PUT": "PutObject", "GET": "GetObject", "DELETE": "DeleteObject", "HEAD": "HeadObject"},
	}
)

// s3Action names an S3 REST call. It assumes path-style addressing
// (/bucket/key), which is what envctl uses against any custom endpoint.
func s3Action(r *http.Request) string {
	q := r.URL.Query()
	// The SDK adds ?x-id=Operation where method and path alone are
	// ambiguous; when present it is the authoritative name.
	if id := q.Get("x-id"); id != "" {
		return id
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	if path == "" {
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
		return r.Method + " /"
	}
	_, key, _ := strings.Cut(path, "/")
	level, subs, actions := "bucket", s3BucketSubresources, s3BucketActions
	if key != "" {
		level, subs, actions = "object", s3ObjectSubresources, s3ObjectActions
	}
	sub := ""
	for _, s := range subs {
		if q.Has(s) {
			sub = s
			break
		}
	}
	a, ok := actions[sub][r.Method]
	if !ok {
		if sub != "" {
			return r.Method + " " + level + "?" + sub
		}
		return r.Method + " " + level
	}
	copySource := r.Header.Get("X-Amz-Copy-Source") != ""
	switch {
	case a == "ListObjects" && q.Get("list-type") == "2":
		return "ListObjectsV2"
	case a == "PutObject" && copySource:
		return "CopyObject"
	case a == "UploadPart" && copySource:
		return "UploadPartCopy"
	}
	return a
}
