# syntax=docker/dockerfile:1
# The Isthmus image: `docker build -t isthmus:0.1.0 .` (docs/deploy.md#the-image).
# No registry hosts it: build it and push it to a registry your cluster pulls from.
#
# test/deploy/dockerfile.test.ts performs these steps without Docker (none runs on the project's
# machines): it runs every COPY and RUN in scratch folders, then starts the final stage. Keep RUN
# commands to relative paths inside WORKDIR so that test can run them for real.

# --- build: all dependencies, TypeScript → dist/ ------------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build is the next
# step. (The cache mount keeps npm's download cache out of the image.)
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src/ src/
RUN npx tsc -p tsconfig.json

# --- runtime: production dependencies, the compiled code, the launcher ---------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev: no TypeScript, test clients or type packages in the image. --ignore-scripts:
# `npm ci` would run `prepare` (the TypeScript build), and TypeScript is not installed here.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist/src/ dist/src/
COPY bin/ bin/
# The CRDs of isthmus.dev: objects of those kinds are validated against them at load time.
COPY deploy/crds/ deploy/crds/
# The embedded demo (`run --demo`) reads these folders (about 100 KB; .dockerignore leaves out
# examples/topology, which needs network namespaces), so `docker run IMAGE run --demo`
# works for a first look.
COPY examples/ examples/
# Files stay owned by root and read-only to the process; it runs as `node` (uid 1000), the user
# the Kubernetes manifests name in runAsUser.
USER node
EXPOSE 8080 8443 9902
# The environment and flags of bin/isthmus.js's shebang: two malloc arenas instead of glibc's eight
# for the gateway's threads (6-8 MiB less RSS, docs/memory.md); V8 reads --max-semi-space-size only
# at start, and it keeps the young generation (a fifth of the gateway's RSS under load) to 16 MB.
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["node", "--max-semi-space-size=8", "bin/isthmus.js"]
CMD ["run", "--kubernetes"]
