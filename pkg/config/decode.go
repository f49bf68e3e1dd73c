package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/litentry/envctl/pkg/resources"
)

// scalarString decodes a scalar as a string with interpolation; the result is
// a string or, where references are allowed, a *Template. Numbers are taken
// as written; bools, maps and lists are errors.
func (d *decoder) scalarString(n *node, path string, allowRefs bool) any {
	if n.kind != scalarNode || n.tag == "!!bool" {
		d.probs.add(n.pos, "%s: expected a string, got %s", path, n.describe())
		return nil
	}
	if n.tag != "!!str" {
		return n.str
	}
	saved := d.sc.allowRefs
	d.sc.allowRefs = allowRefs && saved
	defer func() { d.sc.allowRefs = saved }()
	return interpolate(n.str, n.pos, d.sc, d.probs)
}

// key interpolates a map key; keys may use vars and env but no references.
func (d *decoder) key(k *node) string {
	saved := d.sc.allowRefs
	d.sc.allowRefs = false
	defer func() { d.sc.allowRefs = saved }()
	s, _ := interpolate(k.str, k.pos, d.sc, d.probs).(string)
	return s
}

func (d *decoder) stringMap(n *node, path string, allowRefs bool) map[string]any {
	if n.kind != mapNode {
		d.probs.add(n.pos, "%s: expected a map of strings, got %s", path, n.describe())
		return nil
	}
	out := map[string]any{}
	for i, k := range n.keys {
		if v := d.scalarString(n.vals[i], path+"."+k.str, allowRefs); v != nil {
			out[d.key(k)] = v
		}
	}
	return out
}

// value decodes n as attribute a. It returns nil after reporting a problem.
func (d *decoder) value(n *node, a *resources.Attr, path string) any {
	switch a.Kind {
	case resources.String:
		return d.scalarString(n, path, true)
	case resources.Bool:
		if n.kind == scalarNode && n.tag == "!!str" && strings.Contains(n.str, "${") {
			if s, ok := d.scalarString(n, path, false).(string); ok && (s == "true" || s == "false") {
				return s == "true"
			}
			d.probs.add(n.pos, "%s: expected true or false after interpolation", path)
			return nil
		}
		if n.kind != scalarNode || n.tag != "!!bool" {
			d.probs.add(n.pos, "%s: expected true or false, got %s", path, n.describe())
			return nil
		}
		b, _ := strconv.ParseBool(strings.ToLower(n.str))
		return b
	case resources.Int:
		if n.kind == scalarNode && (n.tag == "!!int" || (n.tag == "!!str" && strings.Contains(n.str, "${"))) {
			s := n.str
			if n.tag == "!!str" {
				s, _ = d.scalarString(n, path, false).(string)
			}
			i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64)
			if err != nil {
				d.probs.add(n.pos, "%s: expected a whole number, got %q", path, s)
				return nil
			}
			return i
		}
		d.probs.add(n.pos, "%s: expected a whole number, got %s", path, n.describe())
		return nil
	case resources.StringList:
		if n.kind != listNode {
			d.probs.add(n.pos, "%s: expected a list of strings, got %s", path, n.describe())
			return nil
		}
		out := []any{}
		for i, item := range n.vals {
			if v := d.scalarString(item, fmt.Sprintf("%s[%d]", path, i), true); v != nil {
				out = append(out, v)
			}
		}
		return out
	case resources.StringMap, resources.Tags:
		return d.stringMap(n, path, true)
	case resources.Policy:
		if n.kind != mapNode {
			d.probs.add(n.pos, "%s: expected a policy document (a map with Version and Statement), got %s", path, n.describe())
			return nil
		}
		return d.generic(n, path)
	case resources.PolicyMap:
		if n.kind != mapNode {
			d.probs.add(n.pos, "%s: expected a map of policy name to policy document, got %s", path, n.describe())
			return nil
		}
		out := map[string]any{}
		pa := &resources.Attr{Name: a.Name, Kind: resources.Policy}
		for i, k := range n.keys {
			if v := d.value(n.vals[i], pa, path+"."+k.str); v != nil {
				out[d.key(k)] = v
			}
		}
		return out
	case resources.ObjectList:
		if n.kind != listNode {
			d.probs.add(n.pos, "%s: expected a list of maps, got %s", path, n.describe())
			return nil
		}
		out := []any{}
		for i, item := range n.vals {
			if v := d.object(item, a.Elem, fmt.Sprintf("%s[%d]", path, i)); v != nil {
				out = append(out, v)
			}
		}
		return out
	}
	d.probs.add(n.pos, "%s: unsupported attribute kind", path)
	return nil
}

// object decodes one element of an ObjectList.
func (d *decoder) object(n *node, elem []resources.Attr, path string) map[string]any {
	if n.kind != mapNode {
		d.probs.add(n.pos, "%s: expected a map, got %s", path, n.describe())
		return nil
	}
	schema := &resources.Schema{Attrs: elem}
	out := map[string]any{}
	for i, k := range n.keys {
		a := schema.Attr(k.str)
		if a == nil {
			names := attrNames(schema)
			d.probs.add(k.pos, "%s: unknown key %q%s; expected one of %s", path, k.str, suggest(k.str, names), strings.Join(names, ", "))
			continue
		}
		if v := d.value(n.vals[i], a, path+"."+k.str); v != nil {
			out[k.str] = v
			d.check(a, v, n.vals[i].pos, path+"."+k.str)
		}
	}
	for _, a := range elem {
		if _, ok := out[a.Name]; ok {
			continue
		}
		if a.Required {
			d.probs.add(n.pos, "%s: missing %q", path, a.Name)
		} else if a.Default != nil {
			out[a.Name] = copyValue(a.Default)
		}
	}
	return out
}

// generic decodes free-form YAML (policy documents): maps, lists, strings
// with interpolation, numbers and bools as themselves.
func (d *decoder) generic(n *node, path string) any {
	switch n.kind {
	case mapNode:
		out := map[string]any{}
		for i, k := range n.keys {
			out[d.key(k)] = d.generic(n.vals[i], path+"."+k.str)
		}
		return out
	case listNode:
		out := make([]any, 0, len(n.vals))
		for i, v := range n.vals {
			out = append(out, d.generic(v, fmt.Sprintf("%s[%d]", path, i)))
		}
		return out
	case nullNode:
		return nil
	}
	switch n.tag {
	case "!!int":
		if i, err := strconv.ParseInt(n.str, 0, 64); err == nil {
			return i
		}
		return n.str
	case "!!float":
		if f, err := strconv.ParseFloat(n.str, 64); err == nil {
			return f
		}
		return n.str
	case "!!bool":
		b, _ := strconv.ParseBool(strings.ToLower(n.str))
		return b
	}
	return interpolate(n.str, n.pos, d.sc, d.probs)
}

// check runs the attribute's own validation on a value that is fully known
// now (a value with references is checked by the plan once resolved).
func (d *decoder) check(a *resources.Attr, v any, pos Pos, path string) {
	if a.Kind == resources.Policy || a.Kind == resources.PolicyMap {
		if err := CheckPolicies(a.Kind, v); err != nil {
			d.probs.add(pos, "%s: %v", path, err)
		}
	}
	if a.Check == nil || hasTemplate(v) {
		return
	}
	cv, _, err := Resolve(a, v, nil)
	if err != nil {
		d.probs.add(pos, "%s: %v", path, err)
		return
	}
	if err := a.Check(cv); err != nil {
		d.probs.add(pos, "%s: %v", path, err)
	}
}

// knownAttrs returns the resource's attributes that hold no references, in
// canonical shapes, for whole-resource validation.
func knownAttrs(r *Resource) resources.Attrs {
	out := resources.Attrs{}
	for name, v := range r.Attrs {
		a := r.Schema.Attr(name)
		if a == nil || hasTemplate(v) {
			continue
		}
		if cv, ok, err := Resolve(a, v, nil); err == nil && ok {
			out[name] = cv
		}
	}
	return out
}

func hasTemplate(v any) bool { return len(refsIn(v)) > 0 }

// refsIn returns every reference inside a decoded value.
func refsIn(v any) []Ref {
	switch x := v.(type) {
	case *Template:
		return x.Refs()
	case []any:
		var out []Ref
		for _, e := range x {
			out = append(out, refsIn(e)...)
		}
		return out
	case map[string]any:
		var out []Ref
		for _, k := range resources.SortedKeys(x) {
			out = append(out, refsIn(x[k])...)
		}
		return out
	}
	return nil
}

// Refs returns every reference in the attribute values of r.
func (r *Resource) Refs(attr string) []Ref { return refsIn(r.Attrs[attr]) }

func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = e
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case map[string]map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyValue(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	case int:
		return int64(x)
	}
	return v
}
