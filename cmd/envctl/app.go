package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/litentry/envctl/pkg/config"
	"github.com/litentry/envctl/pkg/plan"
)

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan --detailed-exitcode found changes
)

// IO is where a command reads and writes; tests pass buffers.
type IO struct {
	In       io.Reader
	Out      io.Writer
	Err      io.Writer
	OutIsTTY bool
	InIsTTY  bool
	Getenv   func(string) string
}

// exitError carries an exit code other than 1 through urfave/cli.
type exitCodeError struct {
	code int
}

func (e exitCodeError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Run runs envctl with args (args[0] is the program name) and returns the
// exit code. main alone calls os.Exit.
func Run(ctx context.Context, args []string, io *IO) int {
	app := newApp(io)
	err := app.RunContext(ctx, flagsFirst(app, args))
	return exitCode(err, io)
}

// flagsFirst moves a command's flags before its positional arguments, so
// "envctl show test.plan --json" works as users expect; urfave/cli stops
// parsing flags at the first positional argument.
func flagsFirst(app *cli.App, args []string) []string {
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if takesValue(app.Flags, args[i]) {
			i++
		}
		i++
	}
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	var flags, positional []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			positional = append(positional, rest[j:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			if takesValue(cmd.Flags, a) && j+1 < len(rest) {
				j++
				flags = append(flags, rest[j])
			}
			continue
		}
		positional = append(positional, a)
	}
	out := append(append([]string{}, args[:i+1]...), flags...)
	return append(out, positional...)
}

// takesValue reports whether arg names a flag that takes a separate value.
func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}

// exitCode maps an error to the documented exit code and prints it.
func exitCode(err error, io *IO) int {
	if err == nil {
		return exitOK
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	var cfgErr *config.Error
	switch {
	case errors.As(err, &cfgErr):
		fmt.Fprintln(io.Err, cfgErr.Error())
		fmt.Fprintf(io.Err, "%d problem(s) in the env file; nothing was changed.\n", len(cfgErr.Problems))
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(io.Err, "Error: interrupted: %v\n", strings.TrimSuffix(err.Error(), "context canceled"))
	default:
		fmt.Fprintf(io.Err, "Error: %v\n", err)
	}
	return exitError
}

func newApp(io *IO) *cli.App {
	return &cli.App{
		Name:                 "envctl",
		Usage:                "plan and apply AWS environments described by env files",
		HideVersion:          true,
		EnableBashCompletion: false,
		Writer:               io.Out,
		ErrWriter:            io.Err,
		Flags:                commonFlags(),
		ExitErrHandler:       func(*cli.Context, error) {},
		Commands: []*cli.Command{
			validateCommand(io),
			planCommand(io),
			applyCommand(io),
			destroyCommand(io),
			showCommand(io),
			forceUnlockCommand(io),
			compareCommand(io),
			verifyCommand(io),
			proveCommand(io),
		},
	}
}

// commonFlags are accepted both before the command and among its flags.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "dir", Value: "envs", Usage: "folder of env files; --env NAME means DIR/NAME.yaml"},
		&cli.StringFlag{Name: "endpoint-url", Usage: "send every AWS call to this endpoint (an emulator or proxy); AWS_ENDPOINT_URL also works"},
		&cli.BoolFlag{Name: "no-color", Usage: "never colour output (NO_COLOR in the environment does the same)"},
		&cli.IntFlag{Name: "parallelism", Value: plan.DefaultParallelism, Usage: "how many resources are read or changed at once"},
	}
}

func withCommon(flags ...cli.Flag) []cli.Flag { return append(commonFlags(), flags...) }

// common reads a common flag from the command or, when not set there, from
// before the command.
func commonString(c *cli.Context, name string) string {
	for _, cc := range c.Lineage() {
		if cc.IsSet(name) {
			return cc.String(name)
		}
	}
	return c.String(name)
}

func commonBool(c *cli.Context, name string) bool {
	for _, cc := range c.Lineage() {
		if cc.IsSet(name) {
			return cc.Bool(name)
		}
	}
	return c.Bool(name)
}

func commonInt(c *cli.Context, name string) int {
	for _, cc := range c.Lineage() {
		if cc.IsSet(name) {
			return cc.Int(name)
		}
	}
	return c.Int(name)
}

// Globals are the settings every command shares.
type Globals struct {
	Dir         string
	EndpointURL string
	NoColor     bool
	Parallelism int
}

func globals(c *cli.Context) Globals {
	return Globals{
		Dir:         commonString(c, "dir"),
		EndpointURL: commonString(c, "endpoint-url"),
		NoColor:     commonBool(c, "no-color"),
		Parallelism: commonInt(c, "parallelism"),
	}
}

// style decides on colour: only on a terminal, never with NO_COLOR or
// --no-color.
func (g Globals) style(io *IO) plan.Style {
	return plan.Style{Color: io.OutIsTTY && !g.NoColor && io.Getenv("NO_COLOR") == ""}
}

func requireEnv(c *cli.Context) (string, error) {
	name := c.String("env")
	if name == "" {
		return "", fmt.Errorf("--env NAME is required (an env file DIR/NAME.yaml)")
	}
	return name, nil
}
