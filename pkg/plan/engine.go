package plan

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/litentry/envctl/pkg/config"
	"github.com/litentry/envctl/pkg/resources"
)

// DefaultParallelism bounds concurrent AWS work when no limit is given.
const DefaultParallelism = 16

// Engine plans and applies envs through a set of drivers.
type Engine struct {
	Drivers map[string]resources.Driver
	// Parallelism bounds how many resources are read or changed at once.
	Parallelism int
}

// ErrRefused wraps plan errors that stop a change for safety: a resource
// owned by another env, a protected resource, a non-empty bucket.
var ErrRefused = errors.New("refused")

func (e *Engine) parallelism() int {
	if e.Parallelism > 0 {
		return e.Parallelism
	}
	return DefaultParallelism
}

// observed is what reading one declared resource found.
type observed struct {
	live  *resources.Live
	moved bool // found by its envctl:id tag, not under its declared identity
}

// Plan reads every declared resource and every resource tagged for the env,
// and decides what to do. With destroy set, everything the env owns is
// planned for deletion.
func (e *Engine) Plan(ctx context.Context, env *config.Env, destroy bool) (*Plan, error) {
	found, listed, err := e.read(ctx, env)
	if err != nil {
		return nil, err
	}
	p := &Plan{Env: env.Name, AccountID: env.AccountID, Region: env.Region, Destroy: destroy, env: env}
	var refusals []string
	refuse := func(format string, args ...any) { refusals = append(refusals, fmt.Sprintf(format, args...)) }

	claimed := map[string]bool{} // type|handle of lives that declared resources own
	for _, r := range env.Resources {
		if o := found[r.ID]; o.live != nil {
			claimed[r.Type+"|"+o.live.Handle] = true
		}
	}

	if destroy {
		for _, r := range reverse(topoOrder(env)) {
			o := found[r.ID]
			if o.live == nil {
				continue
			}
			tags := o.live.Tags()
			if tags[resources.TagEnv] != env.Name {
				continue // never delete what this env does not own
			}
			c := &Change{ID: r.ID, Type: r.Type, Action: Delete, live: o.live, res: r, Notes: o.live.Notes}
			e.checkDelete(c, r, refuse)
			p.Changes = append(p.Changes, c)
		}
	} else {
		e.decide(ctx, env, found, p, refuse)
	}
	for _, c := range orphans(env, listed, claimed) {
		if destroy {
			c.Reason = "destroy (tagged for env " + env.Name + ", not in " + env.File + ")"
		}
		e.checkDelete(c, nil, refuse)
		p.Changes = append(p.Changes, c)
	}
	if len(refusals) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrRefused, strings.Join(refusals, "\n"))
	}
	for _, c := range p.Changes {
		if c.live != nil {
			c.Handle = c.live.Handle
		}
	}
	p.recordFingerprints(env, found, listed)
	p.summarize()
	return p, nil
}

// read lists every resource tagged for the env (one List per type, all
// concurrently), takes each declared resource from those lists when it is
// there under its declared identity, and looks up by identity (Find) only
// the rest: resources not created yet, not owned by the env, or renamed.
// A converged env is therefore read with the List calls alone.
func (e *Engine) read(ctx context.Context, env *config.Env) (map[string]observed, map[string][]*resources.Live, error) {
	for _, r := range env.Resources {
		if e.Drivers[r.Type] == nil {
			return nil, nil, fmt.Errorf("%s: no driver for type %s", r.ID, r.Type)
		}
	}
	var mu sync.Mutex
	listed := map[string][]*resources.Live{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.parallelism())
	for _, typ := range resources.SortedKeys(e.Drivers) {
		d := e.Drivers[typ]
		g.Go(func() error {
			lives, err := d.List(gctx, env.Name)
			if err != nil {
				return fmt.Errorf("list %s resources of env %s: %w", typ, env.Name, err)
			}
			mu.Lock()
			listed[typ] = lives
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}

	found := map[string]observed{}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(e.parallelism())
	for _, r := range env.Resources {
		t := target(env, r, knownOnly)
		if l := listedAs(listed[r.Type], r, t); l != nil {
			mu.Lock()
			found[r.ID] = observed{live: l}
			mu.Unlock()
			continue
		}
		g.Go(func() error {
			live, err := e.Drivers[r.Type].Find(gctx, t)
			if err != nil {
				return fmt.Errorf("%s: read: %w", r.ID, err)
			}
			mu.Lock()
			found[r.ID] = observed{live: live}
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	// A declared resource not found under its identity may still exist under
	// an old one (a renamed role): its ownership tags find it.
	for _, r := range env.Resources {
		if found[r.ID].live != nil {
			continue
		}
		for _, l := range listed[r.Type] {
			if l.Tags()[resources.TagID] == r.ID {
				found[r.ID] = observed{live: l, moved: true}
				break
			}
		}
	}
	return found, listed, nil
}

// listedAs returns the one listed resource tagged with r's id whose identity
// attributes equal the declared ones, or nil (then Find decides: none, or
// more than one, as duplicates are Find's to report).
func listedAs(lives []*resources.Live, r *config.Resource, t resources.Target) *resources.Live {
	var match *resources.Live
	for _, l := range lives {
		if l.Tags()[resources.TagID] != r.ID {
			continue
		}
		if match != nil {
			return nil
		}
		match = l
	}
	if match == nil {
		return nil
	}
	s := r.Schema
	for _, a := range s.Attrs {
		want, ok := t.Attrs[a.Name]
		if !a.Identity || !ok {
			continue
		}
		have := match.Attrs[a.Name]
		if s.Normalize != nil {
			want, have = s.Normalize(a.Name, want), s.Normalize(a.Name, have)
		}
		if len(compareValue(a.Kind, a.Name, have, want)) > 0 {
			return nil
		}
	}
	return match
}

// orphans are live resources tagged for the env that no declared resource
// owns: deleted, because the file no longer declares them.
func orphans(env *config.Env, listed map[string][]*resources.Live, claimed map[string]bool) []*Change {
	var out []*Change
	for _, typ := range resources.SortedKeys(listed) {
		for _, l := range listed[typ] {
			if claimed[typ+"|"+l.Handle] {
				continue
			}
			id := l.Tags()[resources.TagID]
			if id == "" {
				id = l.Handle
			}
			out = append(out, &Change{ID: id, Type: typ, Action: Delete, Reason: "not in " + env.File + " (tagged envctl:env=" + env.Name + ")", live: l, Notes: l.Notes})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return destroyRank(out[i].Type) < destroyRank(out[j].Type) })
	return out
}

// checkDelete refuses deleting protected resources and non-empty buckets
// without force_destroy.
func (e *Engine) checkDelete(c *Change, r *config.Resource, refuse func(string, ...any)) {
	tags := c.live.Tags()
	if tags[resources.TagProtect] == "true" || (r != nil && r.Protect) {
		refuse("%s (%s): protected (tag %s=true or protect: true); set protect: false and apply before deleting it", c.ID, c.Type, resources.TagProtect)
	}
	if n := c.live.Notes["objects"]; n != "" && n != "0" {
		force := r != nil && r.Attrs["force_destroy"] == true
		if !force {
			refuse("%s (%s): bucket holds %s objects; set force_destroy: true to delete them with the bucket", c.ID, c.Type, n)
			return
		}
		c.Reason = strings.TrimPrefix(c.Reason+fmt.Sprintf("; force_destroy deletes its %s objects", n), "; ")
	}
}

// destroyRank orders deletion of resources whose dependencies are unknown
// (orphans): what points at something goes before what it points at.
func destroyRank(typ string) int {
	switch typ {
	case "route53_record", "elastic_ip":
		return 0
	case "ec2_instance":
		return 1
	case "ec2_security_group":
		return 2
	case "iam_role":
		return 3
	case "iam_oidc_provider", "s3_bucket":
		return 4
	}
	return 5
}

// decide computes the action of every declared resource, in dependency
// order, so references resolve to values that stay valid after apply.
func (e *Engine) decide(ctx context.Context, env *config.Env, found map[string]observed, p *Plan, refuse func(string, ...any)) {
	stable := map[string]map[string]string{} // exports that apply will not change
	lookup := func(ref config.Ref) (string, bool) {
		v, ok := stable[ref.ID][ref.Attr]
		return v, ok && v != ""
	}
	for _, r := range topoOrder(env) {
		o := found[r.ID]
		c := &Change{ID: r.ID, Type: r.Type, res: r, live: o.live}
		desired, err := e.desired(ctx, env, r, lookup)
		if err != nil {
			refuse("%s: %v", r.ID, err)
			continue
		}
		e.decideOne(env, r, o, desired, c, refuse)
		p.Changes = append(p.Changes, c)
		if o.live != nil && (c.Action == Noop || c.Action == Update || c.Action == Adopt) {
			stable[r.ID] = o.live.Exports
		}
	}
}

func (e *Engine) decideOne(env *config.Env, r *config.Resource, o observed, desired resources.Attrs, c *Change, refuse func(string, ...any)) {
	s := r.Schema
	if o.live == nil {
		c.Action = Create
		c.Diffs = compare(s, desired, resources.Attrs{}, r.Sensitive)
		return
	}
	c.Notes = o.live.Notes
	tags := o.live.Tags()
	owner := tags[resources.TagEnv]
	if owner != "" && owner != env.Name {
		refuse("%s (%s): %s exists but belongs to env %q (tag %s=%s); envctl will not touch it", r.ID, r.Type, o.live.Handle, owner, resources.TagEnv, owner)
		return
	}
	c.Diffs = compare(s, desired, o.live.Attrs, r.Sensitive)
	var forcing []string
	for _, d := range c.Diffs {
		if d.ForcesReplace {
			forcing = append(forcing, d.Path)
		}
	}
	switch {
	case owner == "":
		c.Action = Adopt
		c.Reason = o.live.Handle + " exists without envctl ownership tags"
		if len(forcing) > 0 {
			refuse("%s (%s): cannot adopt %s: %s differs and forces replacement", r.ID, r.Type, o.live.Handle, strings.Join(forcing, ", "))
		}
	case len(forcing) > 0:
		c.Action = Replace
		c.Reason = strings.Join(forcing, ", ") + " forces replacement"
		c.createFirst = s.CreateBeforeDestroy || o.moved
		if tags[resources.TagProtect] == "true" || r.Protect {
			refuse("%s (%s): protected; replacing it would delete %s (%s). Set protect: false and apply first", r.ID, r.Type, o.live.Handle, c.Reason)
		}
	case len(c.Diffs) > 0:
		c.Action = Update
		var notes []string
		for _, name := range changedAttrs(c.Diffs) {
			if a := s.Attr(name); a != nil && a.UpdateNote != "" {
				notes = append(notes, a.UpdateNote)
			}
		}
		c.Reason = strings.Join(notes, "; ")
	default:
		c.Action = Noop
	}
}

// resolver is implemented by drivers that turn a desired value into the one
// AWS will hold, at plan time (an ssm: AMI parameter into an AMI id), so
// the plan shows and compares the resolved value.
type resolver interface {
	Resolve(ctx context.Context, attrs resources.Attrs) (resources.Attrs, error)
}

// lookupFn resolves references; knownOnly resolves none.
type lookupFn = config.Lookup

var knownOnly lookupFn = func(config.Ref) (string, bool) { return "", false }

// target builds the driver's view of a declared resource: attributes
// resolved through lookup (unknown ones left out) and ownership tags added.
func target(env *config.Env, r *config.Resource, lookup lookupFn) resources.Target {
	attrs := resources.Attrs{}
	for name, v := range r.Attrs {
		a := r.Schema.Attr(name)
		if a == nil {
			continue
		}
		if val, known, err := config.Resolve(a, v, lookup); err == nil && known {
			attrs[name] = val
		}
	}
	attrs["tags"] = ownershipTags(env, r, resources.TagMap(attrs["tags"]))
	return resources.Target{Env: env.Name, ID: r.ID, Attrs: attrs}
}

func ownershipTags(env *config.Env, r *config.Resource, tags map[string]string) map[string]string {
	tags[resources.TagEnv] = env.Name
	tags[resources.TagID] = r.ID
	if r.Protect {
		tags[resources.TagProtect] = "true"
	}
	return tags
}

// desired resolves every attribute, marking unknown ones, and checks values
// that could only be checked once references resolved.
func (e *Engine) desired(ctx context.Context, env *config.Env, r *config.Resource, lookup lookupFn) (resources.Attrs, error) {
	t := target(env, r, lookup)
	for name, v := range r.Attrs {
		if _, ok := t.Attrs[name]; ok || name == "tags" {
			continue
		}
		a := r.Schema.Attr(name)
		if a == nil {
			continue
		}
		if _, known, err := config.Resolve(a, v, lookup); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		} else if !known {
			t.Attrs[name] = Unknown{}
		}
	}
	if err := checkResolved(r, t.Attrs); err != nil {
		return nil, err
	}
	if res, ok := e.Drivers[r.Type].(resolver); ok {
		resolved, err := res.Resolve(ctx, t.Attrs)
		if err != nil {
			return nil, err
		}
		t.Attrs = resolved
	}
	return t.Attrs, nil
}

// topoOrder returns the env's resources with every resource after the ones
// it references; ties keep file order.
func topoOrder(env *config.Env) []*config.Resource {
	done := map[string]bool{}
	var out []*config.Resource
	var visit func(r *config.Resource)
	visit = func(r *config.Resource) {
		if done[r.ID] {
			return
		}
		done[r.ID] = true
		for _, d := range r.Deps {
			if dr := env.Resource(d); dr != nil {
				visit(dr)
			}
		}
		out = append(out, r)
	}
	for _, r := range env.Resources {
		visit(r)
	}
	return out
}

func reverse[T any](in []T) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[len(in)-1-i] = v
	}
	return out
}

// checkResolved runs the checks the loader had to skip because a value
// referenced another resource: each attribute's Check and the schema's
// cross-attribute Validate, on the values now known.
func checkResolved(r *config.Resource, attrs resources.Attrs) error {
	known := resources.Attrs{}
	for name, v := range attrs {
		if _, unknown := v.(Unknown); !unknown {
			known[name] = v
		}
	}
	for _, name := range resources.SortedKeys(known) {
		a := r.Schema.Attr(name)
		if a == nil || a.Check == nil || len(r.Refs(name)) == 0 {
			continue
		}
		if err := a.Check(known[name]); err != nil {
			return fmt.Errorf("%s (resolved from a reference): %w", name, err)
		}
	}
	if r.Schema.Validate != nil {
		if err := r.Schema.Validate(known); err != nil {
			return err
		}
	}
	return nil
}
