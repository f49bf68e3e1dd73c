package plan

import (
	"github.com/litentry/envctl/pkg/config"
	"github.com/litentry/envctl/pkg/resources"
)

// Action is what a plan does to one resource.
type Action string

// Actions, in the order a plan lists them.
const (
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Delete  Action = "delete"
	Adopt   Action = "adopt"
	Noop    Action = "noop"
)

// Unknown stands for a value that is known only after apply.
type Unknown struct{}

// String renders the placeholder Terraform users know.
func (Unknown) String() string { return "(known after apply)" }

// MarshalJSON renders Unknown the same way in JSON.
func (Unknown) MarshalJSON() ([]byte, error) { return []byte(`"(known after apply)"`), nil }

// Diff is one attribute path whose value changes.
type Diff struct {
	Path   string `json:"path"`
	Before any    `json:"before"`
	After  any    `json:"after"`
	// ForcesReplace marks the attribute whose change replaces the resource.
	ForcesReplace bool `json:"forces_replace,omitempty"`
	// Sensitive values are rendered as a digest, never as themselves.
	Sensitive bool `json:"-"`
}

// Change is the planned action for one resource.
type Change struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Action Action `json:"action"`
	// Reason explains the action for people; it never drives apply.
	Reason string `json:"reason,omitempty"`
	Diffs  []Diff `json:"diffs"`
	// Handle is the live resource's id (ARN, name, instance id), if any.
	Handle string `json:"handle,omitempty"`
	// Notes carries facts worth showing (objects a bucket holds).
	Notes map[string]string `json:"notes,omitempty"`

	// live is what was observed (nil for create).
	live *resources.Live
	// res is the declared resource (nil for an orphan).
	res *config.Resource
	// createFirst: on replace, create the new resource before deleting the
	// old one (the old one is deleted after every dependent is updated).
	createFirst bool
}

// Live returns what the plan observed for the resource, or nil.
func (c *Change) Live() *resources.Live { return c.live }

// Summary counts changes by action.
type Summary struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Replace int `json:"replace"`
	Delete  int `json:"delete"`
	Adopt   int `json:"adopt"`
}

// Plan is the outcome of comparing an env with live AWS.
type Plan struct {
	Env          string    `json:"env"`
	AccountID    string    `json:"account_id"`
	Region       string    `json:"region"`
	Destroy      bool      `json:"destroy,omitempty"`
	Changes      []*Change `json:"changes"`
	Summary      Summary   `json:"summary"`
	env          *config.Env
	fingerprints map[string]string
}

// HasChanges reports whether applying the plan would change anything.
func (p *Plan) HasChanges() bool {
	for _, c := range p.Changes {
		if c.Action != Noop {
			return true
		}
	}
	return false
}

func (p *Plan) summarize() {
	p.Summary = Summary{}
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			p.Summary.Create++
		case Update:
			p.Summary.Update++
		case Replace:
			p.Summary.Replace++
		case Delete:
			p.Summary.Delete++
		case Adopt:
			p.Summary.Adopt++
		}
	}
}
