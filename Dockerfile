# vigil's image: compiled and its native module built in throwaway stages; the final stage holds Node 20,
# the production dependencies, the compiled code and the example configs, run by an unprivileged user.
#   docker build -t vigil .                                   (with a registry)
#   scripts/build-image.sh                                    (podman, no registry: builds its own base)
#   docker run -p 127.0.0.1:9477:9477 -v ./vigil.yaml:/etc/vigil/vigil.yaml:ro -v vigil-data:/var/lib/vigil vigil
# vigil needs Node.js 20.19 or later in the 20 line (package.json "engines"); the base image provides it.
ARG NODE_IMAGE=node:20-bookworm-slim

# Production dependencies. better-sqlite3 compiles from source when no prebuilt binary can be fetched.
# Behind a TLS-inspecting proxy, two settings reach npm here and in the build stage only: the CA bundle,
# as the build secret `ca-bundle` (no layer keeps it), and NODE_HEADERS_DIR, the prefix holding
# include/node, so node-gyp uses those headers instead of downloading them.
FROM ${NODE_IMAGE} AS deps
ARG NODE_HEADERS_DIR=
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca-bundle \
    if [ -f /run/secrets/ca-bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-bundle; fi \
 && if [ -n "$NODE_HEADERS_DIR" ]; then export npm_config_nodedir="$NODE_HEADERS_DIR"; fi \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && rm -rf /root/.npm /root/.cache

# The compiled code: production sources only (tests and benchmarks are not part of the image). No
# install scripts run and no optional package (embedded PostgreSQL's binaries) is fetched: the compiler
# needs the dependencies' types only.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca-bundle \
    if [ -f /run/secrets/ca-bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-bundle; fi \
 && npm ci --ignore-scripts --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.image.json ./
COPY src ./src
RUN npx tsc -p tsconfig.image.json

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    VIGIL_CONFIG=/etc/vigil/vigil.yaml \
    VIGIL_HEALTHCHECK_URL=http://127.0.0.1:9477/healthz
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY bin ./bin
# The status page's templates are read at run time from src/server/views (tsc does not copy them).
COPY src/server/views ./src/server/views
COPY probes ./probes
RUN groupadd --system --gid 10001 vigil \
 && useradd --system --uid 10001 --gid vigil --home-dir /var/lib/vigil --shell /usr/sbin/nologin vigil \
 && mkdir -p /etc/vigil /var/lib/vigil \
 && chown vigil:vigil /var/lib/vigil && chmod 0750 /var/lib/vigil
# The config (server.listen: 0.0.0.0:9477, store.path: /var/lib/vigil/vigil.db) is mounted at
# /etc/vigil; the store lives on the volume.
VOLUME ["/var/lib/vigil"]
USER vigil
EXPOSE 9477
STOPSIGNAL SIGTERM
# No curl in the slim image: Node's own fetch asks /healthz (503 when the scheduler or store fails).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.VIGIL_HEALTHCHECK_URL).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/vigil.js"]
CMD ["run"]
