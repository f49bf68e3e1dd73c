package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/litentry/envctl/pkg/config"
)

// CompareOptions are the inputs of envctl compare.
type CompareOptions struct {
	Globals
	Base, Child string
	Strict      bool
}

func compareCommand(io *IO) *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "show how an extending env differs from its base (no AWS calls)",
		UsageText: "envctl compare [--strict] BASE CHILD   (e.g. envctl compare prod test)",
		Flags:     withCommon(&cli.BoolFlag{Name: "strict", Usage: "exit 1 when anything beyond vars and the child's parity_allow paths differs"}),
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 2 {
				return fmt.Errorf("compare needs two env names: BASE CHILD (e.g. prod test)")
			}
			return runCompare(io, CompareOptions{Globals: globals(c), Base: c.Args().Get(0), Child: c.Args().Get(1), Strict: c.Bool("strict")})
		},
	}
}

func runCompare(io *IO, o CompareOptions) error {
	cmp, err := config.Compare(o.Dir, o.Base, o.Child)
	if err != nil {
		return err
	}
	st := o.style(io)
	fmt.Fprintf(io.Out, "%s (%s) compared with %s (%s)\n\n", cmp.Child.Name, cmp.Child.File, cmp.Base.Name, cmp.Base.File)
	fmt.Fprintln(io.Out, st.Bold("Vars that differ:"))
	if len(cmp.Vars) == 0 {
		fmt.Fprintln(io.Out, "  (none)")
	}
	for _, v := range cmp.Vars {
		fmt.Fprintf(io.Out, "  ~ %s: %q → %q\n", v.Name, v.Base, v.Child)
	}
	fmt.Fprintln(io.Out)
	fmt.Fprintln(io.Out, st.Bold("Paths the extending file sets:"))
	if len(cmp.Overrides) == 0 {
		fmt.Fprintln(io.Out, "  (none)")
	}
	width := 0
	for _, ov := range cmp.Overrides {
		width = max(width, len(ov.Path))
	}
	for _, ov := range cmp.Overrides {
		verdict := "allowed by parity_allow"
		if !ov.Allowed {
			verdict = "NOT in parity_allow"
		}
		sym := map[string]string{"overridden": "~", "added": "+", "removed": "-"}[ov.Kind]
		fmt.Fprintf(io.Out, "  %s %-*s  %-10s  %s  %s\n", sym, width, ov.Path, ov.Kind, ov.Pos, verdict)
	}
	violations := cmp.Violations()
	fmt.Fprintln(io.Out)
	if len(violations) == 0 {
		fmt.Fprintf(io.Out, "%s is a parameterised copy of %s: %d vars differ; %d overrides, all allowed.\n", cmp.Child.Name, cmp.Base.Name, len(cmp.Vars), len(cmp.Overrides))
		return nil
	}
	fmt.Fprintf(io.Out, "%s differs from %s beyond vars in %d path(s) that parity_allow does not list.\n", cmp.Child.Name, cmp.Base.Name, len(violations))
	if o.Strict {
		var probs config.Problems
		for _, v := range violations {
			probs = append(probs, config.Problem{Pos: v.Pos, Msg: fmt.Sprintf("%s is %s here but parity_allow does not list it; override vars instead, or add the path to parity_allow", v.Path, v.Kind)})
		}
		return probs.Err()
	}
	return nil
}
