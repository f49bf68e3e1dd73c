package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalid is wrapped by every configuration error, so callers can map it
// to an exit code without inspecting messages.
var ErrInvalid = errors.New("invalid configuration")

// Pos is a position in an env file.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Problem is one configuration error at a position.
type Problem struct {
	Pos Pos
	Msg string
}

func (p Problem) String() string { return fmt.Sprintf("%s: error: %s", p.Pos, p.Msg) }

// Problems collects every error found while loading, so one run reports
// them all.
type Problems []Problem

func (ps *Problems) add(pos Pos, format string, args ...any) {
	*ps = append(*ps, Problem{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// Err returns nil when there are no problems, else an error listing them in
// file order.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	// An env loaded twice (as itself and as the base of another) reports
	// the same problem twice; say it once.
	seen := map[Problem]bool{}
	var sorted Problems
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			sorted = append(sorted, p)
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].Pos, sorted[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return &Error{Problems: sorted}
}

// Error is returned by Load when the configuration is invalid.
type Error struct {
	Problems Problems
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is(err, ErrInvalid) hold.
func (e *Error) Unwrap() error { return ErrInvalid }
