/**
 * Inline SVG bar charts for the overview: the IONOS rate-limit budget used per minute, and the
 * events taken in per minute. Drawn on the server from {@linkcode ActivityMinute}s, so the page
 * needs no script and no charting library.
 */
import type { FC } from "hono/jsx";
import type { ActivityMinute } from "./activity.ts";

const W = 900;
const H = 150;
const PAD = { left: 38, right: 8, top: 10, bottom: 20 };

/** Share of the budget used in one minute (0..1+); undefined when no limit was reported. */
export function budgetUsed(m: ActivityMinute): number | undefined {
  return m.limitPerMinute ? m.ionosCalls / m.limitPerMinute : undefined;
}

interface BarsProps {
  minutes: ActivityMinute[];
  /** Height of each bar as a share of the y axis (0..1), undefined for no bar. */
  value: (m: ActivityMinute) => number | undefined;
  /** Text under each bar's tooltip. */
  label: (m: ActivityMinute) => string;
  /** Labels of the y axis top and bottom. */
  top: string;
  title: string;
  /** A bar this high or more is red. @default none */
  alarmAt?: number;
  testId: string;
}

const Bars: FC<BarsProps> = (p) => {
  const n = Math.max(1, p.minutes.length);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / n;
  const y = (share: number) => PAD.top + plotH * (1 - Math.min(1, Math.max(0, share)));
  const first = p.minutes[0];
  const last = p.minutes[p.minutes.length - 1];
  const hhmm = (m: ActivityMinute | undefined) =>
    m ? new Date(m.at).toISOString().slice(11, 16) : "";
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={p.title}
      data-testid={p.testId}
    >
      <title>{p.title}</title>
      <line x1={PAD.left} x2={W - PAD.right} y1={y(1)} y2={y(1)} stroke="#dde2ea" />
      <line x1={PAD.left} x2={W - PAD.right} y1={y(0.5)} y2={y(0.5)} stroke="#edf0f4" />
      <line x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} stroke="#9aa4b2" />
      <text x={PAD.left - 4} y={y(1) + 4} text-anchor="end" font-size="12" fill="#5b6475">
        {p.top}
      </text>
      <text x={PAD.left - 4} y={y(0) + 4} text-anchor="end" font-size="12" fill="#5b6475">0</text>
      {p.minutes.map((m, i) => {
        const v = p.value(m);
        if (v === undefined || v <= 0) return null;
        const top = y(v);
        const alarm = p.alarmAt !== undefined && v >= p.alarmAt;
        return (
          <rect
            x={(PAD.left + i * slot + 0.5).toFixed(1)}
            y={top.toFixed(1)}
            width={Math.max(1, slot - 1).toFixed(1)}
            height={(y(0) - top).toFixed(1)}
            fill={alarm ? "#b3261e" : "#2f6fdf"}
          >
            <title>{`${hhmm(m)} UTC: ${p.label(m)}`}</title>
          </rect>
        );
      })}
      <text x={PAD.left} y={H - 5} font-size="12" fill="#5b6475">{hhmm(first)}</text>
      <text x={W - PAD.right} y={H - 5} font-size="12" fill="#5b6475" text-anchor="end">
        {`${hhmm(last)} UTC`}
      </text>
    </svg>
  );
};

/** Tops of the budget chart's y axis: the smallest that holds the busiest minute. */
const BUDGET_SCALES = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

/** The y axis top for budget shares: a quiet hour still shows its shape, labelled honestly. */
export function budgetScale(shares: number[]): number {
  const peak = Math.max(0, ...shares);
  return BUDGET_SCALES.find((s) => peak <= s) ?? 1;
}

const percent = (share: number) => `${+(share * 100).toPrecision(2)}%`;

/**
 * The IONOS rate-limit budget used per minute over the given minutes. The y axis goes to the
 * smallest of 0.1%..100% that holds the busiest minute; its top is labelled; a minute at 90% of
 * the limit or more is red.
 */
export const BudgetChart: FC<{ minutes: ActivityMinute[] }> = ({ minutes }) => {
  const scale = budgetScale(
    minutes.map(budgetUsed).filter((v): v is number => v !== undefined),
  );
  return (
    <Bars
      minutes={minutes}
      value={(m) => {
        const used = budgetUsed(m);
        return used === undefined ? undefined : used / scale;
      }}
      label={(m) =>
        m.limitPerMinute
          ? `${m.ionosCalls} of ${m.limitPerMinute} calls (${
            percent(m.ionosCalls / m.limitPerMinute)
          })`
          : `${m.ionosCalls} calls, no limit reported`}
      top={percent(scale)}
      title="IONOS rate-limit budget used per minute, last hour"
      alarmAt={0.9 / scale}
      testId="budget-chart"
    />
  );
};

/** Events accepted per minute, scaled to the busiest minute. */
export const IntakeChart: FC<{ minutes: ActivityMinute[] }> = ({ minutes }) => {
  const peak = Math.max(1, ...minutes.map((m) => m.events));
  return (
    <Bars
      minutes={minutes}
      value={(m) => m.events / peak}
      label={(m) => `${m.events} events`}
      top={String(peak)}
      title="Events taken in per minute, last hour"
      testId="intake-chart"
    />
  );
};
