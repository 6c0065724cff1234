# syntax=docker/dockerfile:1
# IONOS IdP sync: intake and workers in one image; pick the part with --role.

# npm dependencies are resolved with npm (the lockfile is npm's); Deno runs them.
# Node 24 is the active LTS line (Node 20 reached end of life on 2026-04-30).
FROM node:24.22.3-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM denoland/deno:debian-2.9.5
WORKDIR /app
# PORT is set here on purpose: every role serves /healthz on it (role worker too, see
# src/config/config.ts), so the one HEALTHCHECK below is right whatever --role says.
ENV DENO_NO_UPDATE_CHECK=1 \
    PORT=8080
# The code stays owned by root and read-only to the user that runs it: COPY without --chown.
# Nothing under /app needs to be writable; Deno's own cache is DENO_DIR (/deno-dir), which the
# base image gives to `deno`, so no cache step runs here as root.
COPY --from=deps /app/node_modules ./node_modules
COPY deno.json package.json ./
COPY src ./src
COPY workers ./workers
USER deno
EXPOSE 8080
# No HTTP client in the image: a tiny Deno script asks /healthz on PORT (or METRICS_PORT).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "run", "--no-config", "--allow-net=127.0.0.1", "--allow-env=PORT,METRICS_PORT", "src/healthcheck.ts"]
# tini as PID 1 (the deno base image ships /tini): it forwards signals and reaps children, so
# a SIGTERM during start-up ends the process through its own handler, not a crash.
# The deno arguments are those of `deno task start`: no -A.
ENTRYPOINT ["/tini", "--", "deno", "run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys=hostname,osRelease,loadavg,networkInterfaces,systemMemoryInfo", "src/main.ts"]
CMD ["--role", "all"]
