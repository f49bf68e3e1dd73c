package main

import (
	"context"

	"github.com/urfave/cli/v2"
)

// PlanOptions are the inputs of envctl plan.
type PlanOptions struct {
	Globals
	Env              string
	JSON             bool
	DetailedExitcode bool
	Destroy          bool
}

func planCommand(io *IO) *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show what apply would change, read from live AWS",
		UsageText: "envctl plan --env NAME [--json] [--detailed-exitcode] [--destroy]",
		Flags: withCommon(
			&cli.StringFlag{Name: "env", Usage: "the env to plan (DIR/NAME.yaml)"},
			&cli.BoolFlag{Name: "json", Usage: "print the plan as one JSON object"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 2 when there are changes (0 none, 1 error)"},
			&cli.BoolFlag{Name: "destroy", Usage: "plan the deletion of everything the env owns"},
		),
		Action: func(c *cli.Context) error {
			name, err := requireEnv(c)
			if err != nil {
				return err
			}
			return runPlan(c.Context, io, PlanOptions{
				Globals: globals(c), Env: name, JSON: c.Bool("json"),
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
	if o.JSON {
		if err := p.WriteJSON(io.Out); err != nil {
			return err
		}
	} else {
		p.WriteText(io.Out, o.style(io))
	}
	if o.DetailedExitcode && p.HasChanges() {
		return exitCodeError{code: exitChanges}
	}
	return nil
}
