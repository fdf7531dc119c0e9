# syntax=docker/dockerfile:1
# Build stage: install production dependencies only (TypeScript runs by Node's type stripping: no compile step).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# Runtime stage: small image on the current Node LTS, non-root user, data volume, healthcheck.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    CODEX_FLEET_DATA_DIR=/app/data \
    CODEX_FLEET_ACCOUNT_DIR=/app/account
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
RUN mkdir -p /app/data /app/account && chown -R node:node /app/data /app/account
USER node
VOLUME ["/app/data"]
EXPOSE 8081
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8081/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# In a container the server must listen on all interfaces: that needs CODEX_FLEET_ADMIN_KEY (see README).
CMD ["node", "src/cli/main.ts", "serve", "--host", "0.0.0.0", "--port", "8081"]
