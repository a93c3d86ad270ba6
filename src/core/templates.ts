import { HostrunError, InputError, type ErrorDetail } from './errors.ts';
import { shellJobSpec, type RawSpec } from './shell-job.ts';

// Built-in job templates (`hostrun cron templates`, `hostrun cron create-from-template`).
// Each is a parameterised job: what differs between installations (paths, databases,
// thresholds) is an input, referenced as `${{ inputs.x }}` in the script. The engine passes
// inputs as shell variables, never as script text, so a path with spaces, quotes or `$(...)`
// arrives as data. `--input k=v` sets an input's default in the created job, which is what
// its scheduled runs use; `hostrun run JOB --input k=v` overrides it for one run.

export type TemplateCategory = 'backup' | 'maintenance' | 'monitoring' | 'data-processing';

export interface TemplateInput {
  type?: 'string' | 'number' | 'boolean';
  description: string;
  default?: string | number | boolean;
  pattern?: string;
}

export interface JobTemplate {
  id: string;
  name: string;
  description: string;
  category: TemplateCategory;
  /** Five-field cron, in the time zone of whoever creates the job unless --timezone says otherwise. */
  schedule: string;
  inputs: Record<string, TemplateInput>;
  /** A bash script; `${{ inputs.x }}` references only. */
  command: string;
  priority: number;
  timeoutMinutes: number;
  maxRetries: number;
}

export const TEMPLATES: readonly JobTemplate[] = [
  {
    id: 'database-backup',
    name: 'Database backup',
    description: 'Daily pg_dump of a PostgreSQL database, gzipped into a directory; old dumps pruned',
    category: 'backup',
    schedule: '0 2 * * *',
    inputs: {
      database: {
        description: 'database name or connection URI (postgres://user@host:5432/db); keep passwords in ~/.pgpass or PGPASSWORD, not here',
      },
      'output-dir': { description: 'directory the dumps are written to (created if missing)' },
      'keep-days': { type: 'number', description: 'delete dumps older than this many days', default: 14 },
    },
    command: [
      'out=${{ inputs.output-dir }}',
      'mkdir -p -- "$out"',
      'file="$out/backup-$(date +%Y%m%d-%H%M%S).sql.gz"',
      '# --no-password: a scheduled run has no one to type one; pipefail makes a failed dump fail the run.',
      'pg_dump --no-password --dbname=${{ inputs.database }} | gzip > "$file"',
      'echo "wrote $file ($(wc -c < "$file") bytes)"',
      "find \"$out\" -maxdepth 1 -name 'backup-*.sql.gz' -type f -mtime +${{ inputs.keep-days }} -print -delete",
    ].join('\n'),
    priority: 8,
    timeoutMinutes: 120,
    maxRetries: 2,
  },
  {
    id: 'log-cleanup',
    name: 'Log cleanup',
    description: 'Weekly: delete log files older than N days under a directory, printing each one',
    category: 'maintenance',
    schedule: '0 3 * * 0',
    inputs: {
      directory: { description: 'directory searched (recursively) for old log files' },
      pattern: { description: 'file name pattern (find -name)', default: '*.log' },
      'older-than-days': { type: 'number', description: 'delete files last modified more than this many days ago', default: 30 },
    },
    command: [
      'dir=${{ inputs.directory }}',
      'test -d "$dir" || { echo "no such directory: $dir" >&2; exit 1; }',
      'find "$dir" -type f -name ${{ inputs.pattern }} -mtime +${{ inputs.older-than-days }} -print -delete',
    ].join('\n'),
    priority: 5,
    timeoutMinutes: 60,
    maxRetries: 0,
  },
  {
    id: 'disk-monitor',
    name: 'Disk monitor',
    description: 'Every 15 minutes: report filesystems fuller than a threshold; the run fails when any is (so it shows in reports)',
    category: 'monitoring',
    schedule: '*/15 * * * *',
    inputs: {
      threshold: { type: 'number', description: 'alert above this use percentage', default: 80 },
      'fail-on-alert': { type: 'boolean', description: 'fail the run when a filesystem is over the threshold', default: true },
    },
    command: [
      '# df -P: one line per filesystem, use% in column 5, mount point in column 6.',
      'df -P | awk -v limit=${{ inputs.threshold }} -v fail=${{ inputs.fail-on-alert }} \'',
      '  NR > 1 { use = $5; sub(/%/, "", use); if (use + 0 > limit + 0) { printf "ALERT %s is %s%% full (%s)\\n", $6, use, $1 > "/dev/stderr"; over++ } }',
      '  END { if (over) { printf "%d filesystem(s) above %s%%\\n", over, limit; exit (fail == "true") } else printf "no filesystem above %s%%\\n", limit }',
      "'",
    ].join('\n'),
    priority: 6,
    timeoutMinutes: 5,
    maxRetries: 0,
  },
  {
    id: 'data-sync',
    name: 'Data sync',
    description: 'Daily rsync of a directory to a local path or user@host:path',
    category: 'data-processing',
    schedule: '0 1 * * *',
    inputs: {
      source: { description: 'directory to copy (its contents are synced)' },
      destination: { description: 'target directory: a local path or user@host:path (ssh)' },
      delete: { type: 'boolean', description: 'also delete files at the destination that are gone from the source', default: false },
    },
    command: [
      'src=${{ inputs.source }}',
      'dest=${{ inputs.destination }}',
      'set -- --archive --itemize-changes',
      'if [ ${{ inputs.delete }} = true ]; then set -- "$@" --delete; fi',
      '# The trailing / syncs the contents, not the directory itself; -- ends the options.',
      'rsync "$@" -- "${src%/}/" "$dest"',
    ].join('\n'),
    priority: 5,
    timeoutMinutes: 240,
    maxRetries: 2,
  },
];

export function templateGet(id: string): JobTemplate {
  const t = TEMPLATES.find((x) => x.id === id);
  if (!t) throw new HostrunError('not_found', `template "${id}" not found (there are: ${TEMPLATES.map((x) => x.id).join(', ')})`);
  return t;
}

export interface TemplateOverrides {
  name?: string;
  command?: string;
  schedule?: string;
  timezone?: string;
  workingDir?: string;
  priority?: number;
  runsOn?: string;
  /** `--input k=v`: the default of input k in the created job. */
  inputs?: Record<string, string>;
}

/**
 * The job spec a template makes. Every input must end up with a value (given or the
 * template's default), because scheduled runs have nobody to ask; unknown inputs are refused.
 * A --command replaces the template's script (and may still use its inputs).
 */
export function templateJobSpec(t: JobTemplate, o: TemplateOverrides = {}): RawSpec {
  const given = o.inputs ?? {};
  const details: ErrorDetail[] = [];
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(t.inputs, key)) details.push({ path: `inputs.${key}`, message: `unknown input (${t.id} has ${Object.keys(t.inputs).join(', ')})` });
  }
  const inputs: Record<string, Record<string, unknown>> = {};
  for (const [key, input] of Object.entries(t.inputs)) {
    const value = Object.hasOwn(given, key) ? typedDefault(input, given[key]!, key, details) : input.default;
    if (value === undefined) details.push({ path: `inputs.${key}`, message: `required: --input ${key}=... (${input.description})` });
    inputs[key] = {
      ...(input.type && input.type !== 'string' ? { type: input.type } : {}),
      description: input.description,
      ...(value === undefined ? {} : { default: value }),
      ...(input.pattern ? { pattern: input.pattern } : {}),
    };
  }
  if (details.length > 0) {
    throw new InputError(`template ${t.id}: ${details[0]!.path}: ${details[0]!.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`, details);
  }
  return shellJobSpec({
    name: o.name ?? t.id,
    description: o.name && o.name !== t.id ? `${o.name} (from template ${t.id})` : `${t.description} (template ${t.id})`,
    command: o.command ?? t.command,
    schedule: o.schedule ?? t.schedule,
    ...(o.timezone ? { timezone: o.timezone } : {}),
    ...(o.workingDir ? { workingDir: o.workingDir } : {}),
    priority: o.priority ?? t.priority,
    ...(o.runsOn ? { runsOn: o.runsOn } : {}),
    timeoutMinutes: t.timeoutMinutes,
    maxRetries: t.maxRetries,
    inputs,
  });
}

/** A --input value typed as the template declares it, so the spec's default has the right type. */
function typedDefault(input: TemplateInput, raw: string, key: string, details: ErrorDetail[]): string | number | boolean | undefined {
  if (input.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) details.push({ path: `inputs.${key}`, message: `expected a number, got "${raw}"` });
    return n;
  }
  if (input.type === 'boolean') {
    if (raw !== 'true' && raw !== 'false') details.push({ path: `inputs.${key}`, message: `expected true or false, got "${raw}"` });
    return raw === 'true';
  }
  return raw;
}
