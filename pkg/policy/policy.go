package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// DefaultVersion is the policy language version IAM assumes when a document
// leaves Version out. Normalize and Marshal fill it in, so a document without
// Version compares equal to the same document with it.
const DefaultVersion = "2012-10-17"

// Parse decodes a policy document given as JSON, either raw or
// percent-encoded as IAM's GetRole, GetRolePolicy and GetPolicyVersion return
// it. It fails when the text is not a JSON object.
func Parse(s string) (map[string]any, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") {
		// IAM encodes per RFC 3986, where "+" is a literal plus, not a space;
		// PathUnescape keeps it, QueryUnescape would not.
		dec, err := url.PathUnescape(s)
		if err != nil {
			return nil, fmt.Errorf("policy is neither JSON nor URL-encoded JSON: %w", err)
		}
		s = strings.TrimSpace(dec)
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("policy is not valid JSON: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("policy: expected a JSON object, got %s", describe(v))
	}
	return doc, nil
}

// Marshal encodes doc as compact JSON for sending to AWS. It adds Version
// when the document has none, because IAM would otherwise read it with the
// 2008 language version, which lacks policy variables; everything else is
// sent as written.
func Marshal(doc map[string]any) (string, error) {
	out := clone(doc).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	if _, ok := out["Version"]; !ok {
		out["Version"] = DefaultVersion
	}
	return encode(out)
}

// Validate reports whether doc has the shape of an IAM policy document. It
// returns nil for a valid document, and otherwise every problem found, joined
// with errors.Join, each starting with the path of the offending value, such
// as `Statement[1].Effect: expected "Allow" or "Deny", got "allow"`.
func Validate(doc map[string]any) error {
	var v validator
	v.keys("", doc, "Version", "Id", "Statement")
	if ver, ok := doc["Version"]; ok && ver != "2012-10-17" && ver != "2008-10-17" {
		v.addf("Version", `expected "2012-10-17" or "2008-10-17", got %s`, describe(ver))
	}
	if id, ok := doc["Id"]; ok {
		v.str("Id", id)
	}
	switch st := doc["Statement"].(type) {
	case nil:
		v.addf("Statement", "required; expected a statement object or a non-empty list of them")
	case map[string]any:
		v.statement("Statement", st)
	default:
		list, ok := asList(st)
		if !ok || len(list) == 0 {
			v.addf("Statement", "expected a statement object or a non-empty list of them, got %s", describe(st))
			break
		}
		for i, s := range list {
			path := fmt.Sprintf("Statement[%d]", i)
			if m, ok := s.(map[string]any); ok {
				v.statement(path, m)
			} else {
				v.addf(path, "expected a statement object, got %s", describe(s))
			}
		}
	}
	return errors.Join(v.errs...)
}

// principalTypes are the keys IAM accepts inside Principal and NotPrincipal.
var principalTypes = []string{"AWS", "CanonicalUser", "Federated", "Service"}

// validator collects problems so that a user sees all of them at once.
type validator struct{ errs []error }

func (v *validator) addf(path, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// keys reports the keys of m that are not in allowed, in sorted order.
func (v *validator) keys(path string, m map[string]any, allowed ...string) {
	var unknown []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		v.addf(join(path, k), "unknown key; expected one of %s", strings.Join(allowed, ", "))
	}
}

func (v *validator) str(path string, x any) {
	if _, ok := x.(string); !ok {
		v.addf(path, "expected a string, got %s", describe(x))
	}
}

func (v *validator) statement(path string, st map[string]any) {
	v.keys(path, st, "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition")
	if sid, ok := st["Sid"]; ok {
		v.str(path+".Sid", sid)
	}
	if e, ok := st["Effect"]; !ok {
		v.addf(path+".Effect", `required; expected "Allow" or "Deny"`)
	} else if e != "Allow" && e != "Deny" {
		v.addf(path+".Effect", `expected "Allow" or "Deny", got %s`, describe(e))
	}
	v.oneOf(path, st, true, "Action", "NotAction")
	v.oneOf(path, st, false, "Resource", "NotResource")
	for _, k := range []string{"Action", "NotAction", "Resource", "NotResource"} {
		if x, ok := st[k]; ok {
			v.strings(path+"."+k, x)
		}
	}
	v.oneOf(path, st, false, "Principal", "NotPrincipal")
	for _, k := range []string{"Principal", "NotPrincipal"} {
		if x, ok := st[k]; ok {
			v.principal(path+"."+k, x)
		}
	}
	if c, ok := st["Condition"]; ok {
		v.condition(path+".Condition", c)
	}
}

// oneOf checks that st has at most one of a and b, and, when required, at
// least one.
func (v *validator) oneOf(path string, st map[string]any, required bool, a, b string) {
	_, hasA := st[a]
	_, hasB := st[b]
	switch {
	case hasA && hasB:
		v.addf(path, "expected only one of %s or %s, got both", a, b)
	case required && !hasA && !hasB:
		v.addf(path, "expected one of %s or %s, got neither", a, b)
	}
}

func (v *validator) strings(path string, x any) {
	if _, ok := x.(string); ok {
		return
	}
	list, ok := asList(x)
	if !ok || len(list) == 0 {
		v.addf(path, "expected a string or a non-empty list of strings, got %s", describe(x))
		return
	}
	for i, e := range list {
		v.str(fmt.Sprintf("%s[%d]", path, i), e)
	}
}

func (v *validator) principal(path string, x any) {
	m, ok := x.(map[string]any)
	if !ok || len(m) == 0 {
		if x != "*" {
			v.addf(path, `expected "*" or an object with %s, got %s`, strings.Join(principalTypes, ", "), describe(x))
		}
		return
	}
	v.keys(path, m, principalTypes...)
	for _, k := range principalTypes {
		if ids, ok := m[k]; ok {
			v.strings(path+"."+k, ids)
		}
	}
}

func (v *validator) condition(path string, x any) {
	ops, ok := x.(map[string]any)
	if !ok {
		v.addf(path, "expected an object of condition operators, got %s", describe(x))
		return
	}
	for _, op := range sortedKeys(ops) {
		keys, ok := ops[op].(map[string]any)
		if !ok {
			v.addf(join(path, op), "expected an object of condition keys, got %s", describe(ops[op]))
			continue
		}
		for _, k := range sortedKeys(keys) {
			if _, ok := values(keys[k]); !ok {
				v.addf(join(join(path, op), k), "expected a string, number or bool, or a non-empty list of them, got %s", describe(keys[k]))
			}
		}
	}
}

// Normalize returns the canonical form of doc, in which two documents that
// mean the same to IAM are deeply equal. It does not modify doc. Version
// defaults to DefaultVersion; Statement is always a list, sorted by Sid and
// then by content, because IAM gives statement order no meaning; Action,
// NotAction, Resource, NotResource, each Principal type and each condition
// value become sorted lists without duplicates; condition values become
// strings, because IAM compares them as strings (true equals "true", 3600
// equals "3600"). Principal "*" stays a string: it is not the same as
// {"AWS": "*"} in every context. Parts that do not have a valid shape are
// copied unchanged, so Normalize never fails.
func Normalize(doc map[string]any) map[string]any {
	out, _ := clone(doc).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	if _, ok := out["Version"]; !ok {
		out["Version"] = DefaultVersion
	}
	st, ok := out["Statement"]
	if !ok {
		return out
	}
	if m, isMap := st.(map[string]any); isMap {
		st = []any{m}
	}
	list, ok := asList(st)
	if !ok {
		return out
	}
	for _, s := range list {
		if m, ok := s.(map[string]any); ok {
			normalizeStatement(m)
		}
	}
	// Keys are computed once: they are canonical JSON, which is not cheap.
	type keyed struct {
		sid, json string
		st        any
	}
	ks := make([]keyed, len(list))
	for i, s := range list {
		ks[i] = keyed{sidOf(s), canonical(s), s}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		if ks[i].sid != ks[j].sid {
			return ks[i].sid < ks[j].sid
		}
		return ks[i].json < ks[j].json
	})
	for i := range ks {
		list[i] = ks[i].st
	}
	out["Statement"] = list
	return out
}

// normalizeStatement rewrites st, which must be a private copy, in place.
func normalizeStatement(st map[string]any) {
	for _, k := range []string{"Action", "NotAction", "Resource", "NotResource"} {
		if x, ok := st[k]; ok {
			st[k] = stringSet(x)
		}
	}
	for _, k := range []string{"Principal", "NotPrincipal"} {
		if m, ok := st[k].(map[string]any); ok {
			for typ, ids := range m {
				m[typ] = stringSet(ids)
			}
		}
	}
	if ops, ok := st["Condition"].(map[string]any); ok {
		for _, keys := range ops {
			if keys, ok := keys.(map[string]any); ok {
				for k, x := range keys {
					if vals, ok := values(x); ok {
						keys[k] = set(vals)
					}
				}
			}
		}
	}
}

// stringSet returns x as a sorted list without duplicates when x is a string
// or a list of strings, and x itself otherwise.
func stringSet(x any) any {
	if s, ok := x.(string); ok {
		return []any{s}
	}
	list, ok := asList(x)
	if !ok {
		return x
	}
	strs := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return x
		}
		strs = append(strs, s)
	}
	return set(strs)
}

// values returns the condition value x as strings, the way IAM compares it.
// It fails when x is neither a scalar nor a non-empty list of scalars.
func values(x any) ([]string, bool) {
	if s, ok := scalar(x); ok {
		return []string{s}, true
	}
	list, ok := asList(x)
	if !ok || len(list) == 0 {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := scalar(e)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// scalar formats a condition value as IAM reads it. Numbers take the form
// encoding/json would send, so 3600.0 and int64(3600) both become "3600".
func scalar(x any) (string, bool) {
	switch x := x.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		if b, err := json.Marshal(x); err == nil {
			return string(b), true
		}
		return strconv.FormatFloat(x, 'g', -1, 64), true // NaN and ±Inf have no JSON form.
	}
	return "", false
}

func set(strs []string) []any {
	sort.Strings(strs)
	strs = slices.Compact(strs)
	out := make([]any, len(strs))
	for i, s := range strs {
		out[i] = s
	}
	return out
}

// Equal reports whether a and b mean the same policy, that is whether their
// normalized forms are equal.
func Equal(a, b map[string]any) bool {
	return CanonicalJSON(a) == CanonicalJSON(b)
}

// CanonicalJSON returns the compact JSON of Normalize(doc), with object keys
// sorted. Equal documents give the same text, so it serves as a fingerprint.
func CanonicalJSON(doc map[string]any) string {
	return canonical(Normalize(doc))
}

// Change is one difference between two policy documents. Path names the
// document, statement and field, such as
// "trust_policy.Statement[AllowOIDC].Condition". Before and After hold the
// normalized values, nil where the value is absent.
type Change struct {
	Path          string
	Before, After any
}

// Diff compares two documents after normalization and returns what changed,
// or nil when they are equal. path prefixes every Change.Path.
//
// Top-level fields other than Statement (Version, Id) are compared one by one.
// Statements with a Sid are matched by Sid, and a matched pair that differs
// gives one Change per differing field. Statements without a Sid have no
// identity, so they match only an identical statement; a changed one shows as
// removed plus added. A removed or added statement gives one Change for the
// whole statement, with path "Statement[<Sid>]", or "Statement[#<i>]" with its
// index in the normalized document when it has no Sid. The order is that of
// the normalized documents: changes and removals first, then additions.
func Diff(path string, before, after map[string]any) []Change {
	nb, na := Normalize(before), Normalize(after)
	var changes []Change
	for _, k := range sortedKeys(nb, na) {
		if k != "Statement" && canonical(nb[k]) != canonical(na[k]) {
			changes = append(changes, Change{join(path, k), nb[k], na[k]})
		}
	}
	bs, as := statements(nb), statements(na)
	used := make([]bool, len(as))
	match := func(s any) int {
		sid, key := sidOf(s), canonical(s)
		for j, t := range as {
			if used[j] || sidOf(t) != sid {
				continue
			}
			if sid != "" || canonical(t) == key {
				used[j] = true
				return j
			}
		}
		return -1
	}
	for i, s := range bs {
		j := match(s)
		if j < 0 {
			changes = append(changes, Change{statementPath(path, s, i), s, nil})
			continue
		}
		bm, ok1 := s.(map[string]any)
		am, ok2 := as[j].(map[string]any)
		if !ok1 || !ok2 {
			continue // Only Sid-less values, which matched because identical.
		}
		for _, k := range sortedKeys(bm, am) {
			if canonical(bm[k]) != canonical(am[k]) {
				changes = append(changes, Change{statementPath(path, s, i) + "." + k, bm[k], am[k]})
			}
		}
	}
	for j, t := range as {
		if !used[j] {
			changes = append(changes, Change{statementPath(path, t, j), nil, t})
		}
	}
	return changes
}

// statements returns the statement list of a normalized document.
func statements(doc map[string]any) []any {
	st, ok := doc["Statement"]
	if !ok {
		return nil
	}
	if list, ok := st.([]any); ok {
		return list
	}
	return []any{st} // An invalid Statement still diffs as one value.
}

func statementPath(path string, st any, i int) string {
	if sid := sidOf(st); sid != "" {
		return join(path, "Statement["+sid+"]")
	}
	return join(path, fmt.Sprintf("Statement[#%d]", i))
}

func sidOf(st any) string {
	m, _ := st.(map[string]any)
	sid, _ := m["Sid"].(string)
	return sid
}

// asList returns x as a list when it is one. []string is accepted too, for
// documents built in Go rather than decoded.
func asList(x any) ([]any, bool) {
	switch x := x.(type) {
	case []any:
		return x, true
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// clone copies maps and lists deeply so that Normalize can rewrite its copy
// without touching the caller's document.
func clone(x any) any {
	switch x := x.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, v := range x {
			out[k] = clone(v)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = clone(v)
		}
		return out
	case []string:
		l, _ := asList(x)
		return l
	}
	return x
}

// canonical returns the compact JSON of x. A value JSON cannot hold (NaN from
// a YAML document, say) falls back to Go syntax, so that comparing never
// fails; such a document is invalid anyway.
func canonical(x any) string {
	s, err := encode(x)
	if err != nil {
		return fmt.Sprintf("%#v", x)
	}
	return s
}

// encode is json.Marshal without HTML escaping, which would only make
// condition values such as "a&b" harder to read in plans.
func encode(x any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func sortedKeys(ms ...map[string]any) []string {
	var keys []string
	for _, m := range ms {
		for k := range m {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return slices.Compact(keys)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describe names a value for an error message: strings quoted, lists and
// objects by kind, so that a large value does not flood the message.
func describe(x any) string {
	switch x := x.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case map[string]any:
		return "an object"
	case []any, []string:
		if l, _ := asList(x); len(l) == 0 {
			return "an empty list"
		}
		return "a list"
	case bool, int, int64, float64:
		return fmt.Sprint(x)
	}
	return fmt.Sprintf("a %T", x)
}
