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
