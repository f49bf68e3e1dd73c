package plan

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/litentry/envctl/pkg/policy"
	"github.com/litentry/envctl/pkg/resources"
)

// compare lists the differences between the desired attributes and the live
// ones. Only attributes present in desired are compared: what the file leaves
// out is not managed. Tags compare only the keys the file declares, plus
// envctl's own keys, which envctl removes when no longer wanted.
func compare(s *resources.Schema, desired, live resources.Attrs, sensitive map[string]bool) []Diff {
	var diffs []Diff
	for _, a := range s.Attrs {
		if a.Kind == resources.Tags {
			continue
		}
		want, ok := desired[a.Name]
		if !ok || a.WriteOnly {
			continue
		}
		have := live[a.Name]
		before := len(diffs)
		if _, unknown := want.(Unknown); unknown {
			diffs = append(diffs, Diff{Path: a.Name, Before: have, After: Unknown{}})
		} else {
			if s.Normalize != nil {
				want, have = s.Normalize(a.Name, want), s.Normalize(a.Name, have)
			}
			diffs = append(diffs, compareValue(a.Kind, a.Name, have, want)...)
		}
		for i := before; i < len(diffs); i++ {
			diffs[i].ForcesReplace = a.ForceNew
			diffs[i].Sensitive = a.Sensitive || sensitive[a.Name]
		}
	}
	if want, ok := desired["tags"]; ok {
		diffs = append(diffs, compareTags(resources.TagMap(live["tags"]), resources.TagMap(want))...)
	}
	return diffs
}

func compareTags(live, want map[string]string) []Diff {
	var diffs []Diff
	for _, k := range resources.SortedKeys(want) {
		if lv, ok := live[k]; !ok || lv != want[k] {
			var before any
			if ok {
				before = lv
			}
			diffs = append(diffs, Diff{Path: "tags." + k, Before: before, After: want[k]})
		}
	}
	for _, k := range resources.SortedKeys(live) {
		if _, ok := want[k]; !ok && strings.HasPrefix(k, "envctl:") {
			diffs = append(diffs, Diff{Path: "tags." + k, Before: live[k], After: nil})
		}
	}
	return diffs
}

func compareValue(kind resources.Kind, path string, have, want any) []Diff {
	switch kind {
	case resources.StringList:
		h, w := stringSet(have), stringSet(want)
		if !reflect.DeepEqual(h, w) {
			return []Diff{{Path: path, Before: nilIfEmpty(h, have), After: w}}
		}
	case resources.StringMap:
		h, w := resources.TagMap(have), resources.TagMap(want)
		var diffs []Diff
		for _, k := range union(h, w) {
			hv, hok := h[k]
			wv, wok := w[k]
			if hok != wok || hv != wv {
				diffs = append(diffs, Diff{Path: path + "." + k, Before: optional(hv, hok), After: optional(wv, wok)})
			}
		}
		return diffs
	case resources.Policy:
		return comparePolicy(path, asDoc(have), asDoc(want))
	case resources.PolicyMap:
		h, w := asDocMap(have), asDocMap(want)
		var diffs []Diff
		for _, k := range union(h, w) {
			diffs = append(diffs, comparePolicy(path+"."+k, h[k], w[k])...)
		}
		return diffs
	case resources.ObjectList:
		h, w := sortedObjects(have), sortedObjects(want)
		if canonical(h) != canonical(w) {
			return []Diff{{Path: path, Before: have, After: want}}
		}
	case resources.Int:
		if toInt(have) != toInt(want) || have == nil {
			return []Diff{{Path: path, Before: have, After: want}}
		}
	default:
		if !reflect.DeepEqual(have, want) {
			return []Diff{{Path: path, Before: have, After: want}}
		}
	}
	return nil
}

func comparePolicy(path string, have, want map[string]any) []Diff {
	switch {
	case have == nil && want == nil:
		return nil
	case have == nil:
		return []Diff{{Path: path, Before: nil, After: policy.Normalize(want)}}
	case want == nil:
		return []Diff{{Path: path, Before: policy.Normalize(have), After: nil}}
	}
	var diffs []Diff
	for _, c := range policy.Diff(path, have, want) {
		diffs = append(diffs, Diff{Path: c.Path, Before: c.Before, After: c.After})
	}
	return diffs
}

func asDoc(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asDocMap(v any) map[string]map[string]any {
	switch m := v.(type) {
	case map[string]map[string]any:
		return m
	case map[string]any:
		out := map[string]map[string]any{}
		for k, d := range m {
			out[k] = asDoc(d)
		}
		return out
	}
	return map[string]map[string]any{}
}

// stringSet compares lists as sets: every list attribute envctl manages
// (client ids, ARNs, record values, group ids) has no meaningful order.
func stringSet(v any) []string {
	var in []string
	switch x := v.(type) {
	case []string:
		in = x
	case []any:
		for _, e := range x {
			in = append(in, fmt.Sprint(e))
		}
	}
	seen := map[string]bool{}
	out := []string{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func nilIfEmpty(set []string, orig any) any {
	if orig == nil {
		return nil
	}
	return set
}

func sortedObjects(v any) []string {
	var out []string
	switch x := v.(type) {
	case []map[string]any:
		for _, o := range x {
			out = append(out, canonical(o))
		}
	case []any:
		for _, o := range x {
			out = append(out, canonical(o))
		}
	}
	sort.Strings(out)
	return out
}

// canonical renders a value as JSON with sorted keys and integers in one
// form, for comparisons where order and number types carry no meaning.
func canonical(v any) string {
	b, err := json.Marshal(numbersAsFloat(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func numbersAsFloat(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = numbersAsFloat(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = numbersAsFloat(e)
		}
		return out
	case []string:
		return x
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = numbersAsFloat(e)
		}
		return out
	}
	return v
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float64:
		return int64(x)
	}
	return -1 << 62
}

func union[V any](a, b map[string]V) []string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return resources.SortedKeys(keys)
}

func optional(s string, ok bool) any {
	if !ok {
		return nil
	}
	return s
}

// changedAttrs returns the top-level attributes the diffs touch.
func changedAttrs(diffs []Diff) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range diffs {
		name, _, _ := strings.Cut(d.Path, ".")
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}
