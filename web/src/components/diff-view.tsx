// A unified diff (as GET /jobs/:name/diff answers it) with added lines green and removed lines
// red. Colour is never the only signal: each line keeps its +/- marker, and screen readers
// hear "added" / "removed".

type Kind = 'add' | 'del' | 'hunk' | 'file' | 'same';

function kindOf(line: string): Kind {
  if (line.startsWith('+++') || line.startsWith('---')) return 'file';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  return 'same';
}

const ROW: Record<Kind, string> = {
  add: 'bg-green-50 text-green-900 dark:bg-green-950/50 dark:text-green-200',
  del: 'bg-red-50 text-red-900 dark:bg-red-950/50 dark:text-red-200',
  hunk: 'bg-indigo-50 text-indigo-700 dark:bg-indigo-950/50 dark:text-indigo-300',
  file: 'font-semibold text-slate-600 dark:text-slate-300',
  same: 'text-slate-700 dark:text-slate-300',
};

export function DiffView({ unified, label }: { unified: string; label: string }) {
  const lines = unified.replace(/\n$/, '').split('\n');
  return (
    <div role="region" aria-label={label} className="relative overflow-x-auto rounded-lg bg-white shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800">
      <pre className="min-w-full py-2 font-mono text-xs leading-6">
        {lines.map((line, i) => {
          const kind = kindOf(line);
          return (
            <div key={i} data-diff={kind} className={`px-4 whitespace-pre ${ROW[kind]}`}>
              {kind === 'add' && <span className="sr-only">added: </span>}
              {kind === 'del' && <span className="sr-only">removed: </span>}
              {line || ' '}
            </div>
          );
        })}
      </pre>
    </div>
  );
}
