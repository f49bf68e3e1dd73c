package config

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// identifier is a name that must belong to exactly one env.
type identifier struct {
	kind  string // "bucket name", "role name", ...
	value string
	env   *Env
	res   string // resource id, or "lock"
	pos   Pos
}

// identifiers lists the names an env owns: hosts, records, provider URLs,
// role names, bucket names, security-group names, its lock key, and the
// ARNs built from them.
func identifiers(env *Env) []identifier {
	var out []identifier
	add := func(kind, value string, r *Resource, attr string) {
		if value == "" {
			return
		}
		id := identifier{kind: kind, value: value, env: env, res: "resources." + r.ID, pos: r.Pos}
		if p, ok := r.AttrPos[attr]; ok {
			id.pos = p
		}
		out = append(out, id)
	}
	for _, r := range env.Resources {
		str := func(attr string) string { s, _ := r.Attrs[attr].(string); return s }
		switch r.Type {
		case "s3_bucket":
			add("bucket name", str("name"), r, "name")
			add("bucket ARN", "arn:aws:s3:::"+str("name"), r, "name")
		case "iam_role":
			add("role name", str("name"), r, "name")
		case "iam_oidc_provider":
			url := str("url")
			host := strings.TrimPrefix(url, "https://")
			add("OIDC provider URL", url, r, "url")
			add("OIDC provider", host, r, "url")
			add("OIDC provider ARN", fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", env.AccountID, host), r, "url")
		case "route53_record":
			add("DNS record", strings.TrimSuffix(str("name"), ".")+" "+str("record_type"), r, "name")
			add("hostname", strings.TrimSuffix(str("name"), "."), r, "name")
		case "ec2_security_group":
			add("security group name", str("name"), r, "name")
		}
	}
	if env.Lock != nil {
		out = append(out, identifier{kind: "lock key", value: "s3://" + env.Lock.Bucket + "/" + env.Lock.Key, env: env, res: "lock", pos: Pos{File: env.File}})
	}
	return out
}

// CheckIsolation reports every identifier two envs share, and every value
// in one env that names another env's identifier (an ARN in a trust
// policy, a bucket in a policy, a hostname), so a test env can never reach
// prod's role, provider or bucket.
func CheckIsolation(envs []*Env) error {
	var probs Problems
	ids := map[*Env][]identifier{}
	for _, e := range envs {
		ids[e] = identifiers(e)
	}
	for i, a := range envs {
		for _, b := range envs[i+1:] {
			for _, x := range ids[a] {
				for _, y := range ids[b] {
					if x.kind == y.kind && x.value == y.value {
						probs.add(y.pos, "%s %s and %s %s share the %s %q; envs must not share identifiers", b.File, y.res, a.File, x.res, x.kind, x.value)
					}
				}
			}
		}
	}
	for _, a := range envs {
		for _, b := range envs {
			if a == b {
				continue
			}
			for _, r := range a.Resources {
				for _, attr := range sortedAttrNames(r) {
					for _, s := range strings_(r.Attrs[attr]) {
						for _, y := range ids[b] {
							if y.kind == "DNS record" || !mentions(s, y.value) || ownedToo(ids[a], y.value) {
								continue
							}
							pos := r.Pos
							if p, ok := r.AttrPos[attr]; ok {
								pos = p
							}
							probs.add(pos, "%s resources.%s.%s names %s of env %s (%s %s): %q", a.File, r.ID, attr, y.kind, b.Name, b.File, y.res, y.value)
						}
					}
				}
			}
		}
	}
	return probs.Err()
}

func ownedToo(ids []identifier, value string) bool {
	for _, id := range ids {
		if id.value == value {
			return true
		}
	}
	return false
}

func sortedAttrNames(r *Resource) []string {
	names := make([]string, 0, len(r.Attrs))
	for k := range r.Attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// strings_ returns every string inside a decoded value, map keys included
// (IAM condition keys name provider hosts).
func strings_(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case *Template:
		return []string{x.String()}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, strings_(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for k, e := range x {
			out = append(out, k)
			out = append(out, strings_(e)...)
		}
		return out
	}
	return nil
}

// mentions reports whether value occurs in s as a whole name: not as part
// of a longer name (prod's "broker.example.org" is not in test's
// "test-broker.example.org").
func mentions(s, value string) bool {
	re := regexp.MustCompile(`(^|[^A-Za-z0-9._-])` + regexp.QuoteMeta(value) + `($|[^A-Za-z0-9_-]|\.[^A-Za-z0-9])`)
	return re.MatchString(s)
}
