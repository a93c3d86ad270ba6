import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { errorMessage } from '../api/client.ts';
import { isActive, runCancel, runKeys, runRerun, type RunDetail } from '../api/runs.ts';
import { useSession } from '../app/session.tsx';
import { Dialog } from './dialog.tsx';
import { useToast } from './toast.tsx';
import { Button } from './ui.tsx';

// What a developer can do with a run: cancel it while it is active (after confirming), run it
// again with the same inputs, or open the Run now form filled with its inputs to change some.
// Viewers see none of these (the API refuses them anyway).

export function RunActions({ run, onRerunWithChanges }: { run: RunDetail; onRerunWithChanges: (() => void) | null }) {
  const { can } = useSession();
  const toast = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);

  const cancel = useMutation({
    mutationFn: () => runCancel(run.id),
    onSuccess: (after) => {
      setConfirming(false);
      queryClient.setQueryData<RunDetail>(runKeys.one(run.id), (old) => (old ? { ...old, ...after } : after));
      void queryClient.invalidateQueries({ queryKey: runKeys.one(run.id) });
      toast(after.status === 'canceled' ? `Run #${run.id} canceled` : `Cancel requested: the worker is stopping run #${run.id}`, 'info');
    },
    onError: (err) => {
      setConfirming(false);
      toast(`Could not cancel: ${errorMessage(err)}`, 'error');
    },
  });

  const rerun = useMutation({
    mutationFn: () => runRerun(run.id),
    onSuccess: (created) => {
      toast('Run queued');
      void queryClient.invalidateQueries({ queryKey: runKeys.lists() });
      navigate(`/runs/${created.id}`);
    },
    onError: (err) => toast(`Could not re-run: ${errorMessage(err)}`, 'error'),
  });

  if (!can('developer')) return null;
  const active = isActive(run.status);
  const cancelRequested = active && run.cancel_requested_at !== null;

  return (
    <>
      {active && (
        <Button variant="danger" onClick={() => setConfirming(true)} disabled={cancel.isPending || cancelRequested}>
          {cancelRequested ? 'Canceling…' : 'Cancel run'}
        </Button>
      )}
      <Button variant={active ? 'secondary' : 'primary'} onClick={() => rerun.mutate()} disabled={rerun.isPending}>
        {rerun.isPending ? 'Queuing…' : 'Re-run'}
      </Button>
      {onRerunWithChanges && <Button onClick={onRerunWithChanges}>Re-run with changes…</Button>}
      <Dialog
        open={confirming}
        onOpenChange={(o) => !cancel.isPending && setConfirming(o)}
        title={`Cancel run #${run.id}?`}
        description={
          run.status === 'queued'
            ? 'It has not started yet: it will not run.'
            : 'The worker stops the step that is running, and the run ends as canceled.'
        }
      >
        <div className="flex justify-end gap-2">
          <Button onClick={() => setConfirming(false)} disabled={cancel.isPending}>
            Keep running
          </Button>
          <Button variant="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
            {cancel.isPending ? 'Canceling…' : 'Cancel run'}
          </Button>
        </div>
      </Dialog>
    </>
  );
}
