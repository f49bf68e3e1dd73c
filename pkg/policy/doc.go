// Package policy reads, checks and compares IAM policy documents (identity,
// resource and trust policies).
//
// IAM hands documents back in a different form from the one they were sent
// in: percent-encoded, with single values where a list was written, and with
// lists in any order. Comparing the raw JSON therefore reports drift that is
// not there (the perpetual policy diff Terraform users know). This package
// brings both sides to one canonical form first (Normalize), so that Equal
// says whether two documents mean the same thing and Diff shows only the
// statements and fields that really changed.
//
// Documents are plain Go values as encoding/json decodes them
// (map[string]any, []any, string, float64, bool, nil). Documents decoded from
// YAML may also hold int and int64, which are accepted wherever IAM reads a
// value as a string.
package policy
