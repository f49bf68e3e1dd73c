package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/litentry/envctl/pkg/lock"
	"github.com/litentry/envctl/pkg/plan"
)

// ApplyOptions are the inputs of envctl apply and envctl destroy.
type ApplyOptions struct {
	Globals
	Env         string
	AutoApprove bool
	Adopt       bool
	Destroy     bool
	// PlanFile applies this saved plan instead of planning afresh.
	PlanFile    string
	LockTimeout time.Duration
}

// errNotApproved: the user did not type yes, or there is no terminal to ask.
var errNotApproved = errors.New("not approved")

func applyCommand(io *IO) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "change live AWS to match the env file",
		UsageText: "envctl apply --env NAME [--auto-approve] [--adopt]\n   envctl apply [--auto-approve] FILE   (a plan saved by plan --out)",
		Flags: withCommon(
			&cli.StringFlag{Name: "env", Usage: "the env to apply (DIR/NAME.yaml)"},
			&cli.BoolFlag{Name: "auto-approve", Usage: "apply without asking (required without a terminal)"},
			&cli.BoolFlag{Name: "adopt", Usage: "take over resources that exist without envctl ownership tags"},
			&cli.DurationFlag{Name: "lock-timeout", Usage: "wait this long for the env's lock instead of failing at once"},
		),
		Action: func(c *cli.Context) error {
			o := ApplyOptions{Globals: globals(c), AutoApprove: c.Bool("auto-approve"), Adopt: c.Bool("adopt"), LockTimeout: c.Duration("lock-timeout")}
			switch {
			case c.Args().Len() > 1:
				return fmt.Errorf("apply takes at most one plan file, got %q", c.Args().Slice())
			case c.Args().Len() == 1:
				if c.String("env") != "" {
					return fmt.Errorf("apply FILE takes the env from the plan file; drop --env")
				}
				o.PlanFile = c.Args().First()
			default:
				name, err := requireEnv(c)
				if err != nil {
					return err
				}
				o.Env = name
			}
			return runApply(c.Context, io, o)
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
			&cli.DurationFlag{Name: "lock-timeout", Usage: "wait this long for the env's lock instead of failing at once"},
		),
		Action: func(c *cli.Context) error {
			name, err := requireEnv(c)
			if err != nil {
				return err
			}
			return runApply(c.Context, io, ApplyOptions{Globals: globals(c), Env: name, AutoApprove: c.Bool("auto-approve"), Destroy: true, LockTimeout: c.Duration("lock-timeout")})
		},
	}
}

func runApply(ctx context.Context, io *IO, o ApplyOptions) (err error) {
	var saved *plan.Saved
	if o.PlanFile != "" {
		if saved, err = plan.LoadSaved(o.PlanFile); err != nil {
			return err
		}
		o.Env, o.Destroy = saved.Env, saved.Destroy
	}
	s, err := openSession(ctx, o.Globals, o.Env)
	if err != nil {
		return err
	}
	release, err := takeLock(ctx, io, s, o)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := release(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	st := o.style(io)
	p, err := s.engine.Plan(ctx, s.env, o.Destroy)
	if err != nil {
		return err
	}
	if saved != nil {
		if err := saved.Check(s.env, p); err != nil {
			return fmt.Errorf("%w; nothing was changed", err)
		}
	}
	p.WriteText(io.Out, st)
	if !p.HasChanges() {
		return nil
	}
	// A saved plan was reviewed when it was made; applying it does not ask
	// again, as with terraform apply FILE.
	if saved == nil {
		if err := confirm(io, o); err != nil {
			return err
		}
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

// takeLock takes the env's lock when the env declares one, and returns the
// function that releases it.
func takeLock(ctx context.Context, io *IO, s *session, o ApplyOptions) (func() error, error) {
	l := s.env.Lock
	if l == nil {
		fmt.Fprintf(io.Err, "Warning: env %s declares no lock; nothing stops two runs from changing it at once.\n", s.env.Name)
		return func() error { return nil }, nil
	}
	command := "apply"
	if o.Destroy {
		command = "destroy"
	}
	held, err := lock.Acquire(ctx, s.clients.S3, lock.Options{Bucket: l.Bucket, Key: l.Key, Env: s.env.Name, Command: command, Timeout: o.LockTimeout})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(io.Err, "Acquired lock s3://%s/%s (lock id %s).\n", l.Bucket, l.Key, held.Info.ID)
	return func() error {
		if err := held.Release(ctx); err != nil {
			return fmt.Errorf("release lock: %w", err)
		}
		fmt.Fprintf(io.Err, "Released lock s3://%s/%s.\n", l.Bucket, l.Key)
		return nil
	}, nil
}
