# syntax=docker/dockerfile:1
# IONOS IdP sync: intake and workers in one image; pick the part with --role.

# npm dependencies are resolved with npm (the lockfile is npm's); Deno runs them.
FROM node:20.19.5-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM denoland/deno:debian-2.9.5
WORKDIR /app
ENV DENO_NO_UPDATE_CHECK=1 \
    PORT=8080
COPY --from=deps /app/node_modules ./node_modules
COPY deno.json package.json ./
COPY src ./src
COPY workers ./workers
# Type-check and cache at build time, so start-up does no work and needs no network.
RUN deno cache src/main.ts && chown -R deno:deno /app
USER deno
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch(`http://127.0.0.1:${Deno.env.get('PORT') ?? 8080}/healthz`); Deno.exit(r.ok ? 0 : 1)"]
# The same permissions as `deno task start`: no -A.
ENTRYPOINT ["deno", "run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys=hostname,osRelease,loadavg,networkInterfaces,systemMemoryInfo", "src/main.ts"]
CMD ["--role", "all"]
