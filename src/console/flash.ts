/**
 * One-line notes shown after a form post (post/redirect/get). The redirect carries a code and
 * a job id, never text: a crafted link can only show one of these fixed messages.
 */
const MESSAGES = {
  retried: (job: string) => `Retry queued as job ${job}.`,
  "retried-all": (n: string) => `Retry queued for ${n} entities.`,
  discarded: (job: string) => `Job ${job} discarded; the reason is in the audit log.`,
  paused: () => "Sync processing paused. The intake keeps accepting events.",
  resumed: () => "Sync processing resumed.",
  "drift-check": (job: string) => `Drift check started (run ${job}); reload to see its plan.`,
  "drift-apply": (job: string) =>
    `Fix started (run ${job}): the workers sync every entity in the plan.`,
  "signed-out": () => "Signed out.",
} as const;

export type FlashCode = keyof typeof MESSAGES;

/** The URL to redirect to after an action. */
export function withFlash(path: string, code: FlashCode, arg = ""): string {
  const sep = path.includes("?") ? "&" : "?";
  return `${path}${sep}flash=${code}${arg ? `&arg=${encodeURIComponent(arg)}` : ""}`;
}

/** The message for a page's `flash`/`arg` query, if it names one. */
export function flashFrom(
  query: (name: string) => string | undefined,
): { text: string } | undefined {
  const code = query("flash");
  if (!code || !Object.hasOwn(MESSAGES, code)) return undefined;
  const arg = (query("arg") ?? "").replace(/[^\w:.@-]/g, "").slice(0, 80);
  return { text: MESSAGES[code as FlashCode](arg) };
}
