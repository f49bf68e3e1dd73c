// Package bench measures envctl against Terraform on a local moto_server
// behind the awsproxy latency proxy, the way a CI runner talks to an AWS
// region: wall time, AWS requests by API action, peak memory and the latency
// floor of apply from nothing, a plan with no changes and destroy, for the
// shipped example env and for generated envs of N bucket/role pairs. It also
// times envctl validate and runs the Go micro-benchmarks of pkg/config,
// pkg/policy and pkg/plan, and writes everything to docs/benchmarks.md.
//
// The command is bench/cmd/envctl-bench; make bench runs it. Nothing here is
// part of make test except the fast unit tests of the generators and the
// report.
package bench
