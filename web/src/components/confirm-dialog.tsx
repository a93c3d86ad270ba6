import { useState, type ReactNode } from 'react';
import { errorMessage } from '../api/client.ts';
import { Dialog } from './dialog.tsx';
import { Button } from './ui.tsx';

// "Delete host web-1?" with the consequence spelled out. The action runs from the dialog; a
// failure stays in the dialog (with the API's message) instead of closing it silently.

export function ConfirmDialog({
  open,
  onOpenChange,
  title,
  children,
  confirmLabel,
  onConfirm,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const close = (o: boolean) => {
    if (!o) setError(null);
    onOpenChange(o);
  };
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      close(false);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onOpenChange={close} title={title}>
      <div className="space-y-4 text-sm">
        <div className="text-slate-600 dark:text-slate-300">{children}</div>
        {error && (
          <p role="alert" className="text-red-600 dark:text-red-400">
            {error}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={() => close(false)}>Cancel</Button>
          <Button variant="danger" onClick={() => void confirm()} disabled={busy}>
            {busy ? 'Working…' : confirmLabel}
          </Button>
        </div>
      </div>
    </Dialog>
  );
}
