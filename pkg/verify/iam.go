package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/litentry/envctl/pkg/policy"
)

// ProviderPath returns the host/path part of an OIDC provider URL or ARN,
// the form IAM uses in ARNs and condition keys.
func ProviderPath(urlOrARN string) string {
	if _, p, ok := strings.Cut(urlOrARN, ":oidc-provider/"); ok {
		return p
	}
	return strings.TrimPrefix(urlOrARN, "https://")
}

// CheckTrust requires the role's trust policy to name this env's provider
// (providerARN) as a federated principal, and never a provider of another
// env, neither as principal nor in a condition key (<host/path>:aud).
// others maps the host/path of other envs' providers to their env names.
// Other federated principals are reported as a warning.
func CheckTrust(roleName string, trust map[string]any, providerARN string, others map[string]string) Result {
	const check = "iam.trust"
	doc := policy.Normalize(trust)
	var federated, condHosts []string
	statements, _ := doc["Statement"].([]any)
	for _, s := range statements {
		st, _ := s.(map[string]any)
		if st == nil {
			continue
		}
		if p, ok := st["Principal"].(map[string]any); ok {
			federated = append(federated, anyStrings(p["Federated"])...)
		}
		if ops, ok := st["Condition"].(map[string]any); ok {
			for _, keys := range ops {
				if keys, ok := keys.(map[string]any); ok {
					for k := range keys {
						if host, _, ok := strings.Cut(k, ":"); ok && strings.Contains(host, ".") {
							condHosts = append(condHosts, host)
						}
					}
				}
			}
		}
	}
	slices.Sort(federated)
	federated = slices.Compact(federated)
	var bad, extra []string
	for _, f := range federated {
		if f == providerARN {
			continue
		}
		if env, ok := others[ProviderPath(f)]; ok && strings.Contains(f, ":oidc-provider/") {
			bad = append(bad, fmt.Sprintf("trusts %s, the provider of env %s", f, env))
			continue
		}
		extra = append(extra, f)
	}
	slices.Sort(condHosts)
	for _, h := range slices.Compact(condHosts) {
		if env, ok := others[h]; ok {
			bad = append(bad, fmt.Sprintf("has conditions on %s:…, the provider of env %s", h, env))
		}
	}
	switch {
	case len(bad) > 0:
		return fail(check, fmt.Sprintf("role %s %s", roleName, strings.Join(bad, "; ")), "a role of one env must trust only that env's provider")
	case !slices.Contains(federated, providerARN):
		return fail(check, fmt.Sprintf("role %s trusts %s", roleName, orNone(federated)), "expected "+providerARN)
	case len(extra) > 0:
		return Result{Name: check, Status: Warn, Value: fmt.Sprintf("role %s trusts %s and also %s", roleName, providerARN, strings.Join(extra, ", ")), Detail: "other federated principals can assume this role"}
	}
	return ok(check, "role %s trusts %s only", roleName, providerARN)
}

func anyStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}

// CheckPublicAccess requires the bucket to block all public access.
func CheckPublicAccess(bucket string, blocked bool) Result {
	const check = "s3.public_access"
	if blocked {
		return ok(check, "%s blocks all public access", bucket)
	}
	return fail(check, bucket+" does not block public access", "all four Block Public Access settings must be on")
}

// CheckBucketPolicy requires the live bucket policy to mean the same as the
// declared one. declared nil means the file declares none: skipped.
func CheckBucketPolicy(bucket string, live, declared map[string]any) Result {
	const check = "s3.policy"
	switch {
	case declared == nil:
		return skipped(check, "no bucket policy declared")
	case live == nil:
		return fail(check, bucket+" has no bucket policy", "expected the declared policy; envctl apply sets it")
	case policy.Equal(live, declared):
		return ok(check, "%s has the declared policy", bucket)
	}
	var paths []string
	for _, c := range policy.Diff("policy", declared, live) {
		paths = append(paths, c.Path)
	}
	return fail(check, bucket+" policy differs from the declared one", "differs at "+strings.Join(paths, ", "))
}
