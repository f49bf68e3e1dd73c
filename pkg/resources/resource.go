package resources

import (
	"context"
	"sort"
	"strings"
)

// Attrs holds attribute values, keyed by attribute name, in one canonical Go
// shape per Kind: String string, Bool bool, Int int64, StringList []string,
// StringMap and Tags map[string]string, Policy map[string]any (IAM JSON as
// decoded by encoding/json), PolicyMap map[string]map[string]any, ObjectList
// []map[string]any whose values follow the same rules. Desired values (from
// the env file) and live values (read by a driver) use the same shapes.
type Attrs map[string]any

// Kind is the value type of an attribute.
type Kind int

// Attribute kinds.
const (
	String     Kind = iota // a string
	Bool                   // true or false
	Int                    // a whole number
	StringList             // a list of strings
	StringMap              // a map of string to string
	Policy                 // an IAM policy document
	PolicyMap              // a map of name to IAM policy document
	ObjectList             // a list of objects described by Attr.Elem
	Tags                   // a tag map; only the keys the file declares are managed
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Bool:
		return "bool"
	case Int:
		return "integer"
	case StringList:
		return "list of strings"
	case StringMap, Tags:
		return "map of strings"
	case Policy:
		return "policy document (map)"
	case PolicyMap:
		return "map of policy documents"
	case ObjectList:
		return "list of objects"
	}
	return "unknown"
}

// Attr describes one attribute of a resource type.
type Attr struct {
	Name     string
	Kind     Kind
	Required bool
	// Default applies when the file leaves the attribute out. An attribute
	// without a default that the file leaves out is not managed at all: it is
	// neither compared nor changed.
	Default any
	// ForceNew: a change to this attribute replaces the resource.
	ForceNew bool
	// Identity: the attribute names the live resource (a bucket name, a role
	// name). Identity attributes may not reference other resources.
	Identity bool
	// Sensitive values are never printed.
	Sensitive bool
	// WriteOnly attributes are envctl settings or values AWS never returns
	// (force_destroy): they are never compared with the live resource.
	WriteOnly bool
	// Elem describes the objects of an ObjectList.
	Elem []Attr
	// Check validates a fully resolved value; its error says what is expected.
	Check func(v any) error
	// Doc is one sentence for the resource reference.
	Doc string
	// UpdateNote, when set, tells what an in-place change of this attribute
	// does beyond the attribute itself ("stops and starts the instance");
	// the plan shows it as the reason.
	UpdateNote string
}

// Schema describes a resource type.
type Schema struct {
	Type  string
	Doc   string
	Attrs []Attr
	// Exports are the attributes other resources may reference as ${id.attr}.
	Exports []string
	// CreateBeforeDestroy: on replace, the new resource is created and its
	// dependents are updated before the old one is deleted.
	CreateBeforeDestroy bool
	// Validate checks the whole resource after each attribute passed its own
	// checks (cross-attribute rules). Unknown values are absent from attrs.
	Validate func(attrs Attrs) error
	// Normalize, when set, brings a desired or live attribute value to the
	// form in which equal meanings compare equal (merging security-group
	// rules, say). It must not modify v. The plan applies it to both sides.
	Normalize func(attr string, v any) any
}

// Attr returns the attribute with the given name, or nil.
func (s *Schema) Attr(name string) *Attr {
	for i := range s.Attrs {
		if s.Attrs[i].Name == name {
			return &s.Attrs[i]
		}
	}
	return nil
}

// Exported reports whether attr may be referenced by other resources.
func (s *Schema) Exported(attr string) bool {
	for _, e := range s.Exports {
		if e == attr {
			return true
		}
	}
	return false
}

// Live is what a driver observed of one live resource.
type Live struct {
	// Handle is the provider's id of the resource: an ARN, a bucket name, an
	// instance id. Drivers use it to address the resource on update and delete.
	Handle string
	// Attrs holds the current value of every attribute the driver can read,
	// in the same shapes as the desired Attrs, including "tags".
	Attrs Attrs
	// Exports holds the values of the schema's exports.
	Exports map[string]string
	// Notes carries facts worth showing in a plan, such as how many objects a
	// bucket holds.
	Notes map[string]string
}

// Tags returns the live tag map (never nil).
func (l *Live) Tags() map[string]string {
	if l == nil {
		return map[string]string{}
	}
	return TagMap(l.Attrs["tags"])
}

// Target names the resource a driver should look for.
type Target struct {
	Env string // env name
	ID  string // resource id in the env file
	// Attrs are the desired attributes with every identity attribute
	// resolved; other attributes may be absent when not yet known.
	Attrs Attrs
}

// Driver observes and changes the live resources of one type.
//
// Contract: Find and List never change anything. Create is safe to repeat
// after a failure (deterministic names, idempotency tokens). Delete of a
// resource that is already gone is success. Create tags the resource with
// desired["tags"] in the same call that creates it where the API allows.
type Driver interface {
	Schema() *Schema
	// Find returns the live resource the target names, or nil when absent.
	Find(ctx context.Context, t Target) (*Live, error)
	// List returns every live resource of this type tagged envctl:env=env.
	List(ctx context.Context, env string) ([]*Live, error)
	// Create creates the resource and returns what it observed afterwards.
	Create(ctx context.Context, t Target) (*Live, error)
	// Update changes the named attributes of live to their desired values.
	Update(ctx context.Context, live *Live, t Target, changed []string) (*Live, error)
	// Delete deletes the live resource.
	Delete(ctx context.Context, live *Live) error
}

// Ownership tag keys.
const (
	TagEnv     = "envctl:env"
	TagID      = "envctl:id"
	TagProtect = "envctl:protect"
)

// TagMap converts a tag attribute value to map[string]string.
func TagMap(v any) map[string]string {
	out := map[string]string{}
	switch m := v.(type) {
	case map[string]string:
		for k, s := range m {
			out[k] = s
		}
	case map[string]any:
		for k, s := range m {
			if str, ok := s.(string); ok {
				out[k] = str
			}
		}
	}
	return out
}

// TagDelta says which tags to set and which to remove to bring live tags to
// desired: every desired key is set; of the keys absent from desired only
// envctl's own (envctl:*) are removed, because other tags are not managed.
func TagDelta(live, desired map[string]string) (set map[string]string, remove []string) {
	set = map[string]string{}
	for k, v := range desired {
		if lv, ok := live[k]; !ok || lv != v {
			set[k] = v
		}
	}
	for k := range live {
		if _, ok := desired[k]; !ok && strings.HasPrefix(k, "envctl:") {
			remove = append(remove, k)
		}
	}
	sort.Strings(remove)
	return set, remove
}

// SortedKeys returns the keys of m in order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
