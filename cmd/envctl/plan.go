package main

import (
	"context"
	"fmt"

	"github.com/litentry/envctl/pkg/plan"

	"github.com/urfave/cli/v2"
)

// PlanOptions are the inputs of envctl plan.
type PlanOptions struct {
	Globals
	Env              string
	Format           string // text, json or markdown
	Out              string // write the plan file here
	DetailedExitcode bool
	Destroy          bool
}

func planCommand(io *IO) *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show what apply would change, read from live AWS",
		UsageText: "envctl plan --env NAME [--json | --format markdown] [--out FILE] [--detailed-exitcode] [--destroy]",
		Flags: withCommon(
			&cli.StringFlag{Name: "env", Usage: "the env to plan (DIR/NAME.yaml)"},
			&cli.BoolFlag{Name: "json", Usage: "print the plan as one JSON object (same as --format json)"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, json or markdown (a summary table for $GITHUB_STEP_SUMMARY)"},
			&cli.StringFlag{Name: "out", Usage: "save the plan to FILE for envctl apply FILE"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 2 when there are changes (0 none, 1 error)"},
			&cli.BoolFlag{Name: "destroy", Usage: "plan the deletion of everything the env owns"},
		),
		Action: func(c *cli.Context) error {
			name, err := requireEnv(c)
			if err != nil {
				return err
			}
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			return runPlan(c.Context, io, PlanOptions{
				Globals: globals(c), Env: name, Format: format, Out: c.String("out"),
				DetailedExitcode: c.Bool("detailed-exitcode"), Destroy: c.Bool("destroy"),
			})
		},
	}
}

func runPlan(ctx context.Context, io *IO, o PlanOptions) error {
	s, err := openSession(ctx, o.Globals, o.Env)
	if err != nil {
		return err
	}
	p, err := s.engine.Plan(ctx, s.env, o.Destroy)
	if err != nil {
		return err
	}
	if err := writePlan(io, p, o.Format, o.style(io)); err != nil {
		return err
	}
	if o.Out != "" {
		if err := p.Save(o.Out); err != nil {
			return err
		}
		if o.Format == "text" {
			fmt.Fprintf(io.Out, "\nSaved the plan to %s. Apply exactly this plan with: envctl apply %s\n", o.Out, o.Out)
		}
	}
	if o.DetailedExitcode && p.HasChanges() {
		return exitCodeError{code: exitChanges}
	}
	return nil
}

// outputFormat reads --format, with --json as a shorthand.
func outputFormat(c *cli.Context) (string, error) {
	format := c.String("format")
	if c.Bool("json") {
		format = "json"
	}
	switch format {
	case "text", "json", "markdown":
		return format, nil
	}
	return "", fmt.Errorf("--format %q: expected text, json or markdown", format)
}

func writePlan(io *IO, p *plan.Plan, format string, st plan.Style) error {
	switch format {
	case "json":
		return p.WriteJSON(io.Out)
	case "markdown":
		p.WriteMarkdown(io.Out)
	default:
		p.WriteText(io.Out, st)
	}
	return nil
}
