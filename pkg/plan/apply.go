package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/litentry/envctl/pkg/config"
	"github.com/litentry/envctl/pkg/resources"
)

// ErrAdoptNotAllowed: the plan adopts resources and neither the resource
// (adopt: true) nor the command (--adopt) allows it.
var ErrAdoptNotAllowed = errors.New("adopting requires adopt: true on the resource or --adopt")

// ErrApplyFailed: some changes failed; the error lists them.
var ErrApplyFailed = errors.New("apply failed")

// Phase is the stage of one change during apply.
type Phase string

// Phases reported through ApplyOptions.OnEvent.
const (
	Started  Phase = "started"
	Progress Phase = "progress"
	Finished Phase = "finished"
	Failed   Phase = "failed"
	Skipped  Phase = "skipped"
)

// Event reports progress of one change.
type Event struct {
	ID      string
	Type    string
	Action  Action
	Phase   Phase
	Elapsed time.Duration
	Handle  string
	Err     error
	// Old is set when the event concerns the resource being replaced.
	Old bool
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	Adopt bool
	// OnEvent receives progress; it is called from several goroutines, one
	// call at a time.
	OnEvent func(Event)
	// ProgressEvery is how often a long change reports progress; 0 means 10s.
	ProgressEvery time.Duration
}

// Result tells what apply did.
type Result struct {
	Done    map[Action]int
	Failed  map[string]error // by change key
	Skipped map[string]error
	Elapsed time.Duration
}

// Apply carries out the plan. Creates and updates run in dependency order;
// deletions (orphans, destroy, and the old half of create-before-destroy
// replacements) run afterwards in reverse dependency order. Independent
// changes continue when one fails; its dependents are skipped. When ctx is
// cancelled, no new change starts and calls already made are let finish.
func (e *Engine) Apply(ctx context.Context, p *Plan, opts ApplyOptions) (*Result, error) {
	start := time.Now()
	var notAllowed []string
	for _, c := range p.Changes {
		if c.Action == Adopt && !opts.Adopt && (c.res == nil || !c.res.Adopt) {
			notAllowed = append(notAllowed, fmt.Sprintf("%s (%s)", c.ID, c.live.Handle))
		}
	}
	if len(notAllowed) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrAdoptNotAllowed, strings.Join(notAllowed, ", "))
	}
	a := &applier{e: e, p: p, opts: opts, exports: map[string]map[string]string{},
		res: &Result{Done: map[Action]int{}, Failed: map[string]error{}, Skipped: map[string]error{}}}
	var emitMu sync.Mutex
	a.emit = func(ev Event) {
		if opts.OnEvent != nil {
			emitMu.Lock()
			opts.OnEvent(ev)
			emitMu.Unlock()
		}
	}
	for _, c := range p.Changes {
		if c.live != nil && (c.Action == Noop || c.Action == Update || c.Action == Adopt) {
			a.exports[c.ID] = c.live.Exports
		}
	}
	firstResults := a.runUpserts(ctx)
	a.runDeletes(ctx, firstResults)
	a.res.Elapsed = time.Since(start)
	if len(a.res.Failed) > 0 || len(a.res.Skipped) > 0 {
		var lines []string
		for _, k := range resources.SortedKeys(a.res.Failed) {
			lines = append(lines, fmt.Sprintf("%s: %v", k, a.res.Failed[k]))
		}
		for _, k := range resources.SortedKeys(a.res.Skipped) {
			lines = append(lines, fmt.Sprintf("%s: %v", k, a.res.Skipped[k]))
		}
		err := fmt.Errorf("%w: %s", ErrApplyFailed, strings.Join(lines, "\n"))
		if ctx.Err() != nil {
			err = errors.Join(err, ctx.Err())
		}
		return a.res, err
	}
	return a.res, nil
}

type applier struct {
	e       *Engine
	p       *Plan
	opts    ApplyOptions
	emit    func(Event)
	mu      sync.Mutex
	exports map[string]map[string]string
	res     *Result
}

func (a *applier) lookup(ref config.Ref) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.exports[ref.ID][ref.Attr]
	return v, ok && v != ""
}

func (a *applier) record(key string, action Action, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case err == nil:
		a.res.Done[action]++
	case errors.Is(err, ErrSkipped) || errors.Is(err, context.Canceled):
		a.res.Skipped[key] = err
	default:
		a.res.Failed[key] = err
	}
}

// runUpserts creates, updates, adopts and replaces in dependency order.
func (a *applier) runUpserts(ctx context.Context) map[string]error {
	byID := map[string]*Change{}
	var nodes []string
	deps := map[string][]string{}
	for _, c := range a.p.Changes {
		if c.res == nil || c.Action == Delete || c.Action == Noop {
			continue
		}
		byID[c.ID] = c
		nodes = append(nodes, c.ID)
		deps[c.ID] = c.res.Deps
	}
	results := walk(ctx, nodes, deps, a.e.parallelism(), func(ctx context.Context, id string) error {
		return a.upsert(ctx, byID[id])
	})
	for id, err := range results {
		a.record(id, byID[id].Action, err)
		if errors.Is(err, ErrSkipped) || errors.Is(err, context.Canceled) {
			a.emit(Event{ID: id, Type: byID[id].Type, Action: byID[id].Action, Phase: Skipped, Err: err})
		}
	}
	return results
}

func (a *applier) upsert(ctx context.Context, c *Change) error {
	d := a.e.Drivers[c.Type]
	// Calls already started are let finish even when the user interrupts:
	// abandoning them half-way is what leaves resources untracked.
	callCtx := context.WithoutCancel(ctx)
	desired, err := a.e.desired(callCtx, a.p.env, c.res, a.lookup)
	if err != nil {
		return err
	}
	for name, v := range desired {
		if _, unknown := v.(Unknown); unknown {
			return fmt.Errorf("%s is still unknown: a resource it references was not applied", name)
		}
	}
	t := resources.Target{Env: a.p.Env, ID: c.ID, Attrs: desired}
	var live *resources.Live
	err = a.track(c, false, func() error {
		switch c.Action {
		case Create:
			live, err = d.Create(callCtx, t)
		case Update, Adopt:
			changed := changedAttrs(compare(c.res.Schema, desired, c.live.Attrs, nil))
			live = c.live
			if len(changed) > 0 {
				live, err = d.Update(callCtx, c.live, t, changed)
			}
		case Replace:
			if !c.createFirst {
				if err := d.Delete(callCtx, withDeleteNotes(c.live, c.res)); err != nil {
					return fmt.Errorf("delete before replace: %w", err)
				}
			}
			live, err = d.Create(callCtx, t)
		}
		return err
	})
	if err != nil {
		return err
	}
	if live != nil {
		a.mu.Lock()
		a.exports[c.ID] = live.Exports
		a.mu.Unlock()
	}
	return nil
}

// track reports start, progress and end of one change.
func (a *applier) track(c *Change, old bool, fn func() error) error {
	start := time.Now()
	ev := Event{ID: c.ID, Type: c.Type, Action: c.Action, Old: old}
	if c.live != nil {
		ev.Handle = c.live.Handle
	}
	started := ev
	started.Phase = Started
	a.emit(started)
	every := a.opts.ProgressEvery
	if every == 0 {
		every = 10 * time.Second
	}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p := ev
				p.Phase = Progress
				p.Elapsed = time.Since(start)
				a.emit(p)
			}
		}
	}()
	err := fn()
	close(stop)
	ev.Elapsed = time.Since(start)
	if err != nil {
		ev.Phase = Failed
		ev.Err = err
	} else {
		ev.Phase = Finished
	}
	a.emit(ev)
	return err
}

// deletion is one resource to delete in the second phase.
type deletion struct {
	key    string
	change *Change
	old    bool // the old half of a create-first replace
}

// runDeletes deletes orphans, destroyed resources and replaced ones, each
// after everything that depends on it.
func (a *applier) runDeletes(ctx context.Context, upserts map[string]error) {
	var dels []deletion
	for _, c := range a.p.Changes {
		switch {
		case c.Action == Delete:
			key := c.ID
			if c.res == nil {
				key = c.Type + "." + c.ID + "." + c.live.Handle
			}
			dels = append(dels, deletion{key: key, change: c})
		case c.Action == Replace && c.createFirst:
			if upserts[c.ID] != nil || a.dependentsFailed(c.ID, upserts) {
				continue // keep the old resource: its replacement is not in place
			}
			dels = append(dels, deletion{key: c.ID + " (old)", change: c, old: true})
		}
	}
	if len(dels) == 0 {
		return
	}
	byKey := map[string]deletion{}
	var nodes []string
	deps := map[string][]string{}
	for _, d := range dels {
		byKey[d.key] = d
		nodes = append(nodes, d.key)
	}
	// x must be deleted before y when x references y, or, where references
	// are unknown (orphans), when x's type ranks before y's.
	for _, x := range dels {
		for _, y := range dels {
			if x.key == y.key {
				continue
			}
			if refersTo(x.change, y.change) || ((x.change.res == nil || y.change.res == nil) && destroyRank(x.change.Type) < destroyRank(y.change.Type)) {
				deps[y.key] = append(deps[y.key], x.key)
			}
		}
	}
	results := walk(ctx, nodes, deps, a.e.parallelism(), func(ctx context.Context, key string) error {
		d := byKey[key]
		c := d.change
		return a.track(c, d.old, func() error {
			return a.e.Drivers[c.Type].Delete(context.WithoutCancel(ctx), withDeleteNotes(c.live, c.res))
		})
	})
	for key, err := range results {
		a.record(key, Delete, err)
		if errors.Is(err, ErrSkipped) || errors.Is(err, context.Canceled) {
			c := byKey[key].change
			a.emit(Event{ID: c.ID, Type: c.Type, Action: Delete, Phase: Skipped, Err: err, Old: byKey[key].old})
		}
	}
}

func refersTo(x, y *Change) bool {
	if x.res == nil || y.res == nil {
		return false
	}
	for _, d := range x.res.Deps {
		if d == y.ID {
			return true
		}
	}
	return false
}

// dependentsFailed reports whether any resource that references id failed
// or was skipped in the first phase.
func (a *applier) dependentsFailed(id string, upserts map[string]error) bool {
	for _, c := range a.p.Changes {
		if c.res == nil {
			continue
		}
		for _, d := range c.res.Deps {
			if d == id && upserts[c.ID] != nil {
				return true
			}
		}
	}
	return false
}

// withDeleteNotes passes envctl settings a driver needs to delete (the
// bucket's force_destroy) through the live notes.
func withDeleteNotes(l *resources.Live, r *config.Resource) *resources.Live {
	if r == nil || r.Attrs["force_destroy"] != true {
		return l
	}
	cp := *l
	cp.Notes = map[string]string{}
	for k, v := range l.Notes {
		cp.Notes[k] = v
	}
	cp.Notes["force_destroy"] = "true"
	return &cp
}
