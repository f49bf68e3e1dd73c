package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Style decides how output looks; colour only when the caller says the
// output is a terminal and NO_COLOR is unset.
type Style struct {
	Color bool
}

const (
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	red    = "\x1b[31m"
	cyan   = "\x1b[36m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// Bold renders text in bold on a terminal.
func (s Style) Bold(text string) string { return s.paint(bold, text) }

func (s Style) paint(code, text string) string {
	if !s.Color {
		return text
	}
	return code + text + reset
}

// Masked returns a copy of the plan whose sensitive values are replaced by
// a digest; every renderer and the saved plan use it.
func (p *Plan) Masked() *Plan {
	cp := *p
	cp.Changes = make([]*Change, len(p.Changes))
	for i, c := range p.Changes {
		cc := *c
		cc.Diffs = make([]Diff, len(c.Diffs))
		for j, d := range c.Diffs {
			if d.Sensitive {
				d.Before, d.After = MaskValue(d.Before), MaskValue(d.After)
			}
			cc.Diffs[j] = d
		}
		cp.Changes[i] = &cc
	}
	return &cp
}

// MaskValue replaces a sensitive value by a short digest that still shows
// whether it changed.
func MaskValue(v any) any {
	if v == nil {
		return nil
	}
	if _, ok := v.(Unknown); ok {
		return v
	}
	sum := sha256.Sum256([]byte(canonicalString(v)))
	return "(sensitive, sha256:" + hex.EncodeToString(sum[:4]) + ")"
}

func canonicalString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return canonical(v)
}

// WriteJSON writes the plan as one JSON object.
func (p *Plan) WriteJSON(w io.Writer) error {
	m := p.Masked()
	if m.Changes == nil {
		m.Changes = []*Change{}
	}
	for _, c := range m.Changes {
		if c.Diffs == nil {
			c.Diffs = []Diff{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}

// WriteText writes the plan the way Terraform users expect to read it.
func (p *Plan) WriteText(w io.Writer, st Style) {
	m := p.Masked()
	if !m.HasChanges() {
		fmt.Fprintf(w, "No changes. Env %s (account %s, %s) matches its file.\n", m.Env, m.AccountID, m.Region)
		return
	}
	fmt.Fprintf(w, "envctl will perform the following actions on env %s (account %s, %s):\n\n", m.Env, m.AccountID, m.Region)
	for _, c := range m.Changes {
		if c.Action == Noop {
			continue
		}
		writeChange(w, c, st)
	}
	fmt.Fprintf(w, "%s\n", st.paint(bold, m.SummaryLine()))
}

// SummaryLine is the closing "Plan: ..." line.
func (p *Plan) SummaryLine() string {
	s := p.Summary
	return fmt.Sprintf("Plan: %d to add, %d to change, %d to replace, %d to destroy, %d to adopt.", s.Create, s.Update, s.Replace, s.Delete, s.Adopt)
}

func writeChange(w io.Writer, c *Change, st Style) {
	var sym, color, verb string
	switch c.Action {
	case Create:
		sym, color, verb = "  +", green, "will be created"
	case Update:
		sym, color, verb = "  ~", yellow, "will be updated in place"
	case Replace:
		sym, color, verb = "-/+", red, "must be replaced"
	case Delete:
		sym, color, verb = "  -", red, "will be destroyed"
	case Adopt:
		sym, color, verb = "  >", cyan, "will be adopted"
	}
	name := c.ID + " (" + c.Type + ")"
	line := fmt.Sprintf("%s %s %s", st.paint(color, sym), st.paint(bold, name), verb)
	if c.Reason != "" {
		line += ": " + c.Reason
	}
	fmt.Fprintln(w, line)
	if c.Handle != "" && c.Action != Create {
		fmt.Fprintf(w, "      id: %s\n", c.Handle)
	}
	width := 0
	for _, d := range c.Diffs {
		width = max(width, len(d.Path))
	}
	for _, d := range c.Diffs {
		pad := strings.Repeat(" ", width-len(d.Path))
		switch {
		case c.Action == Create || (d.Before == nil && d.After != nil):
			fmt.Fprintf(w, "      %s %s%s = %s\n", st.paint(green, "+"), d.Path, pad, formatValue(d.After))
		case d.After == nil:
			fmt.Fprintf(w, "      %s %s%s = %s\n", st.paint(red, "-"), d.Path, pad, formatValue(d.Before))
		default:
			suffix := ""
			if d.ForcesReplace {
				suffix = st.paint(red, "  # forces replacement")
			}
			fmt.Fprintf(w, "      %s %s%s = %s → %s%s\n", st.paint(yellow, "~"), d.Path, pad, formatValue(d.Before), formatValue(d.After), suffix)
		}
	}
	for _, k := range sortedNoteKeys(c.Notes) {
		if k == "objects" && c.Action != Delete {
			continue
		}
		fmt.Fprintf(w, "      note: %s = %s\n", k, c.Notes[k])
	}
	fmt.Fprintln(w)
}

func sortedNoteKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k == "force_destroy" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// formatValue renders a value on one line: strings quoted, documents as
// compact JSON with sorted keys.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case Unknown:
		return x.String()
	case string:
		if strings.HasPrefix(x, "(sensitive, sha256:") || x == (Unknown{}).String() {
			return x
		}
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// EventLine renders one apply event as a line, or "" for none.
func EventLine(ev Event, st Style) string {
	name := ev.ID
	if ev.Old {
		name += " (old)"
	}
	verb := map[Action][3]string{
		Create:  {"Creating...", "Creation complete", "Still creating..."},
		Update:  {"Modifying...", "Modifications complete", "Still modifying..."},
		Adopt:   {"Adopting...", "Adoption complete", "Still adopting..."},
		Replace: {"Replacing...", "Replacement complete", "Still replacing..."},
		Delete:  {"Destroying...", "Destruction complete", "Still destroying..."},
	}[ev.Action]
	if ev.Old {
		verb = [3]string{"Destroying old...", "Destruction of old complete", "Still destroying old..."}
	}
	switch ev.Phase {
	case Started:
		if ev.Handle != "" && ev.Action != Create {
			return fmt.Sprintf("%s: %s [id=%s]", st.paint(bold, name), verb[0], ev.Handle)
		}
		return fmt.Sprintf("%s: %s", st.paint(bold, name), verb[0])
	case Progress:
		return fmt.Sprintf("%s: %s [%s elapsed]", st.paint(bold, name), verb[2], roundDur(ev.Elapsed))
	case Finished:
		return fmt.Sprintf("%s: %s after %s", st.paint(bold, name), verb[1], roundDur(ev.Elapsed))
	case Failed:
		return fmt.Sprintf("%s: %s after %s: %v", st.paint(bold, name), st.paint(red, "failed"), roundDur(ev.Elapsed), ev.Err)
	case Skipped:
		return fmt.Sprintf("%s: %s (%v)", st.paint(bold, name), st.paint(yellow, "not applied"), ev.Err)
	}
	return ""
}

func roundDur(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// WriteMarkdown writes a compact summary table and the full plan in a
// collapsible block, for $GITHUB_STEP_SUMMARY or a pull-request comment.
func (p *Plan) WriteMarkdown(w io.Writer) {
	m := p.Masked()
	fmt.Fprintf(w, "### envctl plan: env `%s` (account %s, %s)\n\n", m.Env, m.AccountID, m.Region)
	if !m.HasChanges() {
		fmt.Fprintln(w, "**No changes.** Live AWS matches the env file.")
		return
	}
	fmt.Fprintln(w, "| | Resource | Type | Action | Why |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	symbols := map[Action]string{Create: "➕", Update: "✏️", Replace: "♻️", Delete: "🗑️", Adopt: "📥"}
	for _, c := range m.Changes {
		if c.Action == Noop {
			continue
		}
		fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s |\n", symbols[c.Action], c.ID, c.Type, c.Action, strings.ReplaceAll(c.Reason, "|", "\\|"))
	}
	fmt.Fprintf(w, "\n**%s**\n\n<details><summary>Details</summary>\n\n```diff\n", m.SummaryLine())
	var body strings.Builder
	for _, c := range m.Changes {
		if c.Action != Noop {
			writeChange(&body, c, Style{})
		}
	}
	// diff highlighting keys on the first character of each line.
	for _, line := range strings.Split(strings.TrimRight(body.String(), "\n"), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if trimmed != "" && strings.ContainsRune("+-~>", rune(trimmed[0])) {
			sym := trimmed[:1]
			if sym == "~" || sym == ">" {
				sym = "!"
			}
			fmt.Fprintln(w, sym+line)
			continue
		}
		fmt.Fprintln(w, " "+line)
	}
	fmt.Fprint(w, "```\n\n</details>\n")
}
