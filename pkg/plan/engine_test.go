package plan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/litentry/envctl/pkg/config"
	"github.com/litentry/envctl/pkg/resources"
)

// fakeDriver is an in-memory driver: a test double at the interface level,
// for engine unit tests only. Integration tests use real drivers on moto.
type fakeDriver struct {
	schema *resources.Schema
	mu     sync.Mutex
	items  map[string]*resources.Live // by handle
	next   int
	fail   map[string]error // create/update fails for these names
	calls  []string
}

var fakeSchema = &resources.Schema{
	Type: "fake",
	Attrs: []resources.Attr{
		{Name: "name", Kind: resources.String, Required: true, Identity: true, ForceNew: true},
		{Name: "size", Kind: resources.Int},
		{Name: "zone", Kind: resources.String, ForceNew: true},
		{Name: "peer", Kind: resources.String},
		{Name: "members", Kind: resources.StringList},
		{Name: "secret", Kind: resources.String, Sensitive: true},
		{Name: "tags", Kind: resources.Tags},
	},
	Exports: []string{"arn", "id"},
}

func newFake() *fakeDriver {
	return &fakeDriver{schema: fakeSchema, items: map[string]*resources.Live{}, fail: map[string]error{}}
}

func (f *fakeDriver) Schema() *resources.Schema { return f.schema }

func (f *fakeDriver) Find(_ context.Context, t resources.Target) (*resources.Live, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.items {
		if l.Attrs["name"] == t.Attrs["name"] {
			return clone(l), nil
		}
	}
	return nil, nil
}

func (f *fakeDriver) List(_ context.Context, env string) ([]*resources.Live, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*resources.Live
	for _, h := range resources.SortedKeys(f.items) {
		if f.items[h].Tags()[resources.TagEnv] == env {
			out = append(out, clone(f.items[h]))
		}
	}
	return out, nil
}

func (f *fakeDriver) Create(_ context.Context, t resources.Target) (*resources.Live, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := t.Attrs["name"].(string)
	f.calls = append(f.calls, "create "+name)
	if err := f.fail[name]; err != nil {
		return nil, err
	}
	f.next++
	h := fmt.Sprintf("h-%d", f.next)
	attrs := resources.Attrs{}
	for k, v := range t.Attrs {
		attrs[k] = v
	}
	l := &resources.Live{Handle: h, Attrs: attrs, Exports: map[string]string{"arn": "arn:fake:" + name, "id": h}}
	f.items[h] = l
	return clone(l), nil
}

func (f *fakeDriver) Update(_ context.Context, live *resources.Live, t resources.Target, changed []string) (*resources.Live, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := t.Attrs["name"].(string)
	f.calls = append(f.calls, fmt.Sprintf("update %s %v", name, changed))
	if err := f.fail[name]; err != nil {
		return nil, err
	}
	l := f.items[live.Handle]
	for _, c := range changed {
		if c == "tags" {
			tags := l.Tags()
			set, remove := resources.TagDelta(tags, resources.TagMap(t.Attrs["tags"]))
			for k, v := range set {
				tags[k] = v
			}
			for _, k := range remove {
				delete(tags, k)
			}
			l.Attrs["tags"] = tags
			continue
		}
		l.Attrs[c] = t.Attrs[c]
	}
	return clone(l), nil
}

func (f *fakeDriver) Delete(_ context.Context, live *resources.Live) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "delete "+fmt.Sprint(live.Attrs["name"]))
	delete(f.items, live.Handle)
	return nil
}

func clone(l *resources.Live) *resources.Live {
	attrs := resources.Attrs{}
	for k, v := range l.Attrs {
		attrs[k] = v
	}
	attrs["tags"] = l.Tags()
	return &resources.Live{Handle: l.Handle, Attrs: attrs, Exports: l.Exports, Notes: l.Notes}
}

// env builds a config.Env of fake resources. attrs values may hold
// "${id.attr}" strings, which become references.
func testEnv(t *testing.T, protect bool, res ...*config.Resource) *config.Env {
	t.Helper()
	env := &config.Env{Name: "test", File: "envs/test.yaml", AccountID: "123456789012", Region: "us-east-1", Protect: protect}
	for _, r := range res {
		r.Type = "fake"
		r.Schema = fakeSchema
		r.Protect = r.Protect || protect
		deps := map[string]bool{}
		for k, v := range r.Attrs {
			if s, ok := v.(string); ok && strings.HasPrefix(s, "${") {
				ref := strings.Split(strings.Trim(s, "${}"), ".")
				r.Attrs[k] = &config.Template{Parts: []config.Part{{Ref: &config.Ref{ID: ref[0], Attr: ref[1]}}}}
				deps[ref[0]] = true
			}
		}
		if _, ok := r.Attrs["tags"]; !ok {
			r.Attrs["tags"] = map[string]any{}
		}
		r.Deps = resources.SortedKeys(deps)
		env.Resources = append(env.Resources, r)
	}
	return env
}

func res(id string, attrs map[string]any) *config.Resource {
	return &config.Resource{ID: id, Attrs: attrs}
}

func engineWith(f *fakeDriver) *Engine {
	return &Engine{Drivers: map[string]resources.Driver{"fake": f}, Parallelism: 4}
}

func actions(p *Plan) map[string]Action {
	out := map[string]Action{}
	for _, c := range p.Changes {
		out[c.ID] = c.Action
	}
	return out
}

func mustPlan(t *testing.T, e *Engine, env *config.Env, destroy bool) *Plan {
	t.Helper()
	p, err := e.Plan(context.Background(), env, destroy)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return p
}

func mustApply(t *testing.T, e *Engine, p *Plan, opts ApplyOptions) {
	t.Helper()
	if _, err := e.Apply(context.Background(), p, opts); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func TestCreateThenNoChanges(t *testing.T) {
	f := newFake()
	e := engineWith(f)
	env := testEnv(t, false,
		res("a", map[string]any{"name": "alpha", "size": int64(1)}),
		res("b", map[string]any{"name": "beta", "peer": "${a.arn}"}),
	)
	p := mustPlan(t, e, env, false)
	if diff := cmp.Diff(map[string]Action{"a": Create, "b": Create}, actions(p)); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
	var peer Diff
	for _, d := range p.Changes[1].Diffs {
		if d.Path == "peer" {
			peer = d
		}
	}
	if _, ok := peer.After.(Unknown); !ok {
		t.Errorf("b.peer after = %v, want (known after apply)", peer.After)
	}
	mustApply(t, e, p, ApplyOptions{})
	if got := f.items["h-2"].Attrs["peer"]; got != "arn:fake:alpha" {
		t.Errorf("b.peer = %v, want the arn of a", got)
	}
	if f.calls[0] != "create alpha" {
		t.Errorf("a must be created before b, calls = %v", f.calls)
	}
	p2 := mustPlan(t, e, env, false)
	if p2.HasChanges() {
		var buf bytes.Buffer
		p2.WriteText(&buf, Style{})
		t.Fatalf("second plan has changes:\n%s", buf.String())
	}
}

func TestUpdateReplaceAndOrphan(t *testing.T) {
	f := newFake()
	e := engineWith(f)
	env := testEnv(t, false,
		res("a", map[string]any{"name": "alpha", "size": int64(1), "zone": "z1", "members": []any{"x", "y"}}),
		res("b", map[string]any{"name": "beta", "size": int64(1)}),
		res("c", map[string]any{"name": "gamma"}),
	)
	mustApply(t, e, mustPlan(t, e, env, false), ApplyOptions{})

	env = testEnv(t, false,
		res("a", map[string]any{"name": "alpha", "size": int64(1), "zone": "z2", "members": []any{"y", "x"}}),
		res("b", map[string]any{"name": "beta", "size": int64(2)}),
	)
	p := mustPlan(t, e, env, false)
	if diff := cmp.Diff(map[string]Action{"a": Replace, "b": Update, "c": Delete}, actions(p)); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
	for _, c := range p.Changes {
		if c.ID == "a" && (len(c.Diffs) != 1 || c.Diffs[0].Path != "zone" || !c.Diffs[0].ForcesReplace) {
			t.Errorf("a diffs = %+v; want only zone, forcing replacement (members order must not matter)", c.Diffs)
		}
		if c.ID == "c" && !strings.Contains(c.Reason, "not in envs/test.yaml") {
			t.Errorf("orphan reason = %q", c.Reason)
		}
	}
	mustApply(t, e, p, ApplyOptions{})
	if p := mustPlan(t, e, env, false); p.HasChanges() {
		t.Fatalf("plan after apply has changes: %+v", actions(p))
	}
}

func TestAdoptAndForeignOwner(t *testing.T) {
	f := newFake()
	e := engineWith(f)
	f.items["h-x"] = &resources.Live{Handle: "h-x", Attrs: resources.Attrs{"name": "alpha", "tags": map[string]string{"owner": "someone"}}, Exports: map[string]string{"arn": "arn:fake:alpha"}}
	env := testEnv(t, false, res("a", map[string]any{"name": "alpha"}))
	p := mustPlan(t, e, env, false)
	if p.Changes[0].Action != Adopt {
		t.Fatalf("action = %s, want adopt", p.Changes[0].Action)
	}
	if _, err := e.Apply(context.Background(), p, ApplyOptions{}); !errors.Is(err, ErrAdoptNotAllowed) {
		t.Fatalf("apply without --adopt: err = %v, want ErrAdoptNotAllowed", err)
	}
	if len(f.calls) != 0 {
		t.Fatalf("refused adopt still called the driver: %v", f.calls)
	}
	mustApply(t, e, p, ApplyOptions{Adopt: true})
	if got := f.items["h-x"].Tags(); got[resources.TagEnv] != "test" || got["owner"] != "someone" {
		t.Errorf("tags after adopt = %v; want envctl tags added and others kept", got)
	}

	f.items["h-x"].Attrs["tags"] = map[string]string{resources.TagEnv: "prod"}
	if _, err := e.Plan(context.Background(), env, false); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), `belongs to env "prod"`) {
		t.Fatalf("plan on a prod-owned resource: err = %v", err)
	}
}

func TestProtection(t *testing.T) {
	f := newFake()
	e := engineWith(f)
	env := testEnv(t, true, res("a", map[string]any{"name": "alpha", "zone": "z1"}))
	mustApply(t, e, mustPlan(t, e, env, false), ApplyOptions{})
	if got := f.items["h-1"].Tags()[resources.TagProtect]; got != "true" {
		t.Fatalf("protect tag = %q", got)
	}
	for name, tc := range map[string]struct {
		env     *config.Env
		destroy bool
	}{
		"destroy":           {env, true},
		"removed from file": {testEnv(t, false), false},
		"replaced":          {testEnv(t, true, res("a", map[string]any{"name": "alpha", "zone": "z2"})), false},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.Plan(context.Background(), tc.env, tc.destroy)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "protect") {
				t.Fatalf("err = %v, want a protection refusal", err)
			}
		})
	}
	// Unprotecting takes an apply first; then destroy works.
	unprotected := testEnv(t, false, res("a", map[string]any{"name": "alpha", "zone": "z1"}))
	mustApply(t, e, mustPlan(t, e, unprotected, false), ApplyOptions{})
	mustApply(t, e, mustPlan(t, e, unprotected, true), ApplyOptions{})
	if len(f.items) != 0 {
		t.Fatalf("destroy left %d items", len(f.items))
	}
}

func TestFailureSkipsDependentsOnly(t *testing.T) {
	f := newFake()
	e := engineWith(f)
	f.fail["alpha"] = errors.New("boom")
	env := testEnv(t, false,
		res("a", map[string]any{"name": "alpha"}),
		res("b", map[string]any{"name": "beta", "peer": "${a.arn}"}),
		res("c", map[string]any{"name": "gamma", "peer": "${b.arn}"}),
		res("d", map[string]any{"name": "delta"}),
	)
	res, err := e.Apply(context.Background(), mustPlan(t, e, env, false), ApplyOptions{})
	if !errors.Is(err, ErrApplyFailed) {
		t.Fatalf("err = %v, want ErrApplyFailed", err)
	}
	if res.Done[Create] != 1 || res.Failed["a"] == nil || res.Skipped["b"] == nil || res.Skipped["c"] == nil {
		t.Fatalf("result = %+v; want d created, a failed, b and c skipped", res)
	}
	if strings.Count(err.Error(), "boom") != 1 {
		t.Errorf("the failure must be reported once, got:\n%v", err)
	}
	delete(f.fail, "alpha")
	mustApply(t, e, mustPlan(t, e, env, false), ApplyOptions{})
	if p := mustPlan(t, e, env, false); p.HasChanges() {
		t.Fatal("re-run did not converge")
	}
}

func TestSensitiveValuesAreMasked(t *testing.T) {
	f := newFake()
	e := engineWith(f)
	env := testEnv(t, false, res("a", map[string]any{"name": "alpha", "secret": "hunter2"}))
	p := mustPlan(t, e, env, false)
	var text, js bytes.Buffer
	p.WriteText(&text, Style{})
	if err := p.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "json": js.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s output contains the secret:\n%s", name, out)
		}
		if !strings.Contains(out, "(sensitive, sha256:") {
			t.Errorf("%s output does not show the masked value:\n%s", name, out)
		}
	}
}

// TestWalkRunsEachNodeOnce: with fast nodes finishing while roots are still
// being started, no node may run twice (a second run could be a second
// create).
func TestWalkRunsEachNodeOnce(t *testing.T) {
	for round := 0; round < 50; round++ {
		nodes := []string{}
		deps := map[string][]string{}
		for i := 0; i < 40; i++ {
			id := fmt.Sprintf("n%02d", i)
			nodes = append(nodes, id)
			if i%2 == 1 {
				deps[id] = []string{fmt.Sprintf("n%02d", i-1)}
			}
		}
		var mu sync.Mutex
		runs := map[string]int{}
		results := walk(context.Background(), nodes, deps, 8, func(_ context.Context, id string) error {
			mu.Lock()
			runs[id]++
			mu.Unlock()
			return nil
		})
		for _, id := range nodes {
			if runs[id] != 1 || results[id] != nil {
				t.Fatalf("round %d: %s ran %d times, result %v", round, id, runs[id], results[id])
			}
		}
	}
}
