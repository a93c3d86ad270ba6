import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import type { HostKeyScan } from '../api/admin.ts';
import { api, errorMessage } from '../api/client.ts';
import { TERMINAL_STATUSES, type Run, type RunStatus } from '../api/types.ts';
import { StatusChip } from './status-chip.tsx';
import { FormError } from './form-error.tsx';
import { Button, Code, Spinner } from './ui.tsx';

// The two steps between adding a host and running jobs on it:
// 1. HostKeyConfirm: the key the host presents now (POST /hosts/:name/scan, nothing pinned),
//    shown for a person to compare with the machine's own; only "Confirm and pin" pins it, and
//    the server pins only if the host still presents exactly that key (POST /hosts/:name/pin).
// 2. HostTest: "Test connection" (POST /hosts/:name/test) is a run that logs in with the
//    host's credential against the pinned key and runs whoami; its output is shown here.

export function HostKeyConfirm({ host, onPinned }: { host: string; onPinned: (fingerprint: string) => void }) {
  const queryClient = useQueryClient();
  const [scan, setScan] = useState<HostKeyScan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'scan' | 'pin' | null>(null);

  const doScan = async () => {
    setBusy('scan');
    setError(null);
    try {
      setScan(await api.post<HostKeyScan>(`/hosts/${encodeURIComponent(host)}/scan`));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  const pin = async () => {
    if (!scan) return;
    setBusy('pin');
    setError(null);
    try {
      await api.post(`/hosts/${encodeURIComponent(host)}/pin`, { fingerprint: scan.fingerprint });
      await queryClient.invalidateQueries({ queryKey: ['hosts'] });
      onPinned(scan.fingerprint);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void doScan();
  }, []);

  const type = scan?.algorithm.replace(/^ssh-/, '').replace(/^ecdsa-sha2-.*/, 'ecdsa').replace(/^rsa-sha2-.*/, 'rsa');
  return (
    <section aria-labelledby={`key-${host}`} className="space-y-3">
      <h3 id={`key-${host}`} className="text-sm font-semibold">
        Host key of {host}
      </h3>
      {busy === 'scan' && <Spinner label="Reading the host key" />}
      {scan && (
        <>
          {scan.matches_pinned === false ? (
            <div role="alert" className="rounded-md bg-red-50 p-3 text-sm text-red-800 ring-1 ring-red-200 dark:bg-red-950/40 dark:text-red-200 dark:ring-red-900">
              <p className="font-semibold">Host key changed</p>
              <p className="mt-1 break-all">
                Pinned <Code>{scan.pinned}</Code>, the host now presents <Code>{scan.fingerprint}</Code>. Runs on this host are refused until this is resolved.
              </p>
            </div>
          ) : scan.matches_pinned === true ? (
            <p className="text-sm text-green-700 dark:text-green-400">The host presents the pinned key.</p>
          ) : (
            <p className="text-sm text-slate-600 dark:text-slate-300">
              The host presented this key. Check it is the machine's own before you trust it: on the host, run{' '}
              <Code>ssh-keygen -lf /etc/ssh/ssh_host_{type ?? 'ed25519'}_key.pub</Code> and compare.
            </p>
          )}
          <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 rounded-md bg-slate-50 p-3 text-sm ring-1 ring-slate-200 dark:bg-slate-800/60 dark:ring-slate-700">
            <dt className="text-slate-500 dark:text-slate-400">Type</dt>
            <dd className="font-mono">{scan.algorithm}</dd>
            <dt className="text-slate-500 dark:text-slate-400">Fingerprint</dt>
            <dd className="break-all font-mono" data-testid="scanned-fingerprint">
              {scan.fingerprint}
            </dd>
          </dl>
          {scan.matches_pinned === null && (
            <div className="flex flex-wrap gap-2">
              <Button variant="primary" onClick={() => void pin()} disabled={busy !== null}>
                {busy === 'pin' ? 'Pinning…' : 'Confirm and pin this key'}
              </Button>
              <Button onClick={() => void doScan()} disabled={busy !== null}>
                Read again
              </Button>
            </div>
          )}
        </>
      )}
      {error && (
        <div role="alert" className="space-y-2 text-sm text-red-600 dark:text-red-400">
          <p className="break-words">{error}</p>
          <Button size="sm" onClick={() => void doScan()} disabled={busy !== null}>
            Try again
          </Button>
        </div>
      )}
    </section>
  );
}

interface TestResult {
  runId: number;
  status: RunStatus;
  output: string;
  error: string | null;
}

const POLL_MS = 700;

export function HostTest({ host, disabled }: { host: string; disabled?: boolean }) {
  const queryClient = useQueryClient();
  const [result, setResult] = useState<TestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const test = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const { run_id } = await api.post<{ run_id: number }>(`/hosts/${encodeURIComponent(host)}/test`);
      let run = await api.get<Run>(`/runs/${run_id}`);
      setResult({ runId: run_id, status: run.status, output: '', error: null });
      // A test run takes a second or two; a short poll is simpler than a stream for that.
      while (alive.current && !TERMINAL_STATUSES.includes(run.status)) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        run = await api.get<Run>(`/runs/${run_id}`);
        if (alive.current) setResult({ runId: run_id, status: run.status, output: '', error: null });
      }
      const logs = await api.get<{ lines: { stream: string; text: string }[] }>(`/runs/${run_id}/logs`);
      const output = logs.lines
        .filter((l) => l.stream === 'stdout' || l.stream === 'stderr')
        .map((l) => l.text)
        .join('\n')
        .trim();
      if (alive.current) setResult({ runId: run_id, status: run.status, output, error: run.error });
      await queryClient.invalidateQueries({ queryKey: ['hosts'] });
    } catch (err) {
      if (alive.current) setError(errorMessage(err));
    } finally {
      if (alive.current) setBusy(false);
    }
  };

  return (
    <div className="space-y-2">
      <Button onClick={() => void test()} disabled={busy || disabled}>
        {busy ? 'Testing…' : 'Test connection'}
      </Button>
      {result && (
        <div role="status" className="space-y-2 rounded-md bg-slate-50 p-3 text-sm ring-1 ring-slate-200 dark:bg-slate-800/60 dark:ring-slate-700">
          <p className="flex flex-wrap items-center gap-2">
            <StatusChip status={result.status} />
            {result.status === 'succeeded' && <span>Connected{result.output ? ` as ${result.output.split('\n').pop()}` : ''}.</span>}
            <Link to={`/runs/${result.runId}`} className="text-xs text-indigo-600 hover:underline dark:text-indigo-400">
              run #{result.runId}
            </Link>
          </p>
          {result.output && result.status !== 'succeeded' && <pre className="overflow-x-auto whitespace-pre-wrap text-xs">{result.output}</pre>}
          {result.error && <p className="break-words text-red-600 dark:text-red-400">{result.error}</p>}
        </div>
      )}
      <FormError error={error} />
    </div>
  );
}
