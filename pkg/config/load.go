package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/litentry/envctl/pkg/resources"
)

// Env is a loaded, merged and checked env file.
type Env struct {
	Name      string
	File      string   // the env file as given
	Files     []string // the file and those it extends, child first
	AccountID string
	Region    string
	Protect   bool
	Tags      map[string]string
	Vars      map[string]string
	// Resources in the order the merged file declares them.
	Resources []*Resource
	Lock      *Lock
	// ParityAllow lists the paths an extending file may override beyond vars
	// (see envctl compare --strict).
	ParityAllow []string
	// Digest identifies the merged, interpolated configuration.
	Digest string
}

// Lock names the S3 object apply and destroy take as a lock.
type Lock struct {
	Bucket string
	Key    string
}

// Resource is one entry of the resources map.
type Resource struct {
	ID     string
	Type   string
	Schema *resources.Schema
	Pos    Pos
	// Attrs holds the declared attributes (defaults filled in). Values are
	// string, bool, int64, *Template, []any and map[string]any; Resolve
	// turns them into the canonical shapes drivers use.
	Attrs   map[string]any
	AttrPos map[string]Pos
	Protect bool
	Adopt   bool
	// Sensitive names attributes whose values are never printed.
	Sensitive map[string]bool
	// Deps lists the ids this resource references, sorted.
	Deps []string
}

// Resource returns the resource with the given id, or nil.
func (e *Env) Resource(id string) *Resource {
	for _, r := range e.Resources {
		if r.ID == id {
			return r
		}
	}
	return nil
}

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	idPattern      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	envNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	topLevelKeys   = []string{"env", "extends", "account_id", "region", "protect", "tags", "vars", "resources", "lock", "parity_allow"}
)

// LoadEnv loads dir/name.yaml.
func LoadEnv(dir, name string) (*Env, error) {
	if !envNamePattern.MatchString(name) {
		return nil, fmt.Errorf("%w: env name %q: expected lowercase letters, digits, - and _", ErrInvalid, name)
	}
	return Load(filepath.Join(dir, name+".yaml"))
}

// Load loads one env file, merging the files it extends.
func Load(path string) (*Env, error) {
	var probs Problems
	var files []string
	tree := loadTree(path, nil, &files, &probs)
	if tree == nil {
		return nil, probs.Err()
	}
	env := decodeEnv(path, tree, &probs)
	if err := probs.Err(); err != nil {
		return nil, err
	}
	env.Files = files
	return env, nil
}

// loadTree parses path and, recursively, the file it extends, and returns
// the merged tree without the extends key.
func loadTree(path string, stack []string, files *[]string, probs *Problems) *node {
	abs, _ := filepath.Abs(path)
	for _, s := range stack {
		if s == abs {
			probs.add(Pos{File: path}, "extends cycle: %s", strings.Join(append(stack, abs), " → "))
			return nil
		}
	}
	if len(stack) > 16 {
		probs.add(Pos{File: path}, "extends chain is deeper than 16 files")
		return nil
	}
	n := parseFile(path, probs)
	if n == nil {
		return nil
	}
	if n.kind != mapNode {
		probs.add(n.pos, "an env file must be a map, got %s", n.kind)
		return nil
	}
	*files = append(*files, path)
	ext := n.get("extends")
	if ext == nil {
		return n
	}
	if ext.kind != scalarNode || ext.tag != "!!str" || ext.str == "" {
		probs.add(ext.pos, "extends: expected a file name such as prod.yaml, got %s", ext.describe())
		return nil
	}
	basePath := filepath.Join(filepath.Dir(path), ext.str)
	if _, err := os.Stat(basePath); err != nil {
		probs.add(ext.pos, "extends: cannot read %s: %v", basePath, unwrapPathError(err))
		return nil
	}
	base := loadTree(basePath, append(stack, abs), files, probs)
	if base == nil {
		return nil
	}
	child := &node{kind: mapNode, pos: n.pos}
	for i, k := range n.keys {
		if k.str != "extends" {
			child.keys = append(child.keys, k)
			child.vals = append(child.vals, n.vals[i])
		}
	}
	return merge(base, child)
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// decoder carries what decoding one env needs.
type decoder struct {
	probs *Problems
	sc    *scope
}

func decodeEnv(path string, tree *node, probs *Problems) *Env {
	d := &decoder{probs: probs}
	env := &Env{File: path, Tags: map[string]string{}, Vars: map[string]string{}}
	for _, k := range tree.keys {
		if !contains(topLevelKeys, k.str) {
			probs.add(k.pos, "unknown key %q%s; expected one of %s", k.str, suggest(k.str, topLevelKeys), strings.Join(topLevelKeys, ", "))
		}
	}
	want := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	env.Name = d.plainString(tree, "env", true)
	if n := tree.get("env"); n != nil && env.Name != "" && env.Name != want {
		probs.add(n.pos, "env is %q but the file is %s: env must equal the file's base name %q", env.Name, filepath.Base(path), want)
	}
	env.AccountID = d.plainString(tree, "account_id", true)
	if n := tree.get("account_id"); n != nil && env.AccountID != "" && !accountPattern.MatchString(env.AccountID) {
		probs.add(n.pos, "account_id %q: expected 12 digits, quoted", env.AccountID)
	}
	env.Region = d.plainString(tree, "region", true)
	if n := tree.get("region"); n != nil && env.Region != "" && !regionPattern.MatchString(env.Region) {
		probs.add(n.pos, "region %q: expected an AWS region such as us-east-1", env.Region)
	}
	if n := tree.get("protect"); n != nil {
		env.Protect = d.bool(n, "protect")
	}
	d.sc = &scope{
		vars:      map[string]string{},
		env:       map[string]string{"name": env.Name, "account_id": env.AccountID, "region": env.Region},
		resources: map[string]bool{},
	}
	env.Vars = d.vars(tree.get("vars"))
	d.sc.vars = env.Vars
	if n := tree.get("tags"); n != nil {
		for k, v := range d.stringMap(n, "tags", false) {
			env.Tags[k] = v.(string)
		}
		d.reservedTags(n, "tags")
	}
	if n := tree.get("lock"); n != nil {
		env.Lock = d.lock(n)
	}
	if n := tree.get("parity_allow"); n != nil {
		for _, v := range d.list(n, "parity_allow") {
			if s, ok := d.scalarString(v, "parity_allow item", false).(string); ok {
				env.ParityAllow = append(env.ParityAllow, s)
			}
		}
	}
	res := tree.get("resources")
	if res == nil {
		probs.add(tree.pos, "missing resources: expected a map of resource id to resource")
		return env
	}
	if res.kind != mapNode {
		probs.add(res.pos, "resources: expected a map of resource id to resource, got %s", res.describe())
		return env
	}
	for _, k := range res.keys {
		d.sc.resources[k.str] = true
	}
	for i, k := range res.keys {
		if r := d.resource(env, k, res.vals[i]); r != nil {
			env.Resources = append(env.Resources, r)
		}
	}
	checkRefAttrs(env, probs)
	checkCycles(env, probs)
	env.Digest = digest(env)
	return env
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// plainString decodes a top-level scalar that may use ${env.*} only.
func (d *decoder) plainString(tree *node, key string, required bool) string {
	n := tree.get(key)
	if n == nil {
		if required {
			d.probs.add(tree.pos, "missing %s", key)
		}
		return ""
	}
	if n.kind != scalarNode || n.tag == "!!bool" {
		d.probs.add(n.pos, "%s: expected a string, got %s", key, n.describe())
		return ""
	}
	return n.str
}

func (d *decoder) bool(n *node, what string) bool {
	if n.kind == scalarNode && n.tag == "!!bool" {
		b, _ := strconv.ParseBool(strings.ToLower(n.str))
		return b
	}
	if n.kind == scalarNode && n.tag == "!!str" && d.sc != nil {
		if s, ok := interpolate(n.str, n.pos, d.sc, d.probs).(string); ok && (s == "true" || s == "false") {
			return s == "true"
		}
	}
	d.probs.add(n.pos, "%s: expected true or false, got %s", what, n.describe())
	return false
}

func (d *decoder) list(n *node, what string) []*node {
	if n.kind != listNode {
		d.probs.add(n.pos, "%s: expected a list, got %s", what, n.describe())
		return nil
	}
	return n.vals
}

// vars decodes the vars map; a var may use ${env.*} and other vars.
func (d *decoder) vars(n *node) map[string]string {
	out := map[string]string{}
	if n == nil {
		return out
	}
	if n.kind != mapNode {
		d.probs.add(n.pos, "vars: expected a map of name to value, got %s", n.describe())
		return out
	}
	raw := map[string]*node{}
	for i, k := range n.keys {
		v := n.vals[i]
		if !idPattern.MatchString(k.str) {
			d.probs.add(k.pos, "var name %q: expected letters, digits, _ and -", k.str)
			continue
		}
		if v.kind != scalarNode {
			d.probs.add(v.pos, "vars.%s: expected a string, number or bool, got %s", k.str, v.describe())
			continue
		}
		raw[k.str] = v
	}
	state := map[string]int{} // 0 new, 1 in progress, 2 done
	var resolve func(name string, chain []string) (string, bool)
	resolve = func(name string, chain []string) (string, bool) {
		v := raw[name]
		switch state[name] {
		case 1:
			d.probs.add(v.pos, "vars reference each other in a cycle: %s", strings.Join(append(chain, name), " → "))
			state[name] = 2
			return "", false
		case 2:
			s, ok := out[name]
			return s, ok
		}
		state[name] = 1
		sc := &scope{env: d.sc.env, resources: d.sc.resources, vars: map[string]string{}}
		// Resolve the vars this one names first.
		for _, m := range regexp.MustCompile(`\$\{var\.([A-Za-z_][A-Za-z0-9_-]*)\}`).FindAllStringSubmatch(v.str, -1) {
			if _, ok := raw[m[1]]; ok {
				if s, ok := resolve(m[1], append(chain, name)); ok {
					sc.vars[m[1]] = s
				}
			}
		}
		s, _ := interpolate(v.str, v.pos, sc, d.probs).(string)
		state[name] = 2
		out[name] = s
		return s, true
	}
	for _, k := range n.keys {
		if _, ok := raw[k.str]; ok {
			resolve(k.str, nil)
		}
	}
	return out
}

func (d *decoder) lock(n *node) *Lock {
	if n.kind != mapNode {
		d.probs.add(n.pos, "lock: expected a map with bucket and key, got %s", n.describe())
		return nil
	}
	l := &Lock{}
	for i, k := range n.keys {
		s, _ := d.scalarString(n.vals[i], "lock."+k.str, false).(string)
		switch k.str {
		case "bucket":
			l.Bucket = s
		case "key":
			l.Key = s
		default:
			d.probs.add(k.pos, "lock: unknown key %q; expected bucket and key", k.str)
		}
	}
	if l.Bucket == "" || l.Key == "" {
		d.probs.add(n.pos, "lock: expected both bucket and key")
	}
	return l
}

func (d *decoder) resource(env *Env, key, n *node) *Resource {
	id := key.str
	if !idPattern.MatchString(id) {
		d.probs.add(key.pos, "resource id %q: expected letters, digits, _ and -, starting with a letter", id)
		return nil
	}
	if id == "var" || id == "env" {
		d.probs.add(key.pos, "resource id %q is reserved", id)
		return nil
	}
	if n.kind != mapNode {
		d.probs.add(n.pos, "resources.%s: expected a map with a type, got %s", id, n.describe())
		return nil
	}
	tn := n.get("type")
	if tn == nil {
		d.probs.add(key.pos, "resources.%s: missing type (one of %s)", id, strings.Join(resources.Types(), ", "))
		return nil
	}
	typ, _ := d.scalarString(tn, "type", false).(string)
	schema := resources.SchemaFor(typ)
	if schema == nil {
		d.probs.add(tn.pos, "resources.%s.type: %v%s", id, resources.UnknownTypeError(typ), suggest(typ, resources.Types()))
		return nil
	}
	r := &Resource{ID: id, Type: typ, Schema: schema, Pos: key.pos, Attrs: map[string]any{}, AttrPos: map[string]Pos{}, Protect: env.Protect, Sensitive: map[string]bool{}}
	d.sc.allowRefs = true
	defer func() { d.sc.allowRefs = false }()
	for i, k := range n.keys {
		v := n.vals[i]
		path := "resources." + id + "." + k.str
		switch k.str {
		case "type":
			continue
		case "protect":
			r.Protect = r.Protect || d.bool(v, path)
			continue
		case "adopt":
			r.Adopt = d.bool(v, path)
			continue
		case "sensitive":
			for _, item := range d.list(v, path) {
				name, _ := d.scalarString(item, path, false).(string)
				if schema.Attr(name) == nil {
					d.probs.add(item.pos, "%s: %q is not an attribute of %s", path, name, typ)
				}
				r.Sensitive[name] = true
			}
			continue
		}
		attrName := k.str
		a := schema.Attr(attrName)
		if a == nil && strings.HasSuffix(attrName, "_file") {
			if base := schema.Attr(strings.TrimSuffix(attrName, "_file")); base != nil && base.Kind == resources.String {
				d.fileAttr(r, base, k, v)
				continue
			}
		}
		if a == nil {
			names := attrNames(schema)
			d.probs.add(k.pos, "%s: unknown attribute %q for type %s%s; expected one of %s", "resources."+id, attrName, typ, suggest(attrName, names), strings.Join(names, ", "))
			continue
		}
		if _, dup := r.Attrs[attrName]; dup {
			d.probs.add(k.pos, "%s: set twice (also through %s_file)", path, attrName)
			continue
		}
		val := d.value(v, a, path)
		if val == nil {
			continue
		}
		if a.Identity && hasTemplate(val) {
			d.probs.add(v.pos, "%s: identifies the resource, so it cannot reference another resource", path)
			continue
		}
		r.Attrs[attrName] = val
		r.AttrPos[attrName] = v.pos
		d.check(a, val, v.pos, path)
	}
	for _, a := range schema.Attrs {
		if a.Sensitive {
			r.Sensitive[a.Name] = true
		}
		if _, ok := r.Attrs[a.Name]; ok {
			continue
		}
		if a.Kind == resources.Tags {
			continue
		}
		if a.Required {
			d.probs.add(key.pos, "resources.%s: missing required attribute %q (%s)", id, a.Name, a.Kind)
		} else if a.Default != nil {
			r.Attrs[a.Name] = copyValue(a.Default)
		}
	}
	if schema.Attr("tags") != nil {
		tags := map[string]any{}
		for k, v := range env.Tags {
			tags[k] = v
		}
		if own, ok := r.Attrs["tags"].(map[string]any); ok {
			for k, v := range own {
				tags[k] = v
			}
		}
		if own := n.get("tags"); own != nil {
			d.reservedTags(own, "resources."+id+".tags")
		}
		r.Attrs["tags"] = tags
	}
	if schema.Validate != nil {
		if err := schema.Validate(knownAttrs(r)); err != nil {
			d.probs.add(key.pos, "resources.%s: %v", id, err)
		}
	}
	deps := map[string]bool{}
	for _, v := range r.Attrs {
		for _, ref := range refsIn(v) {
			deps[ref.ID] = true
			if ref.ID == id {
				d.probs.add(r.Pos, "resources.%s references itself (${%s.%s})", id, ref.ID, ref.Attr)
			}
		}
	}
	r.Deps = resources.SortedKeys(deps)
	return r
}

func attrNames(s *resources.Schema) []string {
	out := make([]string, len(s.Attrs))
	for i, a := range s.Attrs {
		out[i] = a.Name
	}
	return out
}

// fileAttr reads X_file (a path relative to the env file that declares it)
// into attribute X.
func (d *decoder) fileAttr(r *Resource, a *resources.Attr, k, v *node) {
	rel, ok := d.scalarString(v, "resources."+r.ID+"."+k.str, false).(string)
	if !ok {
		return
	}
	if _, dup := r.Attrs[a.Name]; dup {
		d.probs.add(k.pos, "resources.%s: %s and %s both set; keep one", r.ID, a.Name, k.str)
		return
	}
	path := rel
	if !filepath.IsAbs(rel) {
		path = filepath.Join(filepath.Dir(v.pos.File), rel)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		d.probs.add(v.pos, "resources.%s.%s: read %s: %v", r.ID, k.str, path, unwrapPathError(err))
		return
	}
	if len(data) > 16<<10 {
		d.probs.add(v.pos, "resources.%s.%s: %s is %d bytes; EC2 user data may be at most 16 KiB", r.ID, k.str, path, len(data))
		return
	}
	r.Attrs[a.Name] = string(data)
	r.AttrPos[a.Name] = v.pos
}

// checkCycles reports dependency cycles between resources.
func checkCycles(env *Env, probs *Problems) {
	byID := map[string]*Resource{}
	for _, r := range env.Resources {
		byID[r.ID] = r
	}
	state := map[string]int{}
	var visit func(id string, chain []string) bool
	visit = func(id string, chain []string) bool {
		switch state[id] {
		case 1:
			start := 0
			for i, c := range chain {
				if c == id {
					start = i
				}
			}
			cycle := append(append([]string{}, chain[start:]...), id)
			probs.add(byID[id].Pos, "dependency cycle: %s", strings.Join(cycle, " → "))
			return false
		case 2:
			return true
		}
		state[id] = 1
		for _, dep := range byID[id].Deps {
			if byID[dep] != nil && !visit(dep, append(chain, id)) {
				state[id] = 2
				return false
			}
		}
		state[id] = 2
		return true
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if state[id] == 0 && !visit(id, nil) {
			return
		}
	}
}

// digest hashes the merged, interpolated configuration, so a saved plan can
// tell whether the env file changed since.
func digest(env *Env) string {
	type res struct {
		ID, Type       string
		Attrs          map[string]any
		Protect, Adopt bool
	}
	doc := struct {
		Name, AccountID, Region string
		Protect                 bool
		Resources               []res
	}{env.Name, env.AccountID, env.Region, env.Protect, nil}
	for _, r := range env.Resources {
		doc.Resources = append(doc.Resources, res{r.ID, r.Type, r.Attrs, r.Protect, r.Adopt})
	}
	b, _ := json.Marshal(doc)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// MarshalJSON renders a template as written, for digests and saved plans.
func (t *Template) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// reservedTags reports tag keys that use envctl's own prefix.
func (d *decoder) reservedTags(n *node, path string) {
	if n.kind != mapNode {
		return
	}
	for _, k := range n.keys {
		if strings.HasPrefix(strings.ToLower(k.str), "envctl:") {
			d.probs.add(k.pos, "%s: the envctl: prefix is reserved for ownership tags (%q)", path, k.str)
		}
	}
}

// checkRefAttrs reports references to attributes the referenced resource's
// type does not export.
func checkRefAttrs(env *Env, probs *Problems) {
	for _, r := range env.Resources {
		for _, name := range sortedAttrNames(r) {
			for _, t := range templatesIn(r.Attrs[name]) {
				for _, ref := range t.Refs() {
					target := env.Resource(ref.ID)
					if target == nil || target.Schema.Exported(ref.Attr) {
						continue
					}
					probs.add(t.Pos, "${%s.%s}: %s (%s) has no attribute %q; it exports %s", ref.ID, ref.Attr, ref.ID, target.Type, ref.Attr, strings.Join(target.Schema.Exports, ", "))
				}
			}
		}
	}
}

func templatesIn(v any) []*Template {
	switch x := v.(type) {
	case *Template:
		return []*Template{x}
	case []any:
		var out []*Template
		for _, e := range x {
			out = append(out, templatesIn(e)...)
		}
		return out
	case map[string]any:
		var out []*Template
		for _, k := range resources.SortedKeys(x) {
			out = append(out, templatesIn(x[k])...)
		}
		return out
	}
	return nil
}
