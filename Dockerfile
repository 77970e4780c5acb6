# One recipe for both services:
#   docker build --build-arg SERVICE=gateway -t lakehouse/gateway .
#   docker build --build-arg SERVICE=chatd   -t lakehouse/chatd .
# Debian (glibc) base on purpose: @duckdb/node-api loads a prebuilt linux glibc addon that
# Alpine's musl cannot load. Node 24 is the Active LTS line; the exact release is pinned, and
# test/src/image-start.e2e.test.ts runs this image's start command on that very release
# (fetched by `node deploy/image-node.mjs`). The code also runs on Node 20 (the tests' Node).
ARG NODE_IMAGE=node:24.19.0-bookworm-slim

# --- manifests: package.json files + lockfile only --------------------------------------------
# Its output changes only when a manifest does, so the `npm ci` layers below stay cached
# across source edits.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json ! -name .npmrc -delete \
 && find . -mindepth 1 -type d -empty -delete

# --- build: full install, compile every workspace, generate the sample roster -----------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /app/ ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -b \
 && mkdir -p /app/data \
 && node packages/roster/dist/src/cli.js --rows 2000 --out /app/data/roster.parquet
# Stage only compiled sources (no tests, no .ts, no declarations) for the runtime image.
RUN for d in packages/* services/*; do \
      mkdir -p "/out/$d/dist" && cp -R "$d/dist/src" "/out/$d/dist/src"; \
    done \
 && find /out \( -name '*.d.ts' -o -name '*.d.ts.map' -o -name '*.tsbuildinfo' \) -delete

# --- deps: what this one service runs, nothing else ---------------------------------------------
# Production dependencies of services/${SERVICE} and the @lakehouse/* packages it links, from the
# same lockfile: no dev tooling, no bench-only @langfuse/otel, no other service's dependencies
# (the gateway image carries no `openai`/`ollama`). The image test runs this same command.
FROM ${NODE_IMAGE} AS deps
ARG SERVICE=gateway
WORKDIR /app
COPY --from=manifests /app/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace=services/${SERVICE} --include-workspace-root=false \
 && npm cache clean --force

# --- runtime: compiled JS + production node_modules + the roster, run as a non-root user -------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE=gateway
ENV NODE_ENV=production \
    LAKEHOUSE_SERVICE=${SERVICE} \
    HOST=0.0.0.0 \
    ROSTER_PATH=/app/data/roster.parquet
WORKDIR /app
COPY --from=deps /app/ /app/
COPY --from=build /out/packages/ /app/packages/
COPY --from=build /out/services/${SERVICE}/ /app/services/${SERVICE}/
COPY --from=build /app/data/roster.parquet /app/data/roster.parquet
# The session log volume mounts here; an empty named volume takes this owner on first use.
RUN mkdir -p /var/lib/lakehouse && chown node:node /var/lib/lakehouse
USER node
WORKDIR /app/services/${SERVICE}
# gateway listens on 4110, chatd on 4120 (PORT overrides either).
EXPOSE 4110 4120
# No curl in slim images: probe /healthz with Node's own fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const p=process.env.PORT||(process.env.LAKEHOUSE_SERVICE==='chatd'?4120:4110);fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exactly the service's package.json "start" script (test/src/compose-config.test.ts checks).
CMD ["node", "--import", "./dist/src/instrument.js", "dist/src/server.js"]
