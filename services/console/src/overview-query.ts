import { BIGINT, VARCHAR } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { FINAL_VERDICTS, SESSION_ALARM_SQL } from '@lakehouse/session-log';
import type { FinalVerdict } from '@lakehouse/session-log';
import { visible } from './html.js';
import { LIST_COLUMNS, rows } from './session-list.js';
import type { SessionListRow } from './session-list.js';

export interface VerdictCounts {
  readonly accepted: number;
  readonly max_iter_exhausted: number;
  readonly infra_error: number;
  readonly other: number;
}

/** One model's (or `(other)`'s) numbers on the overview. */
export interface ModelOverview {
  /** The chart label: the model name made visible, clipped and unique. */
  readonly model: string;
  readonly verdicts: VerdictCounts;
  /** Fill sessions, and those with a phantom ("not in roster") rejection. */
  readonly fills: number;
  readonly phantom: number;
  /** Per bucket, the share of fill sessions with a phantom rejection (null: no fills). */
  readonly phantomRateOverTime: Array<number | null>;
}

/**
 * The overview's numbers. Everything per model or per verdict is an array of records, never an
 * object keyed by a name from the log (a model called `__proto__` would vanish from it).
 */
export interface Overview {
  readonly totals: VerdictCounts & {
    readonly sessions: number;
    readonly alarm: number;
    readonly phantom_sessions: number;
    readonly first: string | null;
    readonly last: string | null;
  };
  /** The newest alarm rows (must be none). */
  readonly alarmRows: SessionListRow[];
  /** Bucket width in seconds and the buckets' start times (ISO). */
  readonly bucketSeconds: number;
  readonly buckets: string[];
  /** Sessions per verdict per bucket (aligned with `buckets`). */
  readonly verdictsOverTime: Array<{ readonly verdict: FinalVerdict; readonly sessions: number[] }>;
  /** Top models by sessions, then `(other)` when there are more. */
  readonly models: ModelOverview[];
  /** Sessions by attempts spent. */
  readonly attemptsPerSession: Array<{ attempts: number | null; sessions: number }>;
}

export const TOP_MODELS = 8;
export const OTHER_MODEL = '(other)';
const MAX_BUCKETS = 60;
const BUCKET_WIDTHS = [1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400];

/** The smallest listed width giving at most 60 buckets over `spanSeconds` (wider if needed). */
export function bucketWidth(spanSeconds: number): number {
  const fit = BUCKET_WIDTHS.find((w) => spanSeconds / w < MAX_BUCKETS);
  return fit ?? Math.ceil(spanSeconds / (MAX_BUCKETS - 1));
}

const VERDICT_COUNTS_SQL = [
  ...FINAL_VERDICTS.map((v) => `count(*) FILTER (final_verdict = '${v}') AS ${v}`),
  `count(*) FILTER (final_verdict IS NULL OR final_verdict NOT IN (${FINAL_VERDICTS.map((v) => `'${v}'`).join(', ')})) AS other`,
].join(', ');

/** The overview's numbers: alarm, verdict mix and phantom rate by model over time, attempts. */
export async function overview(connection: DuckDBConnection): Promise<Overview> {
  const [totals] = await rows<Overview['totals']>(
    connection,
    `SELECT count(*) AS sessions, ${VERDICT_COUNTS_SQL},
       count(*) FILTER (${SESSION_ALARM_SQL}) AS alarm,
       count(*) FILTER (phantoms > 0) AS phantom_sessions,
       min(ts) AS first, max(ts) AS last
     FROM sessions`,
  );
  const alarmRows = await rows<SessionListRow>(
    connection,
    `SELECT ${LIST_COLUMNS} FROM sessions WHERE ${SESSION_ALARM_SQL} ORDER BY seq DESC LIMIT 20`,
  );
  const top = await rows<{ model: string | null; label: string }>(
    connection,
    `SELECT model, CASE WHEN length(model) > 60 THEN left(model, 59) || '…' ELSE coalesce(model, '(none)') END AS label
     FROM (SELECT model, count(*) AS n FROM sessions GROUP BY model)
     ORDER BY n DESC, model LIMIT ${TOP_MODELS + 1}`,
  );
  const moreModels = top.length > TOP_MODELS;
  const topFull = top.slice(0, TOP_MODELS);
  // Clipped labels could collide; the charts need them unique.
  const labels: string[] = [];
  for (const { label: raw } of topFull) {
    // Chart labels are canvas text, not markup, but must not hide or reorder characters either.
    const label = visible(raw);
    let unique = label;
    for (let k = 2; labels.includes(unique) || unique === OTHER_MODEL; k++)
      unique = `${label} #${k}`;
    labels.push(unique);
  }
  if (moreModels) labels.push(OTHER_MODEL);
  const modelList = `[${topFull.map((_, i) => `$m${i}`).join(', ')}]`;
  const modelValues = Object.fromEntries(topFull.map((m, i) => [`m${i}`, m.model ?? '']));
  const modelTypes = Object.fromEntries(topFull.map((_, i) => [`m${i}`, VARCHAR]));
  // The label of a row's model: its index among the top models, else the last label.
  const modelIndex = `coalesce(list_position(${modelList}::VARCHAR[], coalesce(model, '')), ${topFull.length + 1}) - 1`;

  const first = totals?.first ? Date.parse(totals.first) : NaN;
  const last = totals?.last ? Date.parse(totals.last) : NaN;
  const span = Number.isFinite(first) && Number.isFinite(last) ? (last - first) / 1000 : 0;
  const bucketSeconds = bucketWidth(span);
  const bucketed = await rows<{
    b: string;
    mi: number;
    verdict: string | null;
    n: number;
    fills: number;
    phantom: number;
  }>(
    connection,
    `SELECT time_bucket(to_seconds($w), ts) AS b, ${modelIndex} AS mi, final_verdict AS verdict,
       count(*) AS n, count(*) FILTER (kind = 'fill') AS fills,
       count(*) FILTER (kind = 'fill' AND phantoms > 0) AS phantom
     FROM sessions WHERE ts IS NOT NULL GROUP BY ALL ORDER BY b`,
    { w: bucketSeconds, ...modelValues },
    { w: BIGINT, ...modelTypes },
  );
  const buckets = [...new Set(bucketed.map((r) => r.b))].sort();
  const bucketIndex = new Map(buckets.map((b, i) => [b, i]));
  const verdictsOverTime = FINAL_VERDICTS.map((verdict) => ({
    verdict,
    sessions: buckets.map(() => 0),
  }));
  const perModel = labels.map((model) => ({
    model,
    verdicts: { accepted: 0, max_iter_exhausted: 0, infra_error: 0, other: 0 },
    fills: 0,
    phantom: 0,
    fillsPerBucket: buckets.map(() => 0),
    phantomPerBucket: buckets.map(() => 0),
  }));
  for (const r of bucketed) {
    const b = bucketIndex.get(r.b) ?? 0;
    const m = perModel[Math.min(r.mi, perModel.length - 1)];
    if (m === undefined) continue;
    const v = FINAL_VERDICTS.indexOf(r.verdict as FinalVerdict);
    const series = verdictsOverTime[v]?.sessions;
    if (series !== undefined) series[b] = (series[b] ?? 0) + r.n;
    const verdict = v >= 0 ? (FINAL_VERDICTS[v] as FinalVerdict) : 'other';
    m.verdicts[verdict] += r.n;
    m.fills += r.fills;
    m.phantom += r.phantom;
    m.fillsPerBucket[b] = (m.fillsPerBucket[b] ?? 0) + r.fills;
    m.phantomPerBucket[b] = (m.phantomPerBucket[b] ?? 0) + r.phantom;
  }
  const models: ModelOverview[] = perModel.map(({ fillsPerBucket, phantomPerBucket, ...m }) => ({
    ...m,
    phantomRateOverTime: fillsPerBucket.map((f, b) =>
      f > 0 ? (phantomPerBucket[b] ?? 0) / f : null,
    ),
  }));
  const attemptsPerSession = await rows<{ attempts: number | null; sessions: number }>(
    connection,
    `SELECT iterations AS attempts, count(*) AS sessions FROM sessions
     GROUP BY iterations ORDER BY iterations NULLS LAST LIMIT 50`,
  );
  return {
    totals: totals ?? {
      sessions: 0,
      accepted: 0,
      max_iter_exhausted: 0,
      infra_error: 0,
      other: 0,
      alarm: 0,
      phantom_sessions: 0,
      first: null,
      last: null,
    },
    alarmRows,
    bucketSeconds,
    buckets,
    verdictsOverTime,
    models,
    attemptsPerSession,
  };
}
