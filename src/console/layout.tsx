/**
 * The page shell every console page shares: navigation, a flash line, and one small inline
 * style sheet. No script, no web font, no CDN: the pages work offline behind a strict CSP
 * and read on a phone (viewport meta, one column below 700px, tables scroll sideways).
 */
import { raw } from "hono/html";
import type { Child, FC } from "hono/jsx";
import { DASHBOARD_PATH } from "../intake/routes/admin_dashboard.ts";

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue","Liberation Sans","DejaVu Sans",Arial,sans-serif;color:#1d2330;background:#f4f6f9}
header{background:#14213d;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
header strong{margin-right:.5rem}
header a{color:#cfe0ff;text-decoration:none;padding:.15rem .3rem;border-radius:4px}
header a[aria-current=page]{background:#fff;color:#14213d}
header form{margin-left:auto}
main{padding:1rem;max-width:1100px;margin:0 auto}
h1{font-size:1.35rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
.card h2{margin-top:.2rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.6rem}
.card{background:#fff;border:1px solid #dde2ea;border-radius:8px;padding:.6rem .8rem}
.card .n{font-size:1.6rem;font-weight:600}
.card .l{color:#5b6475;font-size:.85rem}
.bad{color:#b3261e}.ok{color:#1b7a3a}.warn{color:#9a6700}.muted{color:#5b6475}
.card.bad{border-color:#e8a09a;background:#fff4f3}
.scroll{overflow-x:auto;background:#fff;border:1px solid #dde2ea;border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #edf0f4;vertical-align:top}
th{background:#f0f3f7;font-weight:600;white-space:nowrap}
code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
.badge{display:inline-block;padding:0 .45rem;border-radius:9px;font-size:.8rem;background:#e6eaf0}
.badge.failed,.badge.conflict,.badge.failing{background:#fbd9d5;color:#8c1d18}
.badge.synced,.badge.completed,.badge.ok{background:#d3f0dc;color:#13612c}
.badge.waiting,.badge.delayed,.badge.active,.badge.creating,.badge.idle{background:#fcefc7;color:#6b4c00}
form.inline{display:inline-flex;gap:.3rem;flex-wrap:wrap;margin:0}
input[type=text],input[type=search],input[type=password]{padding:.45rem .55rem;border:1px solid #b9c1cd;border-radius:6px;font:inherit;min-width:0}
button{padding:.4rem .8rem;border-radius:6px;border:1px solid #14213d;background:#14213d;color:#fff;font:inherit;cursor:pointer}
button.secondary{background:#fff;color:#14213d}
button.danger{background:#b3261e;border-color:#b3261e}
.flash{padding:.5rem .8rem;border-radius:6px;background:#e3f1ff;border:1px solid #9cc7f3;margin-bottom:1rem}
.flash.error{background:#fff4f3;border-color:#e8a09a}
.timeline{list-style:none;padding:0;margin:0;border-left:3px solid #c9d3e0}
.timeline li{position:relative;padding:.35rem 0 .6rem 1rem}
.timeline li::before{content:"";position:absolute;left:-8px;top:.65rem;width:13px;height:13px;border-radius:50%;background:#7d8ca3;border:2px solid #f4f6f9}
.timeline li.event::before{background:#2f6fdf}.timeline li.job::before{background:#1b7a3a}
.timeline li.fail::before{background:#b3261e}.timeline li.audit::before{background:#9a6700}
.timeline time{color:#5b6475;font-size:.8rem;display:block}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:.8rem}
/* rtl: a phone, scrolling the chart sideways, starts at the newest minutes (right). */
.chartbox{overflow-x:auto;direction:rtl}
.chartbox svg{direction:ltr}
svg.chart{width:100%;min-width:560px;height:auto;background:#fff;border:1px solid #dde2ea;border-radius:8px}
@media (max-width:700px){.grid2{grid-template-columns:1fr}header form{margin-left:0}main{padding:.6rem}}
`;

/** Navigation targets, in order. */
export const NAV = [
  { id: "overview", href: "/admin", label: "Overview" },
  { id: "accounts", href: "/admin/accounts", label: "Accounts" },
  { id: "drift", href: "/admin/drift", label: "Drift" },
  { id: "failures", href: "/admin/failures", label: "Failures" },
] as const;
export type NavId = typeof NAV[number]["id"];

export interface LayoutProps {
  title: string;
  nav?: NavId;
  /** Present when signed in: the sign-out form needs its CSRF token. */
  csrfToken?: string | undefined;
  readOnly?: boolean;
  flash?: { text: string; error?: boolean } | undefined;
  children?: Child;
}

/** The whole page around a page's content. */
export const Layout: FC<LayoutProps> = (props) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex" />
      {/* No favicon request (a 404 in every browser console). */}
      <link rel="icon" href="data:," />
      <title>{`${props.title} · IONOS sync console`}</title>
      {/* Raw: JSX would escape the quotes in font names, and CSS does not unescape them. */}
      <style>{raw(STYLE)}</style>
    </head>
    <body>
      <header>
        <strong>IONOS sync</strong>
        {props.csrfToken !== undefined && (
          <>
            {NAV.map((n) => (
              <a href={n.href} aria-current={props.nav === n.id ? "page" : undefined}>
                {n.label}
              </a>
            ))}
            <a href={DASHBOARD_PATH}>Queues (bull-board)</a>
            {props.readOnly && <span class="badge">read-only</span>}
            <form method="post" action="/admin/sign-out" class="inline">
              <input type="hidden" name="csrf" value={props.csrfToken} />
              <button type="submit" class="secondary">Sign out</button>
            </form>
          </>
        )}
      </header>
      <main>
        <h1>{props.title}</h1>
        {props.flash && (
          <p class={props.flash.error ? "flash error" : "flash"} role="status">
            {props.flash.text}
          </p>
        )}
        {props.children}
      </main>
    </body>
  </html>
);

/** The hidden CSRF field every mutating form carries. */
export const Csrf: FC<{ token: string }> = ({ token }) => (
  <input type="hidden" name="csrf" value={token} />
);

/** A state word as a coloured badge. */
export const Badge: FC<{ value: string | undefined }> = ({ value }) => (
  <span class={`badge ${value ?? ""}`}>{value ?? "—"}</span>
);

/** An ISO time, shown short; the full value on hover. */
export const When: FC<{ at: string | number | undefined }> = ({ at }) => {
  if (at === undefined) return <span class="muted">—</span>;
  const iso = typeof at === "number" ? new Date(at).toISOString() : at;
  return <time datetime={iso} title={iso}>{iso.replace("T", " ").slice(0, 19)}</time>;
};
