import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { jobNames, RUN_STATUS_FILTERS, RUN_TRIGGER_FILTERS, type RunFilters } from '../api/runs.ts';
import type { ReactNode } from 'react';
import { OptionsSelect } from './options-select.tsx';
import { Button } from './ui.tsx';

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
  // A status typed into the URL by hand stays shown as it is.
  const statusKnown = RUN_STATUS_FILTERS.some((o) => o.value === filters.status);
  const statuses = statusKnown ? RUN_STATUS_FILTERS : [filters.status, ...RUN_STATUS_FILTERS];
  return (
    <div className="mb-4 flex flex-wrap items-end gap-3" role="group" aria-label="Filter runs">
      <FilterField id="filter-job" label="Job" width="w-full sm:w-56">
        <OptionsSelect id="filter-job" value={filters.job} onValue={(job) => onChange({ job })} options={[{ value: '', label: 'All jobs' }, ...options]} />
      </FilterField>
      <FilterField id="filter-status" label="Status" width="w-[calc(50%-0.375rem)] sm:w-56">
        <OptionsSelect id="filter-status" value={filters.status} onValue={(status) => onChange({ status })} options={statuses} />
      </FilterField>
      <FilterField id="filter-trigger" label="Trigger" width="w-[calc(50%-0.375rem)] sm:w-44">
        <OptionsSelect id="filter-trigger" value={filters.trigger} onValue={(trigger) => onChange({ trigger })} options={RUN_TRIGGER_FILTERS} />
      </FilterField>
      {any && (
        <Button variant="ghost" onClick={() => onChange({ job: '', status: '', trigger: '' })}>
          Clear filters
        </Button>
      )}
    </div>
  );
}

function FilterField({ id, label, width, children }: { id: string; label: string; width: string; children: ReactNode }) {
  return (
    <div className={width}>
      <label htmlFor={id} className="mb-1 block text-xs font-medium text-slate-600 dark:text-slate-300">
        {label}
      </label>
      {children}
    </div>
  );
}
