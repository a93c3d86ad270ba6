// RFC 4180 CSV: fields with a comma, quote, CR or LF are quoted, quotes doubled; CRLF line
// ends. Dates become ISO 8601, null and undefined an empty field. A field that starts like a
// spreadsheet formula (= + - @, tab, CR) is prefixed with ' so that opening an export in a
// spreadsheet never evaluates text a job printed (CSV injection).

export function csvEncode<T>(columns: readonly (keyof T & string)[], rows: readonly T[]): string {
  const lines = [columns.map(csvField).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
