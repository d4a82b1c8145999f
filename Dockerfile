# syntax=docker/dockerfile:1
# One image for every role; the command picks it:
#   docker run tyndau centre | worker | capture --channel ID | monitor | channels add ...
# See docs/distributed.md. No Docker engine runs on the machines this project is built on, so this
# image is untested here: its steps are kept identical to what .ci/run installs and runs
# (scripts/setup-system.sh, npm ci, then the build), which CI proves on every run.

# --- build: compilers for better-sqlite3, the project's system packages, npm ci, tsc ---------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 make g++ ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY scripts/setup-system.sh scripts/setup-system.sh
RUN bash scripts/setup-system.sh
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- run: Node, ffmpeg, the compiled code and production modules, as a user without privileges ------
FROM node:20-bookworm-slim AS run
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system tyndau \
 && useradd --system --gid tyndau --home-dir /app --shell /usr/sbin/nologin tyndau \
 && mkdir -p /data \
 && chown tyndau:tyndau /data
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
ENV NODE_ENV=production \
    TYNDAU_DB=sqlite:/data/tyndau.db \
    TYNDAU_INDEX=/data/fingerprints \
    TYNDAU_SPOOL=/data/capture \
    TYNDAU_EVIDENCE=/data/evidence
USER tyndau
VOLUME ["/data"]
# centre (and embedded monitor) 9470, capture node 9471
EXPOSE 9470 9471
ENTRYPOINT ["node", "dist/src/cli/bin.js"]
CMD ["--help"]
