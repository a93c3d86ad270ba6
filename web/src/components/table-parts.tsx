import type { ReactNode } from 'react';
import { TD, TH } from './ui.tsx';

// Pieces the admin tables share: the unlabelled header over a row's buttons, the cell that
// holds them (right-aligned, never wrapping), and a table that runs to a card's edges.

export function ActionsHeader() {
  return (
    <th className={TH}>
      <span className="sr-only">Actions</span>
    </th>
  );
}

export function ActionsCell({ children }: { children: ReactNode }) {
  return (
    <td className={`${TD} whitespace-nowrap text-right`}>
      <div className="inline-flex gap-1.5">{children}</div>
    </td>
  );
}

/** A table inside a Card: edge to edge, scrolling sideways on a phone. */
export function CardTable({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="-mx-4 overflow-x-auto">
      <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800" aria-label={label}>
        {children}
      </table>
    </div>
  );
}
