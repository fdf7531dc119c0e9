#!/bin/sh
# Container entrypoint. In a container the server listens on 0.0.0.0, so it needs an admin key; outside
# Docker the server would generate one and print it once, but here that line would land in the container
# log and every replica would make its own. So the key must come from the environment, the same for all.
set -eu
if [ "${1:-}" = "node" ] && [ "${2:-}" = "dist/codex-fleet.js" ] && [ "${3:-}" = "serve" ] && [ -z "${CODEX_FLEET_ADMIN_KEY:-}" ]; then
  echo "codex-fleet: CODEX_FLEET_ADMIN_KEY is not set. The container listens on 0.0.0.0, so the dashboard and API need an admin key: start it with -e CODEX_FLEET_ADMIN_KEY=\$(openssl rand -hex 24) (or set it in .env for docker compose); use the same key on every instance." >&2
  exit 64
fi
exec "$@"
