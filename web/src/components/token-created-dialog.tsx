import type { CreatedToken } from '../api/admin.ts';
import { CopyButton } from './copy-button.tsx';
import { Dialog } from './dialog.tsx';
import { Button } from './ui.tsx';

// A new token's secret, shown exactly once: the server keeps only its hash, and this dialog
// forgets it when closed.

export function TokenCreatedDialog({ token, onClose }: { token: CreatedToken | null; onClose: () => void }) {
  return (
    <Dialog open={token !== null} onOpenChange={(o) => !o && onClose()} title={`Token ${token?.name ?? ''} created`} wide>
      {token && (
        <div className="space-y-4 text-sm">
          <p role="alert" className="rounded-md bg-amber-50 p-3 font-medium text-amber-900 ring-1 ring-amber-200 dark:bg-amber-950/40 dark:text-amber-100 dark:ring-amber-900">
            Copy it now: you will not see it again. Hostrun keeps only a hash of it.
          </p>
          <div className="space-y-1">
            <label htmlFor="created-token" className="block font-medium text-slate-700 dark:text-slate-300">
              Token
            </label>
            <div className="flex gap-2">
              <input
                id="created-token"
                readOnly
                value={token.token}
                onFocus={(e) => e.currentTarget.select()}
                className="block w-full min-w-0 rounded-md border-0 bg-slate-50 px-3 py-2 font-mono text-xs ring-1 ring-inset ring-slate-300 dark:bg-slate-800 dark:ring-slate-700"
              />
              <CopyButton value={token.token} targetId="created-token" />
            </div>
          </div>
          <p className="text-slate-600 dark:text-slate-300">
            Use it as <code className="font-mono text-xs">Authorization: Bearer …</code>, or with the CLI as <code className="font-mono text-xs">HOSTRUN_TOKEN</code>.
          </p>
          <div className="flex justify-end">
            <Button variant="primary" onClick={onClose}>
              I have copied it
            </Button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
