import { LineCounter, isMap, isSeq, parseDocument } from 'yaml';
import { describeSchedule, nextFireTime, parseEvery, validateCron, validateTimezone, type ScheduleTiming } from '../core/cron.ts';
import { SpecError, type ErrorDetail } from '../core/errors.ts';
import { parseJobSpec, type SpecFormat } from '../core/spec.ts';
import { formatPath } from '../core/spec-issues.ts';
import { yamlPositions, type PathSegment } from '../core/spec-positions.ts';
import type { InputSpec, JobSpec } from '../core/types.ts';

// POST /jobs/validate: what an apply would say about a spec, without writing anything. It runs
// the apply's own checks in the apply's order (parseJobSpec, then the schedule timing checks
// that jobApply makes through schedulesSyncForJob), so an editor that shows "valid" means the
// save will not be refused for the spec itself. A problem the spec parser finds is answered as
// data (200, valid: false), not as an error status: a half-typed spec is the normal case here.

export interface ValidateResult {
  valid: boolean;
  errors: ErrorDetail[];
  /** What the spec declares, for a preview next to the editor; only when valid. */
  spec?: SpecSummary;
}

export interface SpecSummary {
  name: string;
  description: string | null;
  runs_on: string;
  inputs: Record<string, InputSpec>;
  steps: { id: string; name: string }[];
  schedules: { description: string; next_fire_times: Date[] }[];
}

const PREVIEW_FIRE_TIMES = 3;

export function validateSpecSource(source: string, format?: SpecFormat, now = new Date()): ValidateResult {
  let spec: JobSpec;
  try {
    spec = parseJobSpec(source, format ? { format } : {});
  } catch (err) {
    if (err instanceof SpecError) return { valid: false, errors: err.details.length > 0 ? err.details : [{ path: '', message: err.message }] };
    throw err;
  }
  const errors = scheduleTimingProblems(spec, source, now);
  if (errors.length > 0) return { valid: false, errors };
  return { valid: true, errors: [], spec: summarize(spec, now) };
}

/** Cron expressions croner cannot read (or that never fire), and intervals out of range. */
function scheduleTimingProblems(spec: JobSpec, source: string, now: Date): ErrorDetail[] {
  const problems: { index: number; field: 'cron' | 'every' | 'timezone'; message: string }[] = [];
  spec.schedules.forEach((s, index) => {
    try {
      validateTimezone(s.timezone);
    } catch (err) {
      problems.push({ index, field: 'timezone', message: (err as Error).message });
      return;
    }
    try {
      if (s.cron !== undefined) validateCron(s.cron, s.timezone, now);
      else if (s.every !== undefined) parseEvery(s.every);
    } catch (err) {
      problems.push({ index, field: s.cron !== undefined ? 'cron' : 'every', message: (err as Error).message });
    }
  });
  if (problems.length === 0) return [];

  // Point at the schedule as written: `on.schedule[0].cron`, or the flat shape's `schedule`.
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false });
  const positions = yamlPositions(doc, lineCounter, source);
  const flat = spec.host !== undefined;
  return problems.map((p) => {
    const base: PathSegment[] = flat ? ['schedule'] : ['on', 'schedule'];
    const written = doc.getIn(base, true);
    const entry: PathSegment[] = isSeq(written) ? [...base, p.index] : base;
    const entryNode = isSeq(written) ? written.items[p.index] : written;
    // A bare string (`schedule: "0 * * * *"`) is the cron itself; a mapping names the field.
    const path = isMap(entryNode) ? [...entry, p.field] : entry;
    const position = positions.node(path);
    return {
      path: formatPath(path),
      message: p.message,
      ...(position ? { line: position.line, column: position.column } : {}),
    };
  });
}

function runsOnText(spec: JobSpec): string {
  switch (spec.runsOn.kind) {
    case 'local':
      return 'local';
    case 'host':
      return spec.runsOn.name;
    case 'labels':
      return `hosts labelled ${spec.runsOn.labels.join(', ')}`;
  }
}

function summarize(spec: JobSpec, now: Date): SpecSummary {
  return {
    name: spec.name,
    description: spec.description ?? null,
    runs_on: runsOnText(spec),
    inputs: spec.inputs,
    steps: spec.steps.map((s) => ({ id: s.id, name: s.name })),
    schedules: spec.schedules.map((s) => {
      const timing: ScheduleTiming = {
        cron: s.cron ?? null,
        everySeconds: s.every !== undefined ? parseEvery(s.every) : null,
        timezone: s.timezone,
        anchorAt: new Date(Math.floor(now.getTime() / 1000) * 1000),
      };
      const times: Date[] = [];
      let t: Date | null = now;
      while (s.enabled && times.length < PREVIEW_FIRE_TIMES && (t = nextFireTime(timing, t)) !== null) times.push(t);
      return { description: `${describeSchedule(timing)}${s.enabled ? '' : ' (paused)'}`, next_fire_times: times };
    }),
  };
}
