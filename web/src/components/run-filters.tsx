import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { jobNames, RUN_STATUS_FILTERS, RUN_TRIGGER_FILTERS, type RunFilters } from '../api/runs.ts';
import { Button, Select } from './ui.tsx';

// The runs list's filters live in the URL (?job=&status=&trigger=), so a filtered list
// survives a reload and can be shared as a link.

export function useRunFilters(): [RunFilters, (next: Partial<RunFilters>) => void] {
  const [params, setParams] = useSearchParams();
  const filters: RunFilters = { job: params.get('job') ?? '', status: params.get('status') ?? '', trigger: params.get('trigger') ?? '' };
  const update = (next: Partial<RunFilters>) => {
    const merged = { ...filters, ...next };
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(merged)) if (v) p.set(k, v);
    setParams(p, { replace: true });
  };
  return [filters, update];
}

export function RunFiltersBar({ filters, onChange }: { filters: RunFilters; onChange: (next: Partial<RunFilters>) => void }) {
  const jobs = useQuery({ queryKey: ['run-filter-jobs'], queryFn: ({ signal }) => jobNames(signal), staleTime: 60_000 });
  const names = jobs.data ?? [];
  // A job named in the URL stays selectable even when it was deleted or the list failed.
  const options = filters.job && !names.includes(filters.job) ? [filters.job, ...names] : names;
  const any = filters.job || filters.status || filters.trigger;
  const statusKnown = RUN_STATUS_FILTERS.some((o) => o.value === filters.status);
  return (
    <div className="mb-4 flex flex-wrap items-end gap-3" role="group" aria-label="Filter runs">
      <div className="w-full sm:w-56">
        <label htmlFor="filter-job" className="mb-1 block text-xs font-medium text-slate-600 dark:text-slate-300">
          Job
        </label>
        <Select id="filter-job" value={filters.job} onChange={(e) => onChange({ job: e.target.value })}>
          <option value="">All jobs</option>
          {options.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </Select>
      </div>
      <div className="w-[calc(50%-0.375rem)] sm:w-56">
        <label htmlFor="filter-status" className="mb-1 block text-xs font-medium text-slate-600 dark:text-slate-300">
          Status
        </label>
        <Select id="filter-status" value={filters.status} onChange={(e) => onChange({ status: e.target.value })}>
          {!statusKnown && <option value={filters.status}>{filters.status}</option>}
          {RUN_STATUS_FILTERS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </Select>
      </div>
      <div className="w-[calc(50%-0.375rem)] sm:w-44">
        <label htmlFor="filter-trigger" className="mb-1 block text-xs font-medium text-slate-600 dark:text-slate-300">
          Trigger
        </label>
        <Select id="filter-trigger" value={filters.trigger} onChange={(e) => onChange({ trigger: e.target.value })}>
          {RUN_TRIGGER_FILTERS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </Select>
      </div>
      {any && (
        <Button variant="ghost" onClick={() => onChange({ job: '', status: '', trigger: '' })}>
          Clear filters
        </Button>
      )}
    </div>
  );
}
