# syntax=docker/dockerfile:1
# codex-fleet image: the built JavaScript (dist/, made by scripts/build.ts) on Node 24, production
# dependencies from the lock file. Build: docker build -t codex-fleet .  (see docs/scaling.md)

# Build stage: every dependency from the lock file, then the bundle into dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
# The image's own Node runs the build (the `node` devDependency is not set up with --ignore-scripts).
RUN node scripts/build.ts

# Production dependencies only, from the lock file (the dashboard serves preact and htm from node_modules).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# Runtime stage: the Node LTS line the test suite runs on, non-root user, data volume, healthcheck.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    CODEX_FLEET_DATA_DIR=/app/data \
    CODEX_FLEET_ACCOUNT_DIR=/app/account
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY docker/entrypoint.sh ./docker/entrypoint.sh
RUN mkdir -p /app/data /app/account && chown -R node:node /app/data /app/account
USER node
VOLUME ["/app/data"]
EXPOSE 8081
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8081/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The entrypoint refuses to start `serve` without CODEX_FLEET_ADMIN_KEY (the server listens on 0.0.0.0).
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["node", "dist/codex-fleet.js", "serve", "--host", "0.0.0.0", "--port", "8081"]
