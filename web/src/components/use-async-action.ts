import { useState } from 'react';
import { errorMessage } from '../api/client.ts';

// What every form's submit does around its request: busy while it runs (the button says so),
// the API's message as the form's error when it fails, no error left from the last try.

export function useAsyncAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
