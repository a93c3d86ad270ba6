// A form's error (the API's message, or what to fix), announced when it appears.

export function FormError({ error, className = '' }: { error: string | null | undefined; className?: string }) {
  if (!error) return null;
  return (
    <p role="alert" className={`break-words text-sm text-red-600 dark:text-red-400 ${className}`}>
      {error}
    </p>
  );
}
