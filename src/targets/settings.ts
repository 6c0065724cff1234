/**
 * Whether every target the mapping lists has its settings. Checked once at start-up, after the
 * configuration and the mapping are read: a listed target without credentials stops the service
 * with one line naming what is missing, instead of failing every job later.
 */
import { type Config, ConfigError, type Role } from "../config/config.ts";
import type { Mapping } from "../config/mapping.ts";

/**
 * One line per listed target that lacks settings; empty when all are there. Only roles that run
 * workers call targets, so `api` and `cli` need none.
 *
 * @example targetSettingsProblems(config, mapping, "all")
 * // ["targets: contabo is listed in the mapping but CONTABO_CLIENT_SECRET is not set"]
 */
export function targetSettingsProblems(config: Config, mapping: Mapping, role: Role): string[] {
  if (role !== "worker" && role !== "all") return [];
  const problems: string[] = [];
  for (const target of mapping.targets) {
    // IONOS credentials are checked by loadConfig itself (IONOS_TOKEN or user and password).
    const missing = target === "contabo"
      ? config.contabo.missing
      : target === "cloudflare"
      ? config.cloudflare.missing
      : [];
    if (missing.length) {
      problems.push(
        `targets: ${target} is listed in the mapping but ${missing.join(", ")} ${
          missing.length === 1 ? "is" : "are"
        } not set`,
      );
    }
  }
  return problems;
}

/** @throws {ConfigError} with one line per target that lacks settings */
export function assertTargetSettings(config: Config, mapping: Mapping, role: Role): void {
  const problems = targetSettingsProblems(config, mapping, role);
  if (problems.length) throw new ConfigError(problems);
}
