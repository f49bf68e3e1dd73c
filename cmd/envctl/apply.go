package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/litentry/envctl/pkg/plan"
)

// ApplyOptions are the inputs of envctl apply and envctl destroy.
type ApplyOptions struct {
	Globals
	Env         string
	AutoApprove bool
	Adopt       bool
	Destroy     bool
}

// errNotApproved: the user did not type yes, or there is no terminal to ask.
var errNotApproved = errors.New("not approved")

func applyCommand(io *IO) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "change live AWS to match the env file",
		UsageText: "envctl apply --env NAME [--auto-approve] [--adopt]",
		Flags: withCommon(
			&cli.StringFlag{Name: "env", Usage: "the env to apply (DIR/NAME.yaml)"},
			&cli.BoolFlag{Name: "auto-approve", Usage: "apply without asking (required without a terminal)"},
			&cli.BoolFlag{Name: "adopt", Usage: "take over resources that exist without envctl ownership tags"},
		),
		Action: func(c *cli.Context) error {
			name, err := requireEnv(c)
			if err != nil {
				return err
			}
			return runApply(c.Context, io, ApplyOptions{Globals: globals(c), Env: name, AutoApprove: c.Bool("auto-approve"), Adopt: c.Bool("adopt")})
		},
	}
}

func destroyCommand(io *IO) *cli.Command {
	return &cli.Command{
		Name:      "destroy",
		Usage:     "delete every resource the env owns, in reverse dependency order",
		UsageText: "envctl destroy --env NAME [--auto-approve]",
		Flags: withCommon(
			&cli.StringFlag{Name: "env", Usage: "the env to destroy (DIR/NAME.yaml)"},
			&cli.BoolFlag{Name: "auto-approve", Usage: "destroy without asking (required without a terminal)"},
		),
		Action: func(c *cli.Context) error {
			name, err := requireEnv(c)
			if err != nil {
				return err
			}
			return runApply(c.Context, io, ApplyOptions{Globals: globals(c), Env: name, AutoApprove: c.Bool("auto-approve"), Destroy: true})
		},
	}
}

func runApply(ctx context.Context, io *IO, o ApplyOptions) error {
	s, err := openSession(ctx, o.Globals, o.Env)
	if err != nil {
		return err
	}
	st := o.style(io)
	p, err := s.engine.Plan(ctx, s.env, o.Destroy)
	if err != nil {
		return err
	}
	p.WriteText(io.Out, st)
	if !p.HasChanges() {
		return nil
	}
	if err := confirm(io, o); err != nil {
		return err
	}
	fmt.Fprintln(io.Out)
	res, err := s.engine.Apply(ctx, p, plan.ApplyOptions{
		Adopt: o.Adopt,
		OnEvent: func(ev plan.Event) {
			if line := plan.EventLine(ev, st); line != "" {
				fmt.Fprintln(io.Out, line)
			}
		},
	})
	if res != nil {
		verb := "Apply"
		if o.Destroy {
			verb = "Destroy"
		}
		status := "complete!"
		if err != nil {
			status = "failed."
		}
		fmt.Fprintf(io.Out, "\n%s %s Resources: %d added, %d changed, %d replaced, %d destroyed, %d adopted (%s).\n",
			verb, status, res.Done[plan.Create], res.Done[plan.Update], res.Done[plan.Replace], res.Done[plan.Delete], res.Done[plan.Adopt], res.Elapsed.Round(100e6))
		if err != nil {
			fmt.Fprintln(io.Out, "Run the same command again to continue: envctl picks up where this run stopped.")
		}
	}
	return err
}

// confirm asks for "yes" on a terminal; without one, --auto-approve is
// required.
func confirm(io *IO, o ApplyOptions) error {
	if o.AutoApprove {
		return nil
	}
	verb := "apply"
	if o.Destroy {
		verb = "destroy"
	}
	if !io.InIsTTY || io.Getenv("CI") != "" {
		return fmt.Errorf("%w: %s needs --auto-approve when not run from a terminal; nothing was changed", errNotApproved, verb)
	}
	fmt.Fprintf(io.Out, "\nDo you want to perform these actions on env %s?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", o.Env)
	line, _ := bufio.NewReader(io.In).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return fmt.Errorf("%w: %s cancelled; nothing was changed", errNotApproved, verb)
	}
	return nil
}
