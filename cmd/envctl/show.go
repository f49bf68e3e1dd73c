package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/litentry/envctl/pkg/config"
	"github.com/litentry/envctl/pkg/plan"
	"github.com/litentry/envctl/pkg/resources"
)

// ShowOptions are the inputs of envctl show.
type ShowOptions struct {
	Globals
	Env  string
	JSON bool
}

func showCommand(io *IO) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print the live attributes of every resource of an env",
		UsageText: "envctl show --env NAME [--json]\n   envctl show FILE [--json | --format markdown]   (a plan saved by plan --out)",
		Flags: withCommon(
			&cli.StringFlag{Name: "env", Usage: "the env to show (DIR/NAME.yaml)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "for a plan file: text, json or markdown"},
		),
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				format, err := outputFormat(c)
				if err != nil {
					return err
				}
				return runShowPlanFile(io, globals(c), c.Args().First(), format)
			}
			name, err := requireEnv(c)
			if err != nil {
				return err
			}
			return runShow(c.Context, io, ShowOptions{Globals: globals(c), Env: name, JSON: c.Bool("json")})
		},
	}
}

// shownResource is one resource in envctl show.
type shownResource struct {
	ID      string            `json:"id"`
	Type    string            `json:"type"`
	Status  string            `json:"status"`
	Handle  string            `json:"handle,omitempty"`
	Exports map[string]string `json:"exports,omitempty"`
	Attrs   map[string]any    `json:"attributes,omitempty"`
}

func runShow(ctx context.Context, io *IO, o ShowOptions) error {
	s, err := openSession(ctx, o.Globals, o.Env)
	if err != nil {
		return err
	}
	p, err := s.engine.Plan(ctx, s.env, false)
	if err != nil {
		return err
	}
	var out []shownResource
	for _, c := range p.Changes {
		sr := shownResource{ID: c.ID, Type: c.Type}
		l := c.Live()
		switch {
		case l == nil:
			sr.Status = "absent"
		case c.Action == plan.Delete:
			sr.Status = "orphan"
		case c.Action == plan.Adopt:
			sr.Status = "unmanaged"
		case c.Action == plan.Noop:
			sr.Status = "in sync"
		default:
			sr.Status = "drifted"
		}
		if l != nil {
			sr.Handle = l.Handle
			sr.Exports = l.Exports
			sr.Attrs = maskedAttrs(c.Type, l.Attrs, s.env.Resource(c.ID))
		}
		out = append(out, sr)
	}
	if o.JSON {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"env": p.Env, "account_id": p.AccountID, "region": p.Region, "resources": out})
	}
	st := o.style(io)
	fmt.Fprintf(io.Out, "Env %s (account %s, %s)\n", p.Env, p.AccountID, p.Region)
	for _, r := range out {
		fmt.Fprintf(io.Out, "\n%s (%s): %s\n", st.Bold(r.ID), r.Type, r.Status)
		if r.Handle != "" {
			fmt.Fprintf(io.Out, "  id: %s\n", r.Handle)
		}
		for _, k := range resources.SortedKeys(r.Exports) {
			if k == "id" && r.Exports[k] == r.Handle {
				continue
			}
			fmt.Fprintf(io.Out, "  %s: %s\n", k, r.Exports[k])
		}
	}
	return nil
}

// maskedAttrs hides sensitive attributes (user data, and those the file
// marks sensitive) from show output.
func maskedAttrs(typ string, attrs resources.Attrs, r *config.Resource) map[string]any {
	s := resources.SchemaFor(typ)
	out := map[string]any{}
	for k, v := range attrs {
		if a := s.Attr(k); (a != nil && a.Sensitive) || (r != nil && r.Sensitive[k]) {
			out[k] = plan.MaskValue(v)
			continue
		}
		out[k] = v
	}
	return out
}

// runShowPlanFile renders a saved plan without calling AWS.
func runShowPlanFile(io *IO, g Globals, path, format string) error {
	saved, err := plan.LoadSaved(path)
	if err != nil {
		return err
	}
	if format == "text" {
		fmt.Fprintf(io.Out, "Saved plan %s, made %s.\n\n", path, saved.Created.Format("2006-01-02 15:04:05 UTC"))
	}
	return writePlan(io, saved.Plan, format, g.style(io))
}
