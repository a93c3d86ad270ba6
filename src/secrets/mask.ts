// Replaces every secret value a run uses with *** wherever it could surface: stored and
// streamed logs, error messages, step outputs. Besides the raw value it looks for the forms a
// script is likely to print it in: each line of a multi-line value, base64 (standard and
// URL-safe, at each of the three byte alignments it can have inside a longer encoding), JSON
// string escaping and URL encoding.

export const MASK = '***';
/**
 * Values shorter than this are not masked: replacing every "1" or "ok" in a log would make it
 * unreadable while protecting nothing (such a value is guessable anyway).
 */
export const MIN_MASKED_LENGTH = 4;

export class Masker {
  private readonly pattern: RegExp | null;
  /** Longest text that is replaced; a writer keeps at least this much unflushed at a cut. */
  readonly maxLength: number;

  constructor(values: Iterable<string>) {
    const forms = new Set<string>();
    for (const value of values) for (const form of formsOf(value)) if (form.length >= MIN_MASKED_LENGTH) forms.add(form);
    const sorted = [...forms].sort((a, b) => b.length - a.length);
    this.maxLength = sorted[0]?.length ?? 0;
    this.pattern = sorted.length > 0 ? new RegExp(sorted.map(escapeRegExp).join('|'), 'g') : null;
  }

  get empty(): boolean {
    return this.pattern === null;
  }

  mask(text: string): string {
    return this.pattern ? text.replace(this.pattern, MASK) : text;
  }

  /** Masks strings anywhere inside a JSON-like value (outputs, errors). */
  maskDeep<T>(value: T): T {
    if (!this.pattern || value === null || value === undefined) return value;
    if (typeof value === 'string') return this.mask(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.maskDeep(v)) as T;
    if (typeof value === 'object') {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, this.maskDeep(v)])) as T;
    }
    return value;
  }
}

function formsOf(value: string): string[] {
  if (value.length === 0) return [];
  const forms = [value];
  for (const line of value.split(/\r?\n/)) if (line.trim().length > 0) forms.push(line, line.trim());
  const json = JSON.stringify(value).slice(1, -1);
  forms.push(json);
  forms.push(encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+'));
  const bytes = Buffer.from(value, 'utf8');
  forms.push(bytes.toString('base64'), bytes.toString('base64url'));
  for (let offset = 0; offset < 3; offset++) {
    const b64 = base64Inner(bytes, offset);
    if (b64) forms.push(b64, b64.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}

/**
 * The part of base64(prefix + bytes) that depends on `bytes` alone, for a prefix of `offset`
 * unknown bytes: what any encoding that contains the value at that alignment must contain.
 */
function base64Inner(bytes: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64').replace(/=+$/, '');
  // Characters carrying bits of the prefix (2 for one byte, 3 for two) are unknown.
  const start = offset === 0 ? 0 : offset === 1 ? 2 : 3;
  // A trailing partial group's last character also carries bits of whatever follows.
  const end = (offset + bytes.length) % 3 === 0 ? encoded.length : encoded.length - 1;
  return encoded.slice(start, end);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
