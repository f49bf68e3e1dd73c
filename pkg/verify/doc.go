// Package verify checks a live environment from the outside: DNS, the
// host, the TLS certificate and OIDC discovery of the broker, and the IAM
// and S3 settings that isolate one env from another.
//
// Every check is a plain function of small inputs (what envctl read from
// AWS, what the network answered) that returns a Result; Run puts them in
// the documented order and applies --skip. Nothing here reads env files or
// calls AWS, so the checks are unit-tested with fixed inputs and
// the command in cmd/envctl only gathers those inputs.
package verify
