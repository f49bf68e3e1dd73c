#!/usr/bin/env bash
# make demo: the main job on a local default. Starts moto_server (a local AWS
# emulator) on a free loopback port, then runs
#   validate → plan → apply → plan (no changes) → show → verify → destroy
# on the example env testdata/example/test.yaml, and stops the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."

envctl=${ENVCTL:-bin/envctl}
dir=testdata/example
env=test

command -v moto_server >/dev/null || { echo "moto_server not found: pip install 'moto[server]'" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp -t envctl-demo-moto.XXXXXX)
moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true; wait $moto_pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/moto-api/data.json" >/dev/null 2>&1 && break
  kill -0 $moto_pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done

# Fake credentials: moto accepts any, and nothing here may reach real AWS.
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
unset AWS_PROFILE AWS_SESSION_TOKEN

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "The hosted zone example.org exists before envctl runs (zones are not managed by envctl)"
aws route53 create-hosted-zone --name example.org --caller-reference "demo-$port" \
  --query 'HostedZone.Id' --output text

step "envctl validate --dir $dir"
$envctl validate --dir $dir

step "envctl plan --env $env"
$envctl --dir $dir plan --env $env

step "envctl apply --env $env --auto-approve"
$envctl --dir $dir apply --env $env --auto-approve

step "envctl plan --env $env --detailed-exitcode   (expect: no changes, exit 0)"
$envctl --dir $dir plan --env $env --detailed-exitcode

step "envctl show --env $env"
$envctl --dir $dir show --env $env

step "envctl verify --env $env   (skipping the checks that need the live broker: public DNS, TLS, OIDC discovery)"
# The example names are not public and no broker serves TLS here, so the
# resolver, certificate and discovery checks are skipped; the rest read
# the emulator (record = EIP, host running, EIP attached, provider
# audience, trust policy, bucket settings).
$envctl --dir $dir verify --env $env --skip dns.resolve,tls,oidc.discovery,oidc.issuer,oidc.jwks,oidc.thumbprint

step "envctl destroy --env $env --auto-approve"
$envctl --dir $dir destroy --env $env --auto-approve

step "envctl plan --env $env   (after destroy: everything to add again)"
$envctl --dir $dir plan --env $env | tail -n 1

echo
echo "Demo complete: moto_server on port $port is being stopped."
