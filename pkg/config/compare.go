package config

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// Override is one path an extending file sets.
type Override struct {
	Path string // e.g. resources.bucket.force_destroy
	Kind string // "overridden", "added" or "removed"
	Pos  Pos
	// Allowed: the path is covered by the extending file's parity_allow.
	Allowed bool
}

// VarDiff is a var whose value differs between two envs.
type VarDiff struct {
	Name        string
	Base, Child string // "" when absent
}

// Comparison says how an extending env differs from its base.
type Comparison struct {
	Base, Child *Env
	Vars        []VarDiff
	Overrides   []Override
}

// Violations lists the overrides beyond vars that parity_allow does not
// cover.
func (c *Comparison) Violations() []Override {
	var out []Override
	for _, o := range c.Overrides {
		if !o.Allowed {
			out = append(out, o)
		}
	}
	return out
}

// parityExempt are top-level keys an extending file always sets.
var parityExempt = map[string]bool{"env": true, "extends": true, "vars": true, "parity_allow": true}

// Compare loads dir/base.yaml and dir/child.yaml, which must extend it,
// and lists the vars that differ and every path the child file overrides,
// adds or removes.
func Compare(dir, base, child string) (*Comparison, error) {
	b, err := LoadEnv(dir, base)
	if err != nil {
		return nil, err
	}
	c, err := LoadEnv(dir, child)
	if err != nil {
		return nil, err
	}
	if len(c.Files) < 2 || filepath.Clean(c.Files[1]) != filepath.Clean(b.File) {
		return nil, fmt.Errorf("%w: %s does not extend %s", ErrInvalid, c.File, b.File)
	}
	var probs Problems
	own := parseFile(c.File, &probs)
	baseTree := loadTree(b.File, nil, new([]string), &probs)
	if err := probs.Err(); err != nil {
		return nil, err
	}
	cmp := &Comparison{Base: b, Child: c}
	for _, name := range union(b.Vars, c.Vars) {
		bv, bok := b.Vars[name]
		cv, cok := c.Vars[name]
		if bok != cok || bv != cv {
			cmp.Vars = append(cmp.Vars, VarDiff{Name: name, Base: bv, Child: cv})
		}
	}
	for i, k := range own.keys {
		if parityExempt[k.str] {
			continue
		}
		overrides(k.str, own.vals[i], baseTree.get(k.str), &cmp.Overrides)
	}
	for i := range cmp.Overrides {
		cmp.Overrides[i].Allowed = allowed(cmp.Overrides[i].Path, c.ParityAllow)
	}
	return cmp, nil
}

// overrides walks the child's own value: maps recurse, anything else is
// one override at its path.
func overrides(path string, child, base *node, out *[]Override) {
	switch {
	case child.kind == nullNode:
		*out = append(*out, Override{Path: path, Kind: "removed", Pos: child.pos})
	case base == nil:
		*out = append(*out, Override{Path: path, Kind: "added", Pos: child.pos})
	case child.kind == mapNode && base.kind == mapNode:
		for i, k := range child.keys {
			overrides(path+"."+k.str, child.vals[i], base.get(k.str), out)
		}
	default:
		if !sameNode(child, base) {
			*out = append(*out, Override{Path: path, Kind: "overridden", Pos: child.pos})
		}
	}
}

func sameNode(a, b *node) bool {
	if a.kind != b.kind || a.str != b.str || len(a.vals) != len(b.vals) {
		return false
	}
	for i := range a.vals {
		if a.kind == mapNode && a.keys[i].str != b.keys[i].str {
			return false
		}
		if !sameNode(a.vals[i], b.vals[i]) {
			return false
		}
	}
	return true
}

// allowed: an allow-list entry covers its path and everything below it.
func allowed(path string, allow []string) bool {
	for _, a := range allow {
		if path == a || strings.HasPrefix(path, a+".") {
			return true
		}
	}
	return false
}

func union(a, b map[string]string) []string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
