package resources_test

import (
	"testing"

	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/resources"
)

// conformanceCase drives one resource type through the lifecycle every
// driver must support: absent → create → found → listed by env tag →
// update → delete → gone → delete again is a no-op.
type conformanceCase struct {
	Type string
	// Setup, when set, creates what the resource needs first (a zone, a
	// VPC) and may adjust the target attributes.
	Setup func(t *testing.T, target *resources.Target)
	// Create holds the desired attributes; tags get the ownership tags added.
	Create resources.Attrs
	// CheckCreated asserts the observed attributes after create.
	CheckCreated func(t *testing.T, live *resources.Live)
	// Update changes some attributes; Changed names them.
	Update  resources.Attrs
	Changed []string
	// CheckUpdated asserts the observed attributes after update.
	CheckUpdated func(t *testing.T, live *resources.Live)
}

func runConformance(t *testing.T, c conformanceCase) {
	t.Helper()
	ds, _ := drivers(t)
	d := ds[c.Type]
	ctx := moto.Context(t)
	const env, id = "conf", "res"

	target := resources.Target{Env: env, ID: id, Attrs: resources.Attrs{}}
	for k, v := range c.Create {
		target.Attrs[k] = v
	}
	tags := resources.TagMap(target.Attrs["tags"])
	tags[resources.TagEnv] = env
	tags[resources.TagID] = id
	target.Attrs["tags"] = tags
	if c.Setup != nil {
		c.Setup(t, &target)
	}

	if live, err := d.Find(ctx, target); err != nil || live != nil {
		t.Fatalf("Find before create = %v, %v; want nil, nil", live, err)
	}
	created, err := d.Create(ctx, target)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if created == nil || created.Handle == "" {
		t.Fatalf("Create returned no handle: %+v", created)
	}
	for _, e := range d.Schema().Exports {
		if created.Exports[e] == "" {
			t.Errorf("Create: export %q is empty", e)
		}
	}
	found, err := d.Find(ctx, target)
	if err != nil || found == nil {
		t.Fatalf("Find after create = %v, %v", found, err)
	}
	if found.Handle != created.Handle {
		t.Errorf("Find handle = %q, Create handle = %q", found.Handle, created.Handle)
	}
	for k, v := range tags {
		if got := found.Tags()[k]; got != v {
			t.Errorf("tag %s = %q, want %q", k, got, v)
		}
	}
	if c.CheckCreated != nil {
		c.CheckCreated(t, found)
	}
	listed, err := d.List(ctx, env)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(listed) != 1 || listed[0].Handle != created.Handle {
		t.Errorf("List(%q) = %d resources, want exactly the created one", env, len(listed))
	}
	if other, err := d.List(ctx, "other-env"); err != nil || len(other) != 0 {
		t.Errorf("List(other-env) = %d, %v; want none", len(other), err)
	}

	if c.Update != nil {
		for k, v := range c.Update {
			target.Attrs[k] = v
		}
		if _, err := d.Update(ctx, found, target, c.Changed); err != nil {
			t.Fatalf("Update: %v", err)
		}
		updated, err := d.Find(ctx, target)
		if err != nil || updated == nil {
			t.Fatalf("Find after update = %v, %v", updated, err)
		}
		if c.CheckUpdated != nil {
			c.CheckUpdated(t, updated)
		}
		found = updated
	}

	if err := d.Delete(ctx, found); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if live, err := d.Find(ctx, target); err != nil || live != nil {
		t.Fatalf("Find after delete = %+v, %v; want nil, nil", live, err)
	}
	if err := d.Delete(ctx, found); err != nil {
		t.Fatalf("second Delete must be a no-op, got %v", err)
	}
}
