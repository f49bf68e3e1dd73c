#!/bin/bash
# Placeholder broker bring-up for the EC2 host (user data).
#
# The real bring-up (install the agentkeys token broker, obtain a TLS
# certificate for the host name over ACME HTTP-01, serve the OIDC discovery
# document and JWKS) lives with the broker. This script only marks the host
# so that a replaced user_data is visible in a plan. Editing it replaces the
# host: the Elastic IP moves to the new host before the old one terminates.
set -euo pipefail
echo "agentkeys broker host bootstrapped at $(date -u +%FT%TZ)" >/var/log/agentkeys-bootstrap.log
