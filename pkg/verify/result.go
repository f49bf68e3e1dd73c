package verify

import "fmt"

// Status is the verdict of one check.
type Status string

// Verdicts, from best to worst; Skipped means the check did not run.
const (
	OK      Status = "ok"
	Warn    Status = "warn"
	Fail    Status = "fail"
	Skipped Status = "skipped"
)

// Result is the outcome of one check.
type Result struct {
	// Name is the check's name, such as "tls.expiry".
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Value is what was measured, written so that it reads on its own:
	// "test-broker.example.org A 203.0.113.7 = EIP".
	Value string `json:"value"`
	// Detail says why a check warned, failed or was skipped, or what to do.
	Detail string `json:"detail,omitempty"`
}

func ok(name, format string, args ...any) Result {
	return Result{Name: name, Status: OK, Value: fmt.Sprintf(format, args...)}
}

func fail(name, value, detail string) Result {
	return Result{Name: name, Status: Fail, Value: value, Detail: detail}
}

func skipped(name, why string) Result {
	return Result{Name: name, Status: Skipped, Value: why}
}

// Summary counts results by status.
type Summary struct {
	OK      int `json:"ok"`
	Warn    int `json:"warn"`
	Fail    int `json:"fail"`
	Skipped int `json:"skipped"`
}

// Summarize counts results by status.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch r.Status {
		case OK:
			s.OK++
		case Warn:
			s.Warn++
		case Fail:
			s.Fail++
		case Skipped:
			s.Skipped++
		}
	}
	return s
}
