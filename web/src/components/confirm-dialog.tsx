import { useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { api } from '../api/client.ts';
import { Dialog } from './dialog.tsx';
import { useToast } from './toast.tsx';
import { useAsyncAction } from './use-async-action.ts';
import { Button } from './ui.tsx';

// "Delete host web-1?" with the consequence spelled out. The action runs from the dialog; a
// failure stays in the dialog (with the API's message) instead of closing it silently.

export function ConfirmDialog({
  open,
  onOpenChange,
  title,
  description,
  children,
  confirmLabel,
  busyLabel = 'Working…',
  cancelLabel = 'Cancel',
  onConfirm,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  /** The consequence in one sentence, under the title. */
  description?: ReactNode;
  /** The consequence in more words, in the body. */
  children?: ReactNode;
  confirmLabel: string;
  busyLabel?: string;
  cancelLabel?: string;
  onConfirm: () => Promise<unknown>;
}) {
  const { busy, error, setError, run } = useAsyncAction();
  const close = (o: boolean) => {
    if (!o) setError(null);
    onOpenChange(o);
  };
  const confirm = () =>
    run(async () => {
      await onConfirm();
      close(false);
    });
  return (
    <Dialog open={open} onOpenChange={close} title={title} description={description}>
      <div className="space-y-4 text-sm">
        {children && <div className="text-slate-600 dark:text-slate-300">{children}</div>}
        {error && (
          <p role="alert" className="text-red-600 dark:text-red-400">
            {error}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={() => close(false)}>{cancelLabel}</Button>
          <Button variant="danger" onClick={() => void confirm()} disabled={busy}>
            {busy ? busyLabel : confirmLabel}
          </Button>
        </div>
      </div>
    </Dialog>
  );
}

/** Confirm, then DELETE the item's path, refresh the list it was in and say it is done. */
export function ConfirmDelete<T>({
  item,
  onClose,
  title,
  confirmLabel,
  path,
  queryKey,
  done,
  children,
}: {
  item: T | null;
  onClose: () => void;
  title: (item: T) => string;
  confirmLabel: string;
  path: (item: T) => string;
  queryKey: readonly unknown[];
  done: (item: T) => string;
  children: (item: T) => ReactNode;
}) {
  const queryClient = useQueryClient();
  const toast = useToast();
  return (
    <ConfirmDialog
      open={item !== null}
      onOpenChange={(o) => !o && onClose()}
      title={item === null ? '' : title(item)}
      confirmLabel={confirmLabel}
      onConfirm={async () => {
        if (item === null) return;
        await api.delete(path(item));
        await queryClient.invalidateQueries({ queryKey });
        toast(done(item));
      }}
    >
      {item !== null && children(item)}
    </ConfirmDialog>
  );
}
