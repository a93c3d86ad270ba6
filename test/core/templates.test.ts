import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseJobSpec } from '../../src/core/spec.ts';
import { jobNameFrom, parseAssignments, parseDuration, shellJobSpec } from '../../src/core/shell-job.ts';
import { TEMPLATES, templateGet, templateJobSpec } from '../../src/core/templates.ts';

// Templates and flag-built jobs are ordinary specs: they must pass the real parser, and every
// path, database and threshold must be an input reference, never text in the script.

const SAMPLE_INPUTS: Record<string, Record<string, string>> = {
  'database-backup': { database: 'app', 'output-dir': '/backups' },
  'log-cleanup': { directory: '/var/log/app' },
  'disk-monitor': {},
  'data-sync': { source: '/data', destination: 'backup@nas:/data' },
};

describe('job templates', () => {
  it.each(TEMPLATES.map((t) => [t.id, t] as const))('%s is a valid job spec with its inputs as references', (id, t) => {
    const spec = parseJobSpec(stringify(templateJobSpec(t, { inputs: SAMPLE_INPUTS[id]!, timezone: 'UTC' })));
    expect(spec.name).toBe(id);
    expect(spec.schedules).toEqual([expect.objectContaining({ cron: t.schedule, timezone: 'UTC' })]);
    expect(Object.keys(spec.inputs).sort()).toEqual(Object.keys(t.inputs).sort());
    for (const [key, value] of Object.entries(SAMPLE_INPUTS[id]!)) {
      expect(spec.inputs[key]!.default).toBe(value);
      expect(t.command).not.toContain(value);
    }
    for (const key of Object.keys(t.inputs)) expect(t.command).toContain(`\${{ inputs.${key} }}`);
    expect(spec.retries.max).toBe(t.maxRetries);
  });

  it('types --input values as the template declares, and overrides name, command, schedule, working dir', () => {
    const spec = parseJobSpec(
      stringify(
        templateJobSpec(templateGet('disk-monitor'), {
          name: 'Disk Alert',
          command: 'df -h',
          schedule: '*/5 * * * *',
          workingDir: '/tmp',
          priority: 9,
          inputs: { threshold: '85', 'fail-on-alert': 'false' },
        }),
      ),
    );
    expect(spec).toMatchObject({ name: 'disk-alert', description: 'Disk Alert (from template disk-monitor)', priority: 9, workingDirectory: '/tmp' });
    expect(spec.inputs.threshold!.default).toBe(85);
    expect(spec.inputs['fail-on-alert']!.default).toBe(false);
    expect(spec.steps[0]!.run).toBe('df -h');
    expect(spec.schedules[0]!.cron).toBe('*/5 * * * *');
  });

  it('refuses unknown, missing and mistyped inputs, naming them', () => {
    expect(() => templateJobSpec(templateGet('log-cleanup'))).toThrow(/inputs\.directory: required: --input directory=/);
    expect(() => templateJobSpec(templateGet('log-cleanup'), { inputs: { directory: '/x', dir: '/y' } })).toThrow(/inputs\.dir: unknown input/);
    expect(() => templateJobSpec(templateGet('disk-monitor'), { inputs: { threshold: 'lots' } })).toThrow(/expected a number/);
    expect(() => templateGet('nope')).toThrow(/template "nope" not found \(there are: database-backup, log-cleanup, disk-monitor, data-sync\)/);
  });
});

describe('jobs from flags', () => {
  it('makes job names from what people type', () => {
    expect(jobNameFrom('Daily Backup')).toBe('daily-backup');
    expect(jobNameFrom('nightly.sync_2')).toBe('nightly.sync_2');
    expect(jobNameFrom('  Ärger & Co!  ')).toBe('rger-co');
    expect(() => jobNameFrom('!!!')).toThrow(/cannot make a job name/);
  });

  it('builds a one-step spec the parser accepts', () => {
    const spec = parseJobSpec(
      stringify(shellJobSpec({ name: 'Log Rotation', command: 'logrotate /etc/logrotate.conf', schedule: '0 0 * * *', timezone: 'Europe/Berlin', env: { A: '1' }, maxRetries: 3, timeoutMinutes: 0.5 })),
    );
    expect(spec).toMatchObject({ name: 'log-rotation', description: 'Log Rotation', env: { A: '1' }, timeoutMinutes: 0.5, retries: { max: 3 } });
    expect(spec.steps.map((s) => s.run)).toEqual(['logrotate /etc/logrotate.conf']);
  });

  it('parses durations and K=V lists', () => {
    expect(parseDuration('90s', 't')).toBe(90_000);
    expect(parseDuration('1h30m', 't')).toBe(5_400_000);
    expect(parseDuration('2d', 't')).toBe(172_800_000);
    for (const bad of ['5', '', '5 minutes', '0s', '-1m']) expect(() => parseDuration(bad, '--timeout')).toThrow(/--timeout/);
    expect(parseAssignments(['A=1', 'B=x=y'], '--env')).toEqual({ A: '1', B: 'x=y' });
    expect(() => parseAssignments(['A'], '--env')).toThrow(/invalid --env/);
    expect(() => parseAssignments(['A=1', 'A=2'], '--env')).toThrow(/given more than once/);
  });
});
