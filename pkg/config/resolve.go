package config

import (
	"fmt"
	"strconv"

	"github.com/litentry/envctl/pkg/policy"
	"github.com/litentry/envctl/pkg/resources"
)

// Lookup returns the value of a referenced attribute, or false when it is
// not known yet (the resource it belongs to has not been created).
type Lookup func(Ref) (string, bool)

// Resolve substitutes references in a decoded value and converts it to the
// canonical shape of a's kind (see resources.Attrs). known is false when a
// referenced value is not known yet; the value is then nil.
func Resolve(a *resources.Attr, v any, lookup Lookup) (val any, known bool, err error) {
	r := resolver{lookup: lookup, known: true}
	val, err = r.canonical(a.Kind, a.Elem, v)
	if !r.known {
		return nil, false, nil
	}
	return val, true, err
}

type resolver struct {
	lookup Lookup
	known  bool
}

func (r *resolver) str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case *Template:
		if r.lookup == nil {
			r.known = false
			return ""
		}
		s, ok := x.Resolve(r.lookup)
		if !ok {
			r.known = false
		}
		return s
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func (r *resolver) canonical(kind resources.Kind, elem []resources.Attr, v any) (any, error) {
	switch kind {
	case resources.String:
		return r.str(v), nil
	case resources.Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("expected true or false")
		}
		return b, nil
	case resources.Int:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		}
		s := r.str(v)
		if !r.known {
			return nil, nil
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("expected a whole number, got %q", s)
		}
		return i, nil
	case resources.StringList:
		list, _ := v.([]any)
		out := make([]string, 0, len(list))
		for _, e := range list {
			out = append(out, r.str(e))
		}
		return out, nil
	case resources.StringMap, resources.Tags:
		m, _ := v.(map[string]any)
		out := make(map[string]string, len(m))
		for k, e := range m {
			out[k] = r.str(e)
		}
		return out, nil
	case resources.Policy:
		m, _ := r.generic(v).(map[string]any)
		return m, nil
	case resources.PolicyMap:
		m, _ := v.(map[string]any)
		out := make(map[string]map[string]any, len(m))
		for k, e := range m {
			doc, _ := r.generic(e).(map[string]any)
			out[k] = doc
		}
		return out, nil
	case resources.ObjectList:
		list, _ := v.([]any)
		out := make([]map[string]any, 0, len(list))
		schema := &resources.Schema{Attrs: elem}
		for _, e := range list {
			obj, _ := e.(map[string]any)
			cobj := make(map[string]any, len(obj))
			for k, ev := range obj {
				a := schema.Attr(k)
				if a == nil {
					continue
				}
				cv, err := r.canonical(a.Kind, a.Elem, ev)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				cobj[k] = cv
			}
			out = append(out, cobj)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported kind %v", kind)
}

// generic resolves templates inside free-form documents.
func (r *resolver) generic(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = r.generic(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.generic(e)
		}
		return out
	case *Template:
		return r.str(x)
	}
	return v
}

// CheckPolicies validates a policy document (or a map of them) as IAM JSON.
// References are checked as placeholders: their values are ARNs or names,
// never structure.
func CheckPolicies(kind resources.Kind, v any) error {
	placeholder := func(Ref) (string, bool) { return "placeholder", true }
	r := resolver{lookup: placeholder, known: true}
	if kind == resources.PolicyMap {
		m, _ := v.(map[string]any)
		for _, name := range resources.SortedKeys(m) {
			doc, _ := r.generic(m[name]).(map[string]any)
			if err := policy.Validate(doc); err != nil {
				return fmt.Errorf("policy %q: %w", name, err)
			}
		}
		return nil
	}
	doc, _ := r.generic(v).(map[string]any)
	return policy.Validate(doc)
}
