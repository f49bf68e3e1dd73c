package config

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Limits that keep hostile files (alias bombs, deep nesting, huge files)
// from exhausting memory or time.
const (
	maxFileBytes = 1 << 20
	maxNodes     = 100_000
	maxDepth     = 64
)

// nodeKind is the shape of a YAML value.
type nodeKind int

const (
	scalarNode nodeKind = iota
	mapNode
	listNode
	nullNode
)

func (k nodeKind) String() string {
	switch k {
	case mapNode:
		return "a map"
	case listNode:
		return "a list"
	case nullNode:
		return "null"
	}
	return "a scalar"
}

// node is a YAML value that remembers where it was written. Aliases are
// expanded, so every node has exactly one position in exactly one file.
type node struct {
	kind nodeKind
	tag  string // for scalars: !!str, !!int, !!bool, !!float
	str  string
	keys []*node // for maps: key nodes, in file order
	vals []*node // for maps: values; for lists: items
	pos  Pos
}

// get returns the value of a map key, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != mapNode {
		return nil
	}
	for i, k := range n.keys {
		if k.str == key {
			return n.vals[i]
		}
	}
	return nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseFile reads and parses one YAML file into a node tree.
func parseFile(path string, probs *Problems) *node {
	pos := Pos{File: path}
	data, err := os.ReadFile(path)
	if err != nil {
		probs.add(pos, "read env file: %v", err)
		return nil
	}
	if len(data) > maxFileBytes {
		probs.add(pos, "file is %d bytes; env files may be at most %d", len(data), maxFileBytes)
		return nil
	}
	if !utf8.Valid(data) {
		line, col := firstInvalidUTF8(data)
		probs.add(Pos{File: path, Line: line, Col: col}, "file is not valid UTF-8")
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			probs.add(Pos{File: path, Line: line, Col: 1}, "YAML syntax: %s", m[2])
		} else {
			probs.add(Pos{File: path, Line: 1, Col: 1}, "YAML syntax: %v", err)
		}
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		probs.add(Pos{File: path, Line: 1, Col: 1}, "file is empty; expected a map with env, account_id, region and resources")
		return nil
	}
	c := &converter{file: path, probs: probs}
	n := c.convert(doc.Content[0], 0)
	if c.failed {
		return nil
	}
	return n
}

func firstInvalidUTF8(data []byte) (line, col int) {
	line, col = 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line, col
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		data = data[size:]
	}
	return line, col
}

type converter struct {
	file   string
	probs  *Problems
	count  int
	failed bool
}

func (c *converter) fail(y *yaml.Node, format string, args ...any) *node {
	if !c.failed {
		c.probs.add(Pos{File: c.file, Line: y.Line, Col: y.Column}, format, args...)
	}
	c.failed = true
	return nil
}

func (c *converter) convert(y *yaml.Node, depth int) *node {
	if c.failed {
		return nil
	}
	c.count++
	if c.count > maxNodes {
		return c.fail(y, "document expands to more than %d values (alias bomb?)", maxNodes)
	}
	if depth > maxDepth {
		return c.fail(y, "values nested more than %d levels deep", maxDepth)
	}
	pos := Pos{File: c.file, Line: y.Line, Col: y.Column}
	switch y.Kind {
	case yaml.AliasNode:
		if y.Alias == nil {
			return c.fail(y, "unknown alias")
		}
		n := c.convert(y.Alias, depth+1)
		return n
	case yaml.ScalarNode:
		if y.ShortTag() == "!!null" {
			return &node{kind: nullNode, pos: pos}
		}
		tag := y.ShortTag()
		switch tag {
		case "!!str", "!!int", "!!bool", "!!float":
		case "!!binary", "!!timestamp":
			tag = "!!str"
		default:
			return c.fail(y, "unsupported YAML tag %s", y.Tag)
		}
		return &node{kind: scalarNode, tag: tag, str: y.Value, pos: pos}
	case yaml.SequenceNode:
		n := &node{kind: listNode, pos: pos}
		for _, item := range y.Content {
			v := c.convert(item, depth+1)
			if c.failed {
				return nil
			}
			n.vals = append(n.vals, v)
		}
		return n
	case yaml.MappingNode:
		n := &node{kind: mapNode, pos: pos}
		seen := map[string]bool{}
		for i := 0; i+1 < len(y.Content); i += 2 {
			ky, vy := y.Content[i], y.Content[i+1]
			if ky.Kind == yaml.ScalarNode && ky.Tag == "!!merge" {
				return c.fail(ky, "YAML merge keys (<<) are not supported; use extends")
			}
			k := c.convert(ky, depth+1)
			if c.failed {
				return nil
			}
			if k.kind != scalarNode {
				return c.fail(ky, "map keys must be strings, got %s", k.kind)
			}
			if seen[k.str] {
				return c.fail(ky, "duplicate key %q", k.str)
			}
			seen[k.str] = true
			v := c.convert(vy, depth+1)
			if c.failed {
				return nil
			}
			n.keys = append(n.keys, k)
			n.vals = append(n.vals, v)
		}
		return n
	}
	return c.fail(y, "unsupported YAML node")
}

// merge overlays child onto base: maps merge key by key, lists and scalars
// replace, and a null in child removes the key from the result.
func merge(base, child *node) *node {
	if base == nil || child == nil || base.kind != mapNode || child.kind != mapNode {
		return child
	}
	out := &node{kind: mapNode, pos: child.pos}
	index := map[string]int{}
	for i, k := range base.keys {
		index[k.str] = len(out.keys)
		out.keys = append(out.keys, k)
		out.vals = append(out.vals, base.vals[i])
	}
	for i, k := range child.keys {
		v := child.vals[i]
		j, ok := index[k.str]
		switch {
		case v.kind == nullNode && ok:
			out.vals[j] = nil // removed below
		case v.kind == nullNode:
		case ok:
			out.keys[j] = k
			out.vals[j] = merge(out.vals[j], v)
		default:
			index[k.str] = len(out.keys)
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, v)
		}
	}
	kept := &node{kind: mapNode, pos: out.pos}
	for i, v := range out.vals {
		if v != nil {
			kept.keys = append(kept.keys, out.keys[i])
			kept.vals = append(kept.vals, v)
		}
	}
	return kept
}

func (n *node) describe() string {
	if n.kind == scalarNode {
		return fmt.Sprintf("%s %q", tagName(n.tag), n.str)
	}
	return n.kind.String()
}

func tagName(tag string) string {
	switch tag {
	case "!!int":
		return "integer"
	case "!!bool":
		return "bool"
	case "!!float":
		return "number"
	}
	return "string"
}
