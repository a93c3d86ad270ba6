import type { SelectHTMLAttributes } from 'react';
import { Select } from './ui.tsx';

// A select over a list of choices: plain strings (the value is the label) or value and label.
// The filter bars and the role and expiry pickers use it.

export type SelectOption = string | { value: string; label: string };

export function OptionsSelect({
  options,
  onValue,
  ...props
}: Omit<SelectHTMLAttributes<HTMLSelectElement>, 'onChange' | 'children'> & { options: readonly SelectOption[]; onValue: (value: string) => void }) {
  return (
    <Select {...props} onChange={(e) => onValue(e.target.value)}>
      {options.map((o) => {
        const { value, label } = typeof o === 'string' ? { value: o, label: o } : o;
        return (
          <option key={value} value={value}>
            {label}
          </option>
        );
      })}
    </Select>
  );
}
