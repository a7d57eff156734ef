# vigil's image: built with dev dependencies, run with production ones only, as an unprivileged user.
# docker build -t vigil . && docker run -v ./vigil.yaml:/etc/vigil/vigil.yaml:ro -v vigil-data:/var/lib/vigil vigil
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY bench ./bench
# `prepare` builds dist/ as part of npm ci.
RUN npm ci --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    VIGIL_CONFIG=/etc/vigil/vigil.yaml \
    VIGIL_HEALTHCHECK_URL=http://127.0.0.1:9477/healthz
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only. Scripts are skipped (`prepare` would run tsc, a dev dependency) and
# better-sqlite3's native build is run on its own; the compiler goes again in the same layer.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && apt-get purge -y python3 make g++ && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* /root/.npm /root/.cache
COPY --from=build /app/dist ./dist
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
