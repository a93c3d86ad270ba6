import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { api, ApiError, errorMessage } from '../api/client.ts';
import { useJob } from '../api/jobs.ts';
import type { Run } from '../api/types.ts';
import { Dialog } from './dialog.tsx';
import { checkFormValues, initialFormValues, InputsForm, type FormValues } from './inputs-form.tsx';
import { useToast } from './toast.tsx';
import { Button, ErrorPanel, Spinner } from './ui.tsx';

// "Run now": a form generated from the job's inputs (defaults filled in, or the inputs of the
// run being re-run), checked in the browser before anything is sent; then POST
// /jobs/:name/runs (or /runs/:id/rerun), a toast "Run queued", and the run's page. What the API
// refuses is shown in the dialog, at the field when the API names one.

export function RunNowDialog(props: {
  jobName: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  initialInputs?: Record<string, unknown>;
  rerunOf?: number;
}) {
  const { jobName, open, onOpenChange, initialInputs, rerunOf } = props;
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={rerunOf ? `Re-run #${rerunOf} of ${jobName}` : `Run ${jobName}`}
      description={rerunOf ? 'Change inputs if you need to; the rest is the same job.' : 'Check the inputs, then start the run.'}
      wide
    >
      {open && <RunNowForm jobName={jobName} onOpenChange={onOpenChange} {...(initialInputs ? { initialInputs } : {})} {...(rerunOf ? { rerunOf } : {})} />}
    </Dialog>
  );
}

function RunNowForm({ jobName, onOpenChange, initialInputs, rerunOf }: { jobName: string; onOpenChange: (open: boolean) => void; initialInputs?: Record<string, unknown>; rerunOf?: number }) {
  const job = useJob(jobName);
  const toast = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [values, setValues] = useState<FormValues | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<{ message: string; details: string[] } | null>(null);
  const [busy, setBusy] = useState(false);

  const inputs = job.data?.spec.inputs;
  // Filled once, when the definitions arrive; a live refetch must not undo what was typed.
  useEffect(() => {
    if (inputs && values === null) setValues(initialFormValues(inputs, initialInputs));
  }, [inputs, values, initialInputs]);

  if (job.isPending) return <Spinner label="Loading the job's inputs" />;
  if (job.isError) return <ErrorPanel error={job.error} retry={() => void job.refetch()} />;
  if (!values || !inputs) return <Spinner />;

  const focusField = (name: string) => document.getElementById(`run-input-${name}`)?.focus();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFormError(null);
    const checked = checkFormValues(inputs, values);
    setErrors(checked.errors);
    const firstBad = Object.keys(checked.errors)[0];
    if (firstBad) {
      focusField(firstBad);
      return;
    }
    setBusy(true);
    try {
      const run = rerunOf
        ? await api.post<Run>(`/runs/${rerunOf}/rerun`, { inputs: checked.inputs })
        : await api.post<Run>(`/jobs/${encodeURIComponent(jobName)}/runs`, { inputs: checked.inputs, trigger: 'manual' });
      void queryClient.invalidateQueries({ predicate: (q) => ['runs', 'jobs', 'job', 'dashboard'].includes(String(q.queryKey[0])) });
      toast('Run queued');
      onOpenChange(false);
      navigate(`/runs/${run.id}`);
    } catch (err) {
      const fieldErrors: Record<string, string> = {};
      const other: string[] = [];
      if (err instanceof ApiError) {
        for (const d of err.details ?? []) {
          const name = /^inputs\.(.+)$/.exec(d.path)?.[1];
          if (name && Object.hasOwn(inputs, name)) fieldErrors[name] = d.message;
          else other.push(d.path ? `${d.path}: ${d.message}` : d.message);
        }
      }
      setErrors(fieldErrors);
      setFormError({ message: err instanceof ApiError ? err.message : errorMessage(err), details: other });
      const first = Object.keys(fieldErrors)[0];
      if (first) focusField(first);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="space-y-5">
      {!job.data.enabled && (
        <p role="note" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-amber-200 dark:bg-amber-950/40 dark:text-amber-100 dark:ring-amber-900">
          This job is disabled: the API will refuse to run it until it is enabled.
        </p>
      )}
      <InputsForm
        inputs={inputs}
        values={values}
        errors={errors}
        idPrefix="run-input"
        onChange={(name, value) => {
          setValues((v) => ({ ...v, [name]: value }));
          setErrors(({ [name]: _, ...rest }) => rest);
        }}
      />
      {formError && (
        <div role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 ring-1 ring-red-200 dark:bg-red-950/40 dark:text-red-200 dark:ring-red-900">
          <p className="font-medium">{formError.message}</p>
          {formError.details.length > 0 && (
            <ul className="mt-1 list-disc pl-5">
              {formError.details.map((d) => (
                <li key={d}>{d}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div className="flex flex-wrap items-center justify-end gap-2 border-t border-slate-200 pt-4 dark:border-slate-800">
        <span className="mr-auto text-xs text-slate-500 dark:text-slate-400">
          Version {job.data.version} · runs on {job.data.spec.runsOn.kind === 'host' ? job.data.spec.runsOn.name : job.data.spec.runsOn.kind === 'labels' ? job.data.spec.runsOn.labels.join(', ') : 'local'}
        </span>
        <Button onClick={() => onOpenChange(false)}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={busy}>
          {busy ? 'Queuing…' : 'Start run'}
        </Button>
      </div>
    </form>
  );
}
