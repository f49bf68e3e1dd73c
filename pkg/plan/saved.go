package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/litentry/envctl/pkg/config"
	"github.com/litentry/envctl/pkg/resources"
)

// ErrStale: the saved plan no longer describes what apply would do.
var ErrStale = errors.New("plan is stale")

// savedFormat is the version of the plan file layout.
const savedFormat = 1

// Saved is a plan written by plan --out and read by apply FILE and show FILE.
// It binds the planned actions to the env file (its digest) and to what was
// observed (a fingerprint per resource), so apply can refuse a plan that no
// longer matches.
type Saved struct {
	Format       int               `json:"format"`
	Env          string            `json:"env"`
	AccountID    string            `json:"account_id"`
	Region       string            `json:"region"`
	Destroy      bool              `json:"destroy,omitempty"`
	EnvDigest    string            `json:"env_digest"`
	Created      time.Time         `json:"created"`
	Fingerprints map[string]string `json:"fingerprints"`
	Plan         *Plan             `json:"plan"`
}

// Save writes the plan file. Sensitive values are masked in it as in every
// other output: the file is uploaded as a CI artefact.
func (p *Plan) Save(path string) error {
	s := Saved{
		Format: savedFormat, Env: p.Env, AccountID: p.AccountID, Region: p.Region, Destroy: p.Destroy,
		EnvDigest: p.env.Digest, Created: time.Now().UTC(), Fingerprints: p.fingerprints, Plan: p.Masked(),
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	return nil
}

// LoadSaved reads a plan file.
func LoadSaved(path string) (*Saved, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	var s Saved
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s is not an envctl plan file: %w", path, err)
	}
	if s.Format != savedFormat || s.Plan == nil || s.Env == "" {
		return nil, fmt.Errorf("%s is not an envctl plan file (format %d)", path, s.Format)
	}
	return &s, nil
}

// Check compares a saved plan with a fresh plan of the same env. It refuses
// when the env file changed, when anything observed changed (naming what),
// or when the saved actions differ from what envctl would do now (a plan
// edited by hand).
func (s *Saved) Check(env *config.Env, fresh *Plan) error {
	if s.AccountID != env.AccountID || s.Region != env.Region {
		return fmt.Errorf("%w: the plan is for account %s in %s, the env file now says %s in %s", ErrStale, s.AccountID, s.Region, env.AccountID, env.Region)
	}
	if s.EnvDigest != env.Digest {
		return fmt.Errorf("%w: %s changed since the plan was made; plan again", ErrStale, env.File)
	}
	var changed []string
	for _, k := range union(s.Fingerprints, fresh.fingerprints) {
		if s.Fingerprints[k] != fresh.fingerprints[k] {
			changed = append(changed, strings.TrimPrefix(k, "id:"))
		}
	}
	if len(changed) > 0 {
		return fmt.Errorf("%w: changed in AWS since the plan was made: %s; plan again", ErrStale, strings.Join(changed, ", "))
	}
	if s.Destroy != fresh.Destroy || asJSON(s.Plan.Changes) != asJSON(fresh.Masked().Changes) {
		return fmt.Errorf("%w: the plan file's actions are not what envctl would do now (was it edited?); plan again", ErrStale)
	}
	return nil
}

// fingerprint identifies what was observed of one resource.
func fingerprint(l *resources.Live) string {
	if l == nil {
		return "absent"
	}
	sum := sha256.Sum256([]byte(canonical(map[string]any{"handle": l.Handle, "attrs": map[string]any(l.Attrs), "exports": l.Exports})))
	return hex.EncodeToString(sum[:12])
}

// recordFingerprints fills p.fingerprints from everything the plan read.
func (p *Plan) recordFingerprints(env *config.Env, found map[string]observed, listed map[string][]*resources.Live) {
	p.fingerprints = map[string]string{}
	declared := map[string]bool{}
	for _, r := range env.Resources {
		l := found[r.ID].live
		p.fingerprints["id:"+r.ID] = fingerprint(l)
		if l != nil {
			declared[r.Type+"|"+l.Handle] = true
		}
	}
	// Resources tagged for the env but not declared (orphans) count too:
	// one appearing or changing makes the plan stale.
	for typ, lives := range listed {
		for _, l := range lives {
			if !declared[typ+"|"+l.Handle] {
				p.fingerprints[typ+" "+l.Handle] = fingerprint(l)
			}
		}
	}
}

// asJSON renders v as JSON after a round trip through generic values, so a
// plan read from a file and one made in memory compare equal.
func asJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		return ""
	}
	out, _ := json.Marshal(generic)
	return string(out)
}
