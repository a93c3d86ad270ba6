import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiError, errorMessage } from '../api/client.ts';
import { jobPath, type Job, type JobSchedule } from '../api/jobs.ts';
import { useSession } from '../app/session.tsx';
import { relative, useNow } from './time.tsx';
import { useToast } from './toast.tsx';
import { FormError } from './form-error.tsx';
import { Button, Card, Code, Table, TD, TH } from './ui.tsx';

// The Overview tab of a job: what it is (description, target, inputs, steps), when it runs
// (schedules in words with their next five fire times, pause and resume), and its webhook.

export function JobOverview({ job }: { job: Job }) {
  const { can } = useSession();
  return (
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
      <div className="min-w-0 space-y-6">
        <Schedules job={job} />
        {can('developer') && <Webhook job={job} />}
      </div>
      <div className="min-w-0 space-y-6">
        <Inputs job={job} />
        <Steps job={job} />
      </div>
    </div>
  );
}

function runsOnText(job: Job): string {
  const r = job.spec.runsOn;
  if (r.kind === 'local') return 'local (the worker’s own machine)';
  if (r.kind === 'host') return r.name;
  return `any host labelled ${r.labels.join(', ')}`;
}

function Inputs({ job }: { job: Job }) {
  const entries = Object.entries(job.spec.inputs);
  return (
    <Card title="Inputs" actions={<span className="text-xs text-slate-500 dark:text-slate-400">Runs on {runsOnText(job)}</span>}>
      {entries.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">This job takes no inputs.</p>
      ) : (
        <div className="-m-4">
          <Table label="Inputs">
            <thead className="bg-slate-50 dark:bg-slate-900/60">
              <tr>
                <th scope="col" className={TH}>
                  Name
                </th>
                <th scope="col" className={`${TH} hidden sm:table-cell`}>
                  Type
                </th>
                <th scope="col" className={TH}>
                  Default
                </th>
                <th scope="col" className={TH}>
                  Rules
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
              {entries.map(([name, spec]) => (
                <tr key={name}>
                  <td className={`${TD} font-mono text-xs`}>
                    {name}
                    {spec.description && <p className="mt-0.5 font-sans text-xs text-slate-500 dark:text-slate-400">{spec.description}</p>}
                  </td>
                  <td className={`${TD} hidden text-xs sm:table-cell`}>{spec.type}</td>
                  <td className={`${TD} max-w-48 truncate font-mono text-xs`} title={spec.default === undefined ? undefined : String(spec.default)}>
                    {spec.default === undefined ? <span className="text-slate-400">–</span> : String(spec.default)}
                  </td>
                  <td className={`${TD} text-xs`}>
                    {!spec.required && !spec.pattern && !spec.options && <span className="text-slate-400">–</span>}
                    {spec.required && <span className="mr-2">required</span>}
                    {spec.pattern && (
                      <span className="mr-2">
                        matches <code className="break-all font-mono">{spec.pattern}</code>
                      </span>
                    )}
                    {spec.options && <span>one of {spec.options.join(', ')}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        </div>
      )}
    </Card>
  );
}

function Steps({ job }: { job: Job }) {
  return (
    <Card title={`Steps (${job.spec.steps.length})`}>
      <ol className="space-y-3">
        {job.spec.steps.map((s, i) => (
          <li key={s.id} className="flex gap-3">
            <span className="grid h-6 w-6 shrink-0 place-items-center rounded-full bg-slate-100 text-xs font-semibold text-slate-600 dark:bg-slate-800 dark:text-slate-300" aria-hidden>
              {i + 1}
            </span>
            <div className="min-w-0 flex-1">
              {/* A step without a name is named after its first line, shown just below anyway. */}
              {s.name !== firstLine(s.run) && <p className="text-sm font-medium">{s.name}</p>}
              {s.if && <p className="text-xs text-slate-500 dark:text-slate-400">if {s.if}</p>}
              {s.run !== undefined ? (
                <pre className="mt-1 max-h-40 overflow-auto whitespace-pre-wrap break-all rounded-md bg-slate-50 px-3 py-2 font-mono text-xs text-slate-800 ring-1 ring-slate-200 dark:bg-slate-950 dark:text-slate-200 dark:ring-slate-800">
                  {s.run}
                </pre>
              ) : (
                <p className="text-xs text-slate-500 dark:text-slate-400">
                  built-in: <Code>{s.uses}</Code>
                </p>
              )}
            </div>
          </li>
        ))}
      </ol>
    </Card>
  );
}

function firstLine(run: string | undefined): string | undefined {
  const line = run?.split('\n').find((l) => l.trim() !== '')?.trim();
  return line !== undefined && line.length > 100 ? `${line.slice(0, 99)}…` : line;
}

const FIRE_TIME = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

function Schedules({ job }: { job: Job }) {
  if (job.schedules.length === 0) {
    return (
      <Card title="Schedule">
        <p className="text-sm text-slate-500 dark:text-slate-400">
          Runs only when started by hand, by the API or by its webhook. To run it on a schedule, add <Code>on: schedule</Code> to the definition, for example{' '}
          <Code>{'- cron: "0 * * * *"'}</Code>.
        </p>
      </Card>
    );
  }
  return (
    <Card title={job.schedules.length === 1 ? 'Schedule' : `Schedules (${job.schedules.length})`}>
      <ul className="space-y-5">
        {job.schedules.map((s) => (
          <ScheduleItem key={s.id} schedule={s} jobEnabled={job.enabled} jobName={job.name} />
        ))}
      </ul>
    </Card>
  );
}

function ScheduleItem({ schedule: s, jobEnabled, jobName }: { schedule: JobSchedule; jobEnabled: boolean; jobName: string }) {
  const { can } = useSession();
  const now = useNow();
  const toast = useToast();
  const queryClient = useQueryClient();
  const toggle = useMutation({
    mutationFn: () => api.post(`/schedules/${s.id}/${s.enabled ? 'disable' : 'enable'}`),
    onSuccess: () => {
      toast(s.enabled ? 'Schedule paused' : 'Schedule resumed');
      void queryClient.invalidateQueries({ queryKey: ['job', jobName] });
      void queryClient.invalidateQueries({ queryKey: ['jobs'] });
    },
    onError: (err) => toast(errorMessage(err), 'error'),
  });
  const expr = s.cron ? `cron ${s.cron}` : s.every_seconds ? `every ${s.every_seconds} s` : '';
  return (
    <li>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div>
          <p className="text-base font-semibold" data-testid="schedule-words">
            {s.description}
          </p>
          <p className="text-xs text-slate-500 dark:text-slate-400">
            <span className="font-mono">{expr}</span> · {s.timezone}
            {s.last_fire_at && (
              <>
                {' '}
                · last fired <time dateTime={s.last_fire_at} title={new Date(s.last_fire_at).toLocaleString()}>{relative(s.last_fire_at, now)}</time>
              </>
            )}
          </p>
        </div>
        <div className="flex items-center gap-2">
          <span
            className={`rounded-full px-2 py-0.5 text-xs font-medium ${s.enabled && jobEnabled ? 'bg-green-100 text-green-800 dark:bg-green-900/40 dark:text-green-200' : 'bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300'}`}
          >
            {!jobEnabled ? 'off: job disabled' : s.enabled ? 'active' : 'paused'}
          </span>
          {can('developer') && (
            <Button size="sm" onClick={() => toggle.mutate()} disabled={toggle.isPending}>
              {s.enabled ? 'Pause' : 'Resume'}
            </Button>
          )}
        </div>
      </div>
      {s.next_fire_times.length > 0 ? (
        <ol aria-label={`Next fire times: ${s.description}`} className="mt-3 divide-y divide-slate-100 rounded-md ring-1 ring-slate-200 dark:divide-slate-800 dark:ring-slate-800">
          {s.next_fire_times.map((t) => (
            <li key={t} className="flex items-center justify-between px-3 py-1.5 text-sm">
              <time dateTime={t} title={new Date(t).toISOString()}>
                {FIRE_TIME.format(new Date(t))}
              </time>
              <span className="text-xs text-slate-500 dark:text-slate-400">{relative(t, now)}</span>
            </li>
          ))}
        </ol>
      ) : (
        <p className="mt-2 text-sm text-slate-500 dark:text-slate-400">{!jobEnabled ? 'Enable the job to have it fire again.' : 'Paused: resume it to see when it fires next.'}</p>
      )}
    </li>
  );
}

function Webhook({ job }: { job: Job }) {
  const toast = useToast();
  const hook = useQuery({
    queryKey: ['job', job.name, 'webhook'],
    queryFn: () => api.get<{ path: string; signed: boolean }>(`${jobPath(job.name)}/webhook`),
    enabled: job.spec.webhook,
    retry: (n, err) => !(err instanceof ApiError && err.status === 404) && n < 2,
  });
  const [copied, setCopied] = useState(false);
  if (!job.spec.webhook) {
    return (
      <Card title="Webhook">
        <p className="text-sm text-slate-500 dark:text-slate-400">
          No webhook. Add <Code>on: {'{ webhook: true }'}</Code> to the definition to get a URL that starts a run when called.
        </p>
      </Card>
    );
  }
  const url = hook.data ? `${window.location.origin}${hook.data.path}` : '';
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      toast('Could not copy: select the URL and copy it by hand', 'error');
    }
  };
  return (
    <Card title="Webhook">
      {hook.isPending ? (
        <p className="text-sm text-slate-500">Loading…</p>
      ) : hook.isError ? (
        <FormError error={errorMessage(hook.error)} />
      ) : (
        <div className="space-y-2">
          <label htmlFor="webhook-url" className="block text-xs font-medium text-slate-500 dark:text-slate-400">
            POST to this URL to start a run
          </label>
          <div className="flex gap-2">
            <input
              id="webhook-url"
              readOnly
              value={url}
              onFocus={(e) => e.target.select()}
              className="block w-full min-w-0 rounded-md border-0 bg-slate-50 px-3 py-2 font-mono text-xs ring-1 ring-inset ring-slate-300 dark:bg-slate-950 dark:ring-slate-700"
            />
            <Button onClick={() => void copy()} aria-label="Copy webhook URL">
              {copied ? 'Copied' : 'Copy'}
            </Button>
          </div>
          <p className="text-xs text-slate-500 dark:text-slate-400">
            {hook.data.signed ? 'Requests must be signed (HMAC-SHA256 with the webhook secret).' : 'Unsigned: anyone with the URL can start a run. Set a secret with the CLI to require signatures.'}
          </p>
        </div>
      )}
    </Card>
  );
}
