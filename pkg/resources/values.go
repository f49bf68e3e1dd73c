package resources

import "fmt"

// intValue reads a whole number from any shape an attribute value takes:
// int64 from the env file, float64 from JSON, int from Go code.
func intValue(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}

// stringList reads a list of strings ([]string, or []any of strings); nil
// is the empty list.
func stringList(v any) ([]string, error) {
	switch l := v.(type) {
	case nil:
		return []string{}, nil
	case []string:
		return l, nil
	case []any:
		out := make([]string, 0, len(l))
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("expected a list of strings, got an element of type %T", e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a list of strings, got %T", v)
}

// objectList reads an ObjectList value in either Go shape: the canonical
// []map[string]any, or the []any of a decoded document.
func objectList(v any) []map[string]any {
	switch x := v.(type) {
	case []map[string]any:
		return x
	case []any:
		out := make([]map[string]any, 0, len(x))
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}
