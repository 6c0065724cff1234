/**
 * A thin wrapper over the podman CLI for the image test: find the engine and the base images,
 * build, run, inspect. Uses the private configuration that
 * `../shared/tools/container-base-images.sh` writes (runc, docker image format), when present.
 * No vitest import, so a script could use it too.
 */
import { existsSync, readFileSync } from "node:fs";

/** Written by the base-image tool: `export CONTAINERS_CONF=... BUILDAH_FORMAT=docker`. */
const TOOL_ENV = "/var/lib/container-base-images/env";

/** What a podman command printed and how it ended. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment podman runs with: ours plus the tool's exports. */
export function podmanEnv(): Record<string, string> {
  const env: Record<string, string> = { ...Deno.env.toObject() };
  if (!existsSync(TOOL_ENV)) return env;
  for (const m of readFileSync(TOOL_ENV, "utf8").matchAll(/(\w+)=([^\s]+)/g)) env[m[1]!] = m[2]!;
  return env;
}

/** Runs `podman ...args`; never throws for a non-zero exit. */
export async function podman(args: string[], timeoutMs = 120_000): Promise<Result> {
  const out = await new Deno.Command("podman", {
    args,
    env: podmanEnv(),
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** Like {@linkcode podman}, but throws with stderr when the exit is not 0. */
export async function podmanOk(args: string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) {
    throw new Error(`podman ${args.join(" ")} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  }
  return r.stdout;
}

/** The base images a Dockerfile names (stage names skipped). */
export function baseImages(dockerfile: string): string[] {
  const stages = new Set<string>();
  const images: string[] = [];
  for (const m of dockerfile.matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const image = m[1]!;
    if (!stages.has(image) && image !== "scratch") images.push(image);
    if (m[2]) stages.add(m[2]);
  }
  return images;
}

/**
 * Why the image test cannot run here, or undefined when it can: no podman, or a base image the
 * engine does not have (our machines cannot pull; the base-image tool builds stand-ins).
 */
export async function whyNoEngine(dockerfile: string): Promise<string | undefined> {
  let version: Result;
  try {
    version = await podman(["version", "--format", "{{.Client.Version}}"], 30_000);
  } catch (e) {
    return `no container engine: podman not found (${(e as Error).message}); run ` +
      "../shared/tools/container-base-images.sh as root to install it";
  }
  if (version.code !== 0) return `podman does not work here: ${version.stderr.trim()}`;
  const missing: string[] = [];
  for (const image of baseImages(dockerfile)) {
    if ((await podman(["image", "exists", image], 30_000)).code !== 0) missing.push(image);
  }
  if (missing.length) {
    return `base images missing (${missing.join(", ")}); run ` +
      "../shared/tools/container-base-images.sh as root to build stand-ins";
  }
  return undefined;
}
