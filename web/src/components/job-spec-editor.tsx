import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useState } from 'react';
import { ApiError, errorMessage } from '../api/client.ts';
import { applyJob, validateSpec, type ApplyResult, type ValidateResult, type ValidationError } from '../api/jobs.ts';
import { useToast } from './toast.tsx';
import { FormError } from './form-error.tsx';
import { Button, Kbd, Spinner } from './ui.tsx';

// CodeMirror is most of the bundle's weight and only these pages need it: loaded on demand.
const YamlEditor = lazy(() => import('./yaml-editor.tsx').then((m) => ({ default: m.YamlEditor })));

// The editor of a job definition with its validation and its Save, used by /jobs/new and the
// job page's Definition tab. Validation is the API's own dry-run apply (POST /jobs/validate),
// 300 ms after the last keystroke, so what it says is what Save will meet.

const DEBOUNCE_MS = 300;

type Check = { state: 'idle' } | { state: 'checking' } | { state: 'done'; result: ValidateResult } | { state: 'failed'; message: string };

export function JobSpecEditor({
  initial,
  readOnly = false,
  currentName,
  onSaved,
}: {
  initial: string;
  readOnly?: boolean;
  /** The job being edited (absent for a new job): saving under another name creates a new job. */
  currentName?: string;
  onSaved: (result: ApplyResult) => void;
}) {
  const [source, setSource] = useState(initial);
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const [saveErrors, setSaveErrors] = useState<ValidationError[] | null>(null);
  const [saveMessage, setSaveMessage] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [jump, setJump] = useState<{ line: number; nonce: number } | null>(null);
  const toast = useToast();
  const queryClient = useQueryClient();

  // A newer saved version replaces the text, unless the user has edits of their own.
  const [base, setBase] = useState(initial);
  useEffect(() => {
    if (initial !== base) {
      if (source === base) setSource(initial);
      setBase(initial);
    }
  }, [initial, base, source]);

  useEffect(() => {
    setSaveErrors(null);
    setSaveMessage(null);
    if (readOnly) return;
    if (source.trim() === '') {
      setCheck({ state: 'idle' });
      return;
    }
    setCheck({ state: 'checking' });
    const abort = new AbortController();
    const timer = setTimeout(() => {
      validateSpec(source, abort.signal).then(
        (result) => setCheck({ state: 'done', result }),
        (err: unknown) => {
          if ((err as Error).name !== 'AbortError') setCheck({ state: 'failed', message: errorMessage(err) });
        },
      );
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [source, readOnly]);

  const errors: ValidationError[] = saveErrors ?? (check.state === 'done' ? check.result.errors : []);
  const summary = check.state === 'done' ? check.result.spec : undefined;
  const invalid = errors.length > 0;
  const dirty = source !== base;
  const canSave = !readOnly && !saving && source.trim() !== '' && check.state === 'done' && check.result.valid && (dirty || !currentName);
  const renames = currentName !== undefined && summary !== undefined && summary.name !== currentName;

  // Leaving the page (reload, another site) with unsaved edits asks first.
  useEffect(() => {
    if (readOnly || !dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty, readOnly]);

  const save = async () => {
    if (!canSave) return;
    setSaving(true);
    setSaveMessage(null);
    try {
      const result = await applyJob(source);
      void queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] === 'jobs' || q.queryKey[0] === 'job' });
      toast(result.created ? `Created job ${result.job.name}` : result.changed ? `Saved version ${result.job.version}` : 'No changes: the definition is the same as the current version');
      setBase(source);
      onSaved(result);
    } catch (err) {
      if (err instanceof ApiError && err.details && err.details.length > 0 && err.code === 'invalid_spec') setSaveErrors(err.details);
      setSaveMessage(errorMessage(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="space-y-3">
      <Suspense fallback={<Spinner label="Loading the editor" />}>
        <YamlEditor value={source} onChange={setSource} onSave={() => void save()} label="Job definition (YAML)" errors={errors} readOnly={readOnly} focusLine={jump} />
      </Suspense>
      {!readOnly && (
        <div className="flex flex-wrap items-start gap-3">
          <div className="min-w-0 flex-1 text-sm" aria-live="polite">
            <CheckStatus check={check} errors={errors} summary={summary} />
          </div>
          <Button variant="primary" onClick={() => void save()} disabled={!canSave} aria-describedby="spec-save-why">
            {saving ? 'Saving…' : currentName ? 'Save new version' : 'Create job'}
          </Button>
          <span className="hidden w-full text-right text-xs text-slate-500 sm:block dark:text-slate-400">
            <Kbd>Ctrl</Kbd>+<Kbd>S</Kbd> saves · <Kbd>Esc</Kbd> then <Kbd>Tab</Kbd> leaves the editor
          </span>
        </div>
      )}
      {!readOnly && (
        <p id="spec-save-why" className="sr-only">
          {invalid ? 'Saving is not possible while the definition has problems.' : dirty || !currentName ? '' : 'No changes to save.'}
        </p>
      )}
      {renames && (
        <p role="note" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-amber-200 dark:bg-amber-950/40 dark:text-amber-100 dark:ring-amber-900">
          The name is now <strong>{summary.name}</strong>: saving creates a new job, and {currentName} stays as it is.
        </p>
      )}
      {errors.length > 0 && (
        <ul aria-label="Problems in the definition" className="divide-y divide-red-100 overflow-hidden rounded-lg bg-red-50 ring-1 ring-red-200 dark:divide-red-900/60 dark:bg-red-950/40 dark:ring-red-900">
          {errors.map((e, i) => (
            <li key={i}>
              <button
                type="button"
                className="flex w-full gap-3 px-3 py-2 text-left text-sm text-red-900 hover:bg-red-100 dark:text-red-200 dark:hover:bg-red-900/40"
                onClick={() => e.line && setJump({ line: e.line, nonce: Date.now() })}
              >
                <span className="shrink-0 font-mono text-xs leading-5 text-red-700 dark:text-red-300">{e.line ? `Line ${e.line}${e.column ? `:${e.column}` : ''}` : 'Spec'}</span>
                <span>
                  {e.path && <code className="mr-1 font-mono text-xs">{e.path}</code>}
                  {e.message}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {!saveErrors && <FormError error={saveMessage} />}
    </div>
  );
}

function CheckStatus({ check, errors, summary }: { check: Check; errors: ValidationError[]; summary: ValidateResult['spec'] }) {
  if (check.state === 'idle') return <span className="text-slate-500 dark:text-slate-400">Write the definition above; it is checked as you type.</span>;
  if (check.state === 'checking') return <span className="text-slate-500 dark:text-slate-400">Checking…</span>;
  if (check.state === 'failed') return <span className="text-amber-700 dark:text-amber-300">Could not check the definition: {check.message}</span>;
  if (errors.length > 0) {
    return (
      <span className="font-medium text-red-700 dark:text-red-300">
        ✗ {errors.length === 1 ? '1 problem' : `${errors.length} problems`}: {errors[0]!.line ? `line ${errors[0]!.line}: ` : ''}
        {errors[0]!.message}
      </span>
    );
  }
  if (!summary) return null;
  const inputs = Object.keys(summary.inputs).length;
  return (
    <span className="text-slate-700 dark:text-slate-300">
      <span className="font-medium text-green-700 dark:text-green-400">✓ Valid</span> · {summary.name} · {summary.steps.length} {summary.steps.length === 1 ? 'step' : 'steps'} ·{' '}
      {inputs} {inputs === 1 ? 'input' : 'inputs'} · runs on {summary.runs_on}
      {summary.schedules.length > 0 && ` · ${summary.schedules.map((s) => s.description).join('; ')}`}
    </span>
  );
}
