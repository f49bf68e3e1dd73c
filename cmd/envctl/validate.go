package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/litentry/envctl/pkg/config"
)

// ValidateOptions are the inputs of envctl validate.
type ValidateOptions struct {
	Globals
	Env string
}

func validateCommand(io *IO) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "parse, merge and check env files without calling AWS",
		UsageText: "envctl validate [--env NAME]   (without --env: every env file in --dir)",
		Flags:     withCommon(&cli.StringFlag{Name: "env", Usage: "check only DIR/NAME.yaml"}),
		Action: func(c *cli.Context) error {
			return runValidate(io, ValidateOptions{Globals: globals(c), Env: c.String("env")})
		},
	}
}

func runValidate(io *IO, o ValidateOptions) error {
	var names []string
	if o.Env != "" {
		names = []string{o.Env}
	} else {
		matches, err := filepath.Glob(filepath.Join(o.Dir, "*.yaml"))
		if err != nil {
			return err
		}
		if len(matches) == 0 {
			if _, err := os.Stat(o.Dir); err != nil {
				return fmt.Errorf("env folder %s: %w", o.Dir, err)
			}
			return fmt.Errorf("no env files (*.yaml) in %s", o.Dir)
		}
		for _, m := range matches {
			names = append(names, strings.TrimSuffix(filepath.Base(m), ".yaml"))
		}
		sort.Strings(names)
	}
	var all config.Problems
	var envs []*config.Env
	for _, name := range names {
		env, err := config.LoadEnv(o.Dir, name)
		if err != nil {
			if ce, ok := err.(*config.Error); ok {
				all = append(all, ce.Problems...)
				continue
			}
			return err
		}
		envs = append(envs, env)
		fmt.Fprintf(io.Out, "%s: valid (%d resources)\n", env.File, len(env.Resources))
	}
	if err := all.Err(); err != nil {
		return err
	}
	if o.Env == "" && len(envs) > 1 {
		if err := config.CheckIsolation(envs); err != nil {
			return err
		}
		fmt.Fprintf(io.Out, "%d envs share no identifiers and name none of each other's.\n", len(envs))
	}
	return nil
}
