package policy

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// doc decodes a JSON literal, so that test cases read like the policies they
// stand for.
func doc(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test document %s: %v", s, err)
	}
	return m
}

const trust = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "AllowOIDC",
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {
      "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
      "StringLike": {"token.actions.githubusercontent.com:sub": "repo:litentry/envctl:environment:test"}
    }
  }]
}`

func TestParse(t *testing.T) {
	// PathEscape stands in for IAM's RFC 3986 encoding. It leaves "+" as is,
	// and that "+" must not turn into a space when decoded.
	raw := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a+b c"}}`
	encoded := url.PathEscape(raw)
	if !strings.HasPrefix(encoded, "%7B%22Version%22") || !strings.Contains(encoded, "a+b%20c") {
		t.Fatalf("test encoding is not IAM's: %s", encoded)
	}
	tests := []struct {
		name    string
		in      string
		want    map[string]any
		wantErr string
	}{
		{name: "raw JSON", in: raw, want: doc(t, raw)},
		{name: "URL-encoded by IAM", in: encoded, want: doc(t, raw)},
		{name: "surrounding space", in: "\n " + raw + "\n", want: doc(t, raw)},
		{name: "list is not an object", in: `[{"Effect":"Allow"}]`, wantErr: "policy: expected a JSON object, got a list"},
		{name: "string is not an object", in: `"x"`, wantErr: `policy: expected a JSON object, got "x"`},
		{name: "invalid JSON", in: `{"Version":`, wantErr: "policy is not valid JSON: unexpected end of JSON input"},
		{name: "bad percent escape", in: `%7B%zz`, wantErr: `policy is neither JSON nor URL-encoded JSON: invalid URL escape "%zz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Errorf("Parse error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{
			name: "single string vs one-element list",
			a:    `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`,
			b:    `{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]}]}`,
			want: true,
		},
		{
			name: "action order and duplicates",
			a:    `{"Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"*"}]}`,
			b:    `{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:GetObject"],"Resource":"*"}]}`,
			want: true,
		},
		{
			name: "key order",
			a:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
			b:    `{"Statement":[{"Resource":"*","Action":"s3:*","Effect":"Allow"}],"Version":"2012-10-17"}`,
			want: true,
		},
		{
			name: "missing Version is 2012-10-17",
			a:    `{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}`,
			b:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`,
			want: true,
		},
		{
			name: "2008 Version differs",
			a:    `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`,
			b:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`,
			want: false,
		},
		{
			name: "principal string vs list",
			a:    `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{"Federated":"arn"}}]}`,
			b:    `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{"Federated":["arn"]}}]}`,
			want: true,
		},
		{
			name: "principal star vs AWS star",
			a:    `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Principal":"*"}]}`,
			b:    `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Principal":{"AWS":"*"}}]}`,
			want: false,
		},
		{
			name: "condition bool vs string",
			a:    `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}`,
			b:    `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":["false"]}}}]}`,
			want: true,
		},
		{
			name: "condition number vs string",
			a:    `{"Statement":[{"Effect":"Allow","Action":"s3:*","Condition":{"NumericLessThan":{"s3:max-keys":3600}}}]}`,
			b:    `{"Statement":[{"Effect":"Allow","Action":"s3:*","Condition":{"NumericLessThan":{"s3:max-keys":"3600"}}}]}`,
			want: true,
		},
		{
			name: "statement order",
			a:    `{"Statement":[{"Effect":"Allow","Action":"a:A"},{"Effect":"Deny","Action":"b:B"}]}`,
			b:    `{"Statement":[{"Effect":"Deny","Action":"b:B"},{"Effect":"Allow","Action":"a:A"}]}`,
			want: true,
		},
		{
			name: "condition value changed",
			a:    trust,
			b:    strings.Replace(trust, "environment:test", "environment:prod", 1),
			want: false,
		},
		{
			name: "Allow vs Deny",
			a:    `{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}`,
			b:    `{"Statement":[{"Effect":"Deny","Action":"s3:*"}]}`,
			want: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(doc(t, tt.a), doc(t, tt.b)); got != tt.want {
				t.Errorf("Equal = %v, want %v\na: %s\nb: %s", got, tt.want, CanonicalJSON(doc(t, tt.a)), CanonicalJSON(doc(t, tt.b)))
			}
		})
	}
}

// YAML decoders produce int64 and bool where JSON gives float64 and strings;
// both must normalize the same.
func TestEqualYAMLShapes(t *testing.T) {
	fromYAML := map[string]any{
		"Statement": []any{map[string]any{
			"Effect": "Allow",
			"Action": []string{"sts:AssumeRole"},
			"Condition": map[string]any{
				"NumericLessThanEquals": map[string]any{"aws:MultiFactorAuthAge": int64(3600)},
				"Bool":                  map[string]any{"aws:MultiFactorAuthPresent": true},
				"NumericEquals":         map[string]any{"x:n": 3},
			},
		}},
	}
	fromIAM := doc(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Condition":{
		"NumericLessThanEquals":{"aws:MultiFactorAuthAge":"3600"},
		"Bool":{"aws:MultiFactorAuthPresent":"true"},
		"NumericEquals":{"x:n":3.0}}}]}`)
	if !Equal(fromYAML, fromIAM) {
		t.Errorf("Equal = false\nyaml: %s\niam:  %s", CanonicalJSON(fromYAML), CanonicalJSON(fromIAM))
	}
}

func TestNormalize(t *testing.T) {
	in := doc(t, `{"Statement":[
		{"Sid":"B","Effect":"Allow","Action":["s3:Put*","s3:Get*"],"Resource":"arn:aws:s3:::b/*",
		 "Principal":{"AWS":["arn:2","arn:1","arn:2"]},"Condition":{"Bool":{"aws:SecureTransport":true}}},
		{"Sid":"A","Effect":"Deny","NotAction":"iam:*","Principal":"*"}]}`)
	before := CanonicalJSON(in) // Any mutation of in would show below.
	inCopy := clone(in)
	want := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{"Sid": "A", "Effect": "Deny", "NotAction": []any{"iam:*"}, "Principal": "*"},
			map[string]any{
				"Sid": "B", "Effect": "Allow",
				"Action":    []any{"s3:Get*", "s3:Put*"},
				"Resource":  []any{"arn:aws:s3:::b/*"},
				"Principal": map[string]any{"AWS": []any{"arn:1", "arn:2"}},
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": []any{"true"}}},
			},
		},
	}
	got := Normalize(in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Normalize (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(inCopy, any(in)); diff != "" {
		t.Errorf("Normalize modified its input (-want +got):\n%s", diff)
	}
	if after := CanonicalJSON(in); after != before {
		t.Errorf("CanonicalJSON changed between calls: %s != %s", after, before)
	}
}

func TestCanonicalJSON(t *testing.T) {
	got := CanonicalJSON(doc(t, `{"Statement":{"Resource":"*","Effect":"Allow","Action":["b:B","a:A"]}}`))
	want := `{"Statement":[{"Action":["a:A","b:B"],"Effect":"Allow","Resource":["*"]}],"Version":"2012-10-17"}`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CanonicalJSON (-want +got):\n%s", diff)
	}
}

func TestMarshal(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "adds Version, keeps list order",
			in:   `{"Statement":[{"Effect":"Allow","Action":["b:B","a:A"],"Condition":{"StringLike":{"k":"a&b"}}}]}`,
			want: `{"Statement":[{"Action":["b:B","a:A"],"Condition":{"StringLike":{"k":"a&b"}},"Effect":"Allow"}],"Version":"2012-10-17"}`,
		},
		{
			name: "keeps Version",
			in:   `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"a:A"}}`,
			want: `{"Statement":{"Action":"a:A","Effect":"Allow"},"Version":"2008-10-17"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := doc(t, tt.in)
			got, err := Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Marshal (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(doc(t, tt.in), in); diff != "" {
				t.Errorf("Marshal modified its input (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	const (
		allowA = `{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`
		noSid  = `{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}`
	)
	stmt := func(s string) any { return Normalize(doc(t, `{"Statement":`+s+`}`))["Statement"].([]any)[0] }
	tests := []struct {
		name          string
		before, after string
		want          []Change
	}{
		{
			name:   "equal in meaning",
			before: trust,
			after:  strings.ReplaceAll(strings.ReplaceAll(trust, `"sts.amazonaws.com"`, `["sts.amazonaws.com"]`), `"Version": "2012-10-17",`, ""),
			want:   nil,
		},
		{
			name:   "condition value changed",
			before: trust,
			after:  strings.Replace(trust, "environment:test", "environment:prod", 1),
			want: []Change{{
				Path: "trust_policy.Statement[AllowOIDC].Condition",
				Before: map[string]any{
					"StringEquals": map[string]any{"token.actions.githubusercontent.com:aud": []any{"sts.amazonaws.com"}},
					"StringLike":   map[string]any{"token.actions.githubusercontent.com:sub": []any{"repo:litentry/envctl:environment:test"}},
				},
				After: map[string]any{
					"StringEquals": map[string]any{"token.actions.githubusercontent.com:aud": []any{"sts.amazonaws.com"}},
					"StringLike":   map[string]any{"token.actions.githubusercontent.com:sub": []any{"repo:litentry/envctl:environment:prod"}},
				},
			}},
		},
		{
			name:   "field added to matched statement",
			before: `{"Statement":[` + allowA + `]}`,
			after:  `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true}}}]}`,
			want: []Change{{
				Path:  "trust_policy.Statement[A].Condition",
				After: map[string]any{"Bool": map[string]any{"aws:SecureTransport": []any{"true"}}},
			}},
		},
		{
			name:   "statement added",
			before: `{"Statement":[` + allowA + `]}`,
			after:  `{"Statement":[` + allowA + `,{"Sid":"B","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}`,
			want: []Change{{
				Path:  "trust_policy.Statement[B]",
				After: stmt(`{"Sid":"B","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}`),
			}},
		},
		{
			name:   "statement removed",
			before: `{"Statement":[` + allowA + `,` + noSid + `]}`,
			after:  `{"Statement":[` + allowA + `]}`,
			want:   []Change{{Path: "trust_policy.Statement[#0]", Before: stmt(noSid)}},
		},
		{
			name:   "Sid-less statement changed shows remove and add",
			before: `{"Statement":[` + allowA + `,` + noSid + `]}`,
			after:  `{"Statement":[` + allowA + `,` + strings.Replace(noSid, ":::b", ":::c", 1) + `]}`,
			want: []Change{
				{Path: "trust_policy.Statement[#0]", Before: stmt(noSid)},
				{Path: "trust_policy.Statement[#0]", After: stmt(strings.Replace(noSid, ":::b", ":::c", 1))},
			},
		},
		{
			name:   "Version changed",
			before: `{"Version":"2008-10-17","Statement":[` + allowA + `]}`,
			after:  `{"Statement":[` + allowA + `]}`,
			want:   []Change{{Path: "trust_policy.Version", Before: "2008-10-17", After: "2012-10-17"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff("trust_policy", doc(t, tt.before), doc(t, tt.after))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "valid trust policy", in: trust},
		{name: "valid single statement", in: `{"Version":"2008-10-17","Id":"x","Statement":{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"*","NotPrincipal":{"AWS":["arn:a"]}}}`},
		{name: "missing Statement", in: `{"Version":"2012-10-17"}`, want: "Statement: required; expected a statement object or a non-empty list of them"},
		{name: "empty Statement list", in: `{"Statement":[]}`, want: "Statement: expected a statement object or a non-empty list of them, got an empty list"},
		{name: "statement not an object", in: `{"Statement":["x"]}`, want: `Statement[0]: expected a statement object, got "x"`},
		{name: "bad Version", in: `{"Version":"2013-01-01","Statement":{"Effect":"Allow","Action":"a:A"}}`, want: `Version: expected "2012-10-17" or "2008-10-17", got "2013-01-01"`},
		{name: "unknown top-level key", in: `{"Statment":[],"Statement":{"Effect":"Allow","Action":"a:A"}}`, want: "Statment: unknown key; expected one of Version, Id, Statement"},
		{name: "unknown statement key", in: `{"Statement":[{"Effect":"Allow","Action":"a:A","Actions":"b:B"}]}`, want: "Statement[0].Actions: unknown key; expected one of Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition"},
		{name: "missing Effect", in: `{"Statement":[{"Action":"a:A"}]}`, want: `Statement[0].Effect: required; expected "Allow" or "Deny"`},
		{name: "lowercase Effect", in: `{"Statement":[{"Effect":"Allow","Action":"a:A"},{"Effect":"allow","Action":"a:A"}]}`, want: `Statement[1].Effect: expected "Allow" or "Deny", got "allow"`},
		{name: "Action a number", in: `{"Statement":[{"Effect":"Allow","Action":5}]}`, want: "Statement[0].Action: expected a string or a non-empty list of strings, got 5"},
		{name: "Action list of non-strings", in: `{"Statement":[{"Effect":"Allow","Action":["a:A",{"b":1}]}]}`, want: "Statement[0].Action[1]: expected a string, got an object"},
		{name: "no Action", in: `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`, want: "Statement[0]: expected one of Action or NotAction, got neither"},
		{name: "Action and NotAction", in: `{"Statement":[{"Effect":"Allow","Action":"a:A","NotAction":"b:B"}]}`, want: "Statement[0]: expected only one of Action or NotAction, got both"},
		{name: "bad principal type", in: `{"Statement":[{"Effect":"Allow","Action":"a:A","Principal":{"Aws":"arn"}}]}`, want: "Statement[0].Principal.Aws: unknown key; expected one of AWS, CanonicalUser, Federated, Service"},
		{name: "principal other string", in: `{"Statement":[{"Effect":"Allow","Action":"a:A","Principal":"arn"}]}`, want: `Statement[0].Principal: expected "*" or an object with AWS, CanonicalUser, Federated, Service, got "arn"`},
		{name: "condition value a map", in: `{"Statement":[{"Effect":"Allow","Action":"a:A","Condition":{"StringEquals":{"k":{"v":1}}}}]}`, want: "Statement[0].Condition.StringEquals.k: expected a string, number or bool, or a non-empty list of them, got an object"},
		{name: "condition operator not a map", in: `{"Statement":[{"Effect":"Allow","Action":"a:A","Condition":{"Bool":true}}]}`, want: "Statement[0].Condition.Bool: expected an object of condition keys, got true"},
		{name: "Sid not a string", in: `{"Statement":[{"Sid":1,"Effect":"Allow","Action":"a:A"}]}`, want: "Statement[0].Sid: expected a string, got 1"},
		{
			name: "all problems reported",
			in:   `{"Statement":[{"Effect":"allow"},{"Effect":"Deny","Action":[]}]}`,
			want: `Statement[0].Effect: expected "Allow" or "Deny", got "allow"` + "\n" +
				"Statement[0]: expected one of Action or NotAction, got neither\n" +
				"Statement[1].Action: expected a string or a non-empty list of strings, got an empty list",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errString(Validate(doc(t, tt.in)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzParse checks that Parse and Validate never panic, and that a parsed
// document survives Marshal and Parse unchanged in meaning.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		_ = Validate(d)
		out, err := Marshal(d)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(d)): %v\n%s", err, out)
		}
		if !Equal(d, again) {
			t.Fatalf("round trip changed the document:\n%s\n%s", CanonicalJSON(d), CanonicalJSON(again))
		}
	})
}

// FuzzNormalize checks, on any decodable document, that Normalize never
// panics, leaves its input alone and is idempotent, and that a document
// equals itself with no diff.
func FuzzNormalize(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		before := canonical(d)
		n := Normalize(d)
		if after := canonical(d); after != before {
			t.Fatalf("Normalize modified its input:\n%s\n%s", before, after)
		}
		if a, b := canonical(n), CanonicalJSON(n); a != b {
			t.Fatalf("Normalize is not idempotent:\n%s\n%s", a, b)
		}
		if !Equal(d, n) {
			t.Fatal("a document differs from its normal form")
		}
		if c := Diff("p", d, d); c != nil {
			t.Fatalf("Diff of a document with itself: %v", c)
		}
	})
}
