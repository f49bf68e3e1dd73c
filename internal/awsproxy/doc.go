// Package awsproxy is an HTTP reverse proxy that sits between envctl (the AWS
// SDK) and moto_server. It exists because moto always answers instantly and
// never fails, so on its own it cannot show how envctl behaves against the
// real AWS: with network latency, with throttling, with server errors, and
// with connections that die before or after AWS has acted on a request.
//
// The proxy adds a fixed latency to every request, counts requests by API
// action ("iam:CreateRole", "s3:PutBucketPolicy"), and, at a seeded rate,
// answers a request with a fault instead of moto's response. Throttling and
// internal errors are written in each protocol's exact AWS error shape, so
// the SDK's retryer classifies them as it would classify the real thing.
// Connection drops come in two kinds: before the request reaches moto (safe
// to retry) and after moto has performed it (the retry repeats a mutation
// that already happened — the case idempotent drivers must survive).
//
// Fault-injection tests start a Proxy in-process with Start; the benchmark
// and humans run the same proxy as a command, internal/awsproxy/cmd/awsproxy.
// See docs/awsproxy.md.
package awsproxy
