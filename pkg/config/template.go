package config

import (
	"fmt"
	"regexp"
	"strings"
)

// Ref is a reference to an exported attribute of another resource.
type Ref struct {
	ID   string
	Attr string
}

func (r Ref) String() string { return "${" + r.ID + "." + r.Attr + "}" }

// Template is a string value that contains references to other resources,
// resolved by the plan once their values are known.
type Template struct {
	Parts []Part
	Pos   Pos
}

// Part is a literal piece of a template or a reference.
type Part struct {
	Lit string
	Ref *Ref
}

// Refs returns the references in the template.
func (t *Template) Refs() []Ref {
	var out []Ref
	for _, p := range t.Parts {
		if p.Ref != nil {
			out = append(out, *p.Ref)
		}
	}
	return out
}

// String renders the template for people: references as ${id.attr},
// literal text (IAM policy variables included) as is.
func (t *Template) String() string {
	var b strings.Builder
	for _, p := range t.Parts {
		if p.Ref != nil {
			b.WriteString(p.Ref.String())
		} else {
			b.WriteString(p.Lit)
		}
	}
	return b.String()
}

// Resolve substitutes every reference through lookup. ok is false when a
// referenced value is not known yet.
func (t *Template) Resolve(lookup func(Ref) (string, bool)) (string, bool) {
	var b strings.Builder
	for _, p := range t.Parts {
		if p.Ref == nil {
			b.WriteString(p.Lit)
			continue
		}
		v, ok := lookup(*p.Ref)
		if !ok {
			return "", false
		}
		b.WriteString(v)
	}
	return b.String(), true
}

// An interpolation is envctl's when it is one dotted word pair such as
// var.hostname, env.region or bucket.arn. Anything else inside ${...} (IAM
// policy variables such as ${aws:PrincipalTag/team} or
// ${token.actions.githubusercontent.com:sub}) is passed through untouched.
var envctlExpr = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_]*)$`)

// scope is what interpolation can see.
type scope struct {
	vars      map[string]string
	env       map[string]string
	resources map[string]bool // ids declared in the file
	allowRefs bool            // false in vars and map keys
}

// interpolate expands ${var.*} and ${env.*} in s and collects references to
// resources. It returns either a plain string (no references) or a
// *Template.
func interpolate(s string, pos Pos, sc *scope, probs *Problems) any {
	if !strings.Contains(s, "${") {
		return s
	}
	var parts []Part
	var lit strings.Builder
	hasRef := false
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			lit.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			lit.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			probs.add(pos, "unterminated ${ in %q (write $${ for a literal ${)", s)
			return s
		}
		expr := s[i+2 : i+2+end]
		i += end + 3
		m := envctlExpr.FindStringSubmatch(expr)
		if m == nil {
			lit.WriteString("${" + expr + "}")
			continue
		}
		head, name := m[1], m[2]
		switch head {
		case "var":
			v, ok := sc.vars[name]
			if !ok {
				probs.add(pos, "unknown variable %q in ${%s}%s", name, expr, suggest(name, keysOf(sc.vars)))
				continue
			}
			lit.WriteString(v)
		case "env":
			v, ok := sc.env[name]
			if !ok {
				probs.add(pos, "unknown ${env.%s}: expected env.name, env.account_id or env.region", name)
				continue
			}
			lit.WriteString(v)
		default:
			if !sc.resources[head] {
				probs.add(pos, "${%s} references unknown resource %q%s", expr, head, suggest(head, keysOf(sc.resources)))
				continue
			}
			if !sc.allowRefs {
				probs.add(pos, "${%s}: resource references are not allowed here (only in resource attribute values)", expr)
				continue
			}
			if lit.Len() > 0 {
				parts = append(parts, Part{Lit: lit.String()})
				lit.Reset()
			}
			parts = append(parts, Part{Ref: &Ref{ID: head, Attr: name}})
			hasRef = true
		}
	}
	if !hasRef {
		return lit.String()
	}
	if lit.Len() > 0 {
		parts = append(parts, Part{Lit: lit.String()})
	}
	return &Template{Parts: parts, Pos: pos}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// suggest returns " (did you mean "x"?)" for the closest candidate.
func suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
