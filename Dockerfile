# Chat service image. Stages:
#   deps       all dependencies (npm ci)             → base of `build` and `test`
#   build      TypeScript → dist/ (npm run build)
#   test       sources + dev dependencies + Java/Maven: `docker compose run --rm test` runs `npm test`
#   prod-deps  production dependencies only (npm ci --omit=dev)
#   runtime    (default, last) dist/ + production node_modules + package.json, non-root, tini as PID 1
# The same runtime image runs every role; pick them with ROLES=api|actors|projections (comma list).

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

FROM base AS deps
COPY package.json package-lock.json ./
RUN npm ci

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM deps AS test
# Some tests stop and restart a search engine of their own: deploy/opensearch-local builds one from
# Maven Central artifacts and runs it on Java 17. Built here once, before the sources are copied, so that test
# runs need no download and a change of the sources does not download it again. Other tests start a private
# nats-server or redis-server of their own (the machine's binaries, as on a development machine).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl openjdk-17-jdk-headless maven nats-server redis-server \
 && rm -rf /var/lib/apt/lists/*
RUN chown node:node /app
USER node
COPY --chown=node:node deploy/opensearch-local ./deploy/opensearch-local
RUN bash deploy/opensearch-local/opensearch-local.sh build
COPY --chown=node:node . .
CMD ["npm", "test"]

FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node (which shuts down gracefully and exits 0) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only for the `node` user the process runs as.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY console ./console
USER node
# 3000: the api role (PORT); 9464: the ops listener (OPS_PORT: /health/*, /metrics) of processes without it.
EXPOSE 3000 9464
# Readiness of whatever the process runs: on PORT when ROLES includes api (the default runs all three),
# otherwise on OPS_PORT (disable the check if you set OPS_PORT=0).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const e = process.env, api = (e.ROLES || 'api').split(',').map((r) => r.trim()).includes('api'); fetch('http://127.0.0.1:' + (api ? e.PORT || 3000 : e.OPS_PORT || 9464) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
