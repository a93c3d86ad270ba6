import type { InputSpec, InputValue } from '../api/jobs.ts';
import { Field, Input, Select } from './ui.tsx';

// A form generated from a job's input definitions: a text field for strings, a number field,
// a checkbox for booleans, a select for choices. Values are kept as the user typed them and
// checked here the way the API checks them (required, number, pattern, choice), so a mistake
// is shown at its field before anything is sent.

/** Text fields hold strings; checkboxes booleans. */
export type FormValues = Record<string, string | boolean>;

function asFormValue(spec: InputSpec, value: unknown): string | boolean {
  if (spec.type === 'boolean') return value === true || value === 'true';
  return value === undefined || value === null ? '' : String(value);
}

/** Defaults, overridden by `initial` (the inputs of a run being re-run, say). */
export function initialFormValues(inputs: Record<string, InputSpec>, initial?: Record<string, unknown>): FormValues {
  const values: FormValues = {};
  for (const [name, spec] of Object.entries(inputs)) {
    const given = initial && Object.hasOwn(initial, name) ? initial[name] : undefined;
    values[name] = asFormValue(spec, given ?? spec.default);
  }
  return values;
}

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The typed values to send, and a message per field that is wrong. An empty optional field is
 * left out, so the job's default applies.
 */
export function checkFormValues(inputs: Record<string, InputSpec>, values: FormValues): { inputs: Record<string, InputValue>; errors: Record<string, string> } {
  const out: Record<string, InputValue> = {};
  const errors: Record<string, string> = {};
  for (const [name, spec] of Object.entries(inputs)) {
    const raw = values[name];
    if (spec.type === 'boolean') {
      out[name] = raw === true;
      continue;
    }
    const text = typeof raw === 'string' ? raw : '';
    if (text.trim() === '') {
      if (spec.required) errors[name] = 'Required';
      continue;
    }
    let value: InputValue = text;
    if (spec.type === 'number') {
      if (!NUMBER_TEXT.test(text.trim()) || !Number.isFinite(Number(text.trim()))) {
        errors[name] = 'Must be a number';
        continue;
      }
      value = Number(text.trim());
    }
    if (spec.type === 'choice' && !(spec.options ?? []).includes(text)) {
      errors[name] = `Must be one of ${(spec.options ?? []).join(', ')}`;
      continue;
    }
    if (spec.pattern !== undefined) {
      let re: RegExp | null = null;
      try {
        re = new RegExp(spec.pattern);
      } catch {
        // The API validated the pattern when the job was saved; if this browser cannot read it, the API still checks.
      }
      if (re && !re.test(String(value))) {
        errors[name] = `Does not match the pattern ${spec.pattern}`;
        continue;
      }
    }
    out[name] = value;
  }
  return { inputs: out, errors };
}

export function InputsForm({
  inputs,
  values,
  errors,
  onChange,
  idPrefix = 'input',
}: {
  inputs: Record<string, InputSpec>;
  values: FormValues;
  errors: Record<string, string>;
  onChange: (name: string, value: string | boolean) => void;
  idPrefix?: string;
}) {
  const entries = Object.entries(inputs);
  if (entries.length === 0) return <p className="text-sm text-slate-500 dark:text-slate-400">This job takes no inputs.</p>;
  return (
    <div className="space-y-4">
      {entries.map(([name, spec]) => {
        const id = `${idPrefix}-${name}`;
        const error = errors[name] ?? null;
        const described = error ? `${id}-error` : `${id}-hint`;
        const hint = hintFor(spec);
        if (spec.type === 'boolean') {
          return (
            <div key={name} className="space-y-1">
              <label htmlFor={id} className="flex items-center gap-2 text-sm font-medium text-slate-700 dark:text-slate-300">
                <input
                  id={id}
                  type="checkbox"
                  className="h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500 dark:border-slate-600"
                  checked={values[name] === true}
                  onChange={(e) => onChange(name, e.target.checked)}
                  aria-describedby={hint ? described : undefined}
                />
                {name}
              </label>
              {hint && (
                <p id={`${id}-hint`} className="text-xs text-slate-500 dark:text-slate-400">
                  {hint}
                </p>
              )}
            </div>
          );
        }
        const common = {
          id,
          value: typeof values[name] === 'string' ? (values[name] as string) : '',
          'aria-invalid': error ? true : undefined,
          'aria-describedby': error || hint ? described : undefined,
          'aria-required': spec.required || undefined,
        };
        return (
          <Field key={name} label={spec.required ? `${name} (required)` : name} htmlFor={id} hint={hint} error={error}>
            {spec.type === 'choice' ? (
              <Select {...common} onChange={(e) => onChange(name, e.target.value)}>
                {!spec.required && <option value="">(default)</option>}
                {(spec.options ?? []).map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </Select>
            ) : (
              <Input
                {...common}
                type="text"
                inputMode={spec.type === 'number' ? 'decimal' : undefined}
                className="font-mono"
                autoComplete="off"
                spellCheck={false}
                onChange={(e) => onChange(name, e.target.value)}
              />
            )}
          </Field>
        );
      })}
    </div>
  );
}

function hintFor(spec: InputSpec): string | undefined {
  const parts: string[] = [];
  if (spec.description) parts.push(spec.description);
  if (spec.type === 'number') parts.push('A number.');
  if (spec.pattern) parts.push(`Pattern: ${spec.pattern}`);
  if (spec.default !== undefined && spec.type !== 'boolean') parts.push(`Default: ${String(spec.default)}`);
  return parts.length ? parts.join(' · ') : undefined;
}
