// A line diff of two texts (job sources of two versions) in unified format, from a longest
// common subsequence. Quadratic, so it is bounded: job specs are tens to hundreds of lines.

export const DIFF_MAX_LINES = 5000;

export interface DiffResult {
  /** Unified diff text (`--- a`, `+++ b`, `@@` hunks); empty when the texts are equal. */
  unified: string;
  added: number;
  removed: number;
}

type Edit = { op: ' ' | '-' | '+'; line: string };

export function diffLines(a: string, b: string, labels: { from: string; to: string }, context = 3): DiffResult {
  const x = splitLines(a);
  const y = splitLines(b);
  if (x.length > DIFF_MAX_LINES || y.length > DIFF_MAX_LINES) {
    throw new RangeError(`texts longer than ${DIFF_MAX_LINES} lines are not diffed`);
  }
  const edits = lcsEdits(x, y);
  const added = edits.filter((e) => e.op === '+').length;
  const removed = edits.filter((e) => e.op === '-').length;
  if (added === 0 && removed === 0) return { unified: '', added, removed };
  return { unified: [`--- ${labels.from}`, `+++ ${labels.to}`, ...hunks(edits, context)].join('\n') + '\n', added, removed };
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function lcsEdits(x: string[], y: string[]): Edit[] {
  const n = x.length;
  const m = y.length;
  // lengths[i][j]: LCS length of x[i..] and y[j..], in one flat array.
  const w = m + 1;
  const lengths = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * w + j] = x[i] === y[j] ? lengths[(i + 1) * w + j + 1]! + 1 : Math.max(lengths[(i + 1) * w + j]!, lengths[i * w + j + 1]!);
    }
  }
  const edits: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      edits.push({ op: ' ', line: x[i]! });
      i++;
      j++;
    } else if (lengths[(i + 1) * w + j]! >= lengths[i * w + j + 1]!) {
      edits.push({ op: '-', line: x[i++]! });
    } else {
      edits.push({ op: '+', line: y[j++]! });
    }
  }
  while (i < n) edits.push({ op: '-', line: x[i++]! });
  while (j < m) edits.push({ op: '+', line: y[j++]! });
  return edits;
}

function hunks(edits: Edit[], context: number): string[] {
  const out: string[] = [];
  const changed = edits.map((e, k) => (e.op === ' ' ? -1 : k)).filter((k) => k >= 0);
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - context);
    let end = Math.min(edits.length, changed[k]! + context + 1);
    // Merge changes whose context overlaps into one hunk.
    while (k + 1 < changed.length && changed[k + 1]! - context <= end) {
      k++;
      end = Math.min(edits.length, changed[k]! + context + 1);
    }
    k++;
    let oldLine = 1;
    let newLine = 1;
    for (let e = 0; e < start; e++) {
      if (edits[e]!.op !== '+') oldLine++;
      if (edits[e]!.op !== '-') newLine++;
    }
    const slice = edits.slice(start, end);
    const oldCount = slice.filter((e) => e.op !== '+').length;
    const newCount = slice.filter((e) => e.op !== '-').length;
    out.push(`@@ -${oldCount === 0 ? oldLine - 1 : oldLine},${oldCount} +${newCount === 0 ? newLine - 1 : newLine},${newCount} @@`);
    for (const e of slice) out.push(e.op + e.line);
  }
  return out;
}
