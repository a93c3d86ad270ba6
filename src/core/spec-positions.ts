// Where a path of a job spec is in its YAML/JSON source, so every error can name a line
// and column (1-based). Missing keys resolve to the mapping that should hold them.

import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export type PathSegment = string | number;

export interface Position {
  line: number;
  column: number;
}

export interface SpecPositions {
  /** The value at `path`, or the nearest ancestor that exists. */
  node(path: readonly PathSegment[]): Position | undefined;
  /** The key naming the last segment of `path` (for unknown or misspelt keys). */
  key(path: readonly PathSegment[]): Position | undefined;
  /** Character `offset` of the string value at `path`, when the source shows it verbatim. */
  inString(path: readonly PathSegment[], offset: number): Position | undefined;
}

interface Found {
  node: Node | null;
  keyNode: Node | null;
  complete: boolean;
}

export function yamlPositions(doc: Document, lineCounter: LineCounter, source: string): SpecPositions {
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const start = (node: Node | null): Position | undefined => (node?.range ? at(node.range[0]) : undefined);

  const find = (path: readonly PathSegment[]): Found => {
    let node = doc.contents as Node | null;
    let keyNode: Node | null = null;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) return { node, keyNode: null, complete: false };
        keyNode = pair.key as Node;
        // `key:` with nothing after it has no value node; the key is the place to point at.
        if (pair.value === null) return { node: keyNode, keyNode, complete: false };
        node = pair.value as Node;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
        node = node.items[segment] as Node;
        keyNode = null;
      } else return { node, keyNode: null, complete: false };
    }
    return { node, keyNode, complete: true };
  };

  const sourceLine = (line: number): string => {
    const from = lineCounter.lineStarts[line - 1] ?? source.length;
    const to = lineCounter.lineStarts[line] ?? source.length;
    return source.slice(from, to).replace(/\r?\n$/, '');
  };

  return {
    node: (path) => start(find(path).node),
    key: (path) => {
      const found = find(path);
      return start(found.complete && found.keyNode ? found.keyNode : found.node);
    },
    inString: (path, offset) => {
      const found = find(path);
      const node = found.node;
      if (!found.complete || !isScalar(node) || typeof node.value !== 'string' || !node.range) return start(node);
      const value = node.value;
      if (node.type === 'BLOCK_LITERAL') {
        // A literal block keeps its lines as written after the indentation; find the line.
        const before = value.slice(0, offset);
        const lineIndex = before.split('\n').length - 1;
        const column = offset - (before.lastIndexOf('\n') + 1);
        const line = at(node.range[0]).line + 1 + lineIndex;
        const text = sourceLine(line);
        const valueLine = value.split('\n')[lineIndex] ?? '';
        if (text.endsWith(valueLine)) return { line, column: text.length - valueLine.length + column + 1 };
        return start(node);
      }
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      if (node.type === 'PLAIN' || quoted) {
        const raw = source.slice(node.range[0], node.range[1]);
        const inner = quoted ? raw.slice(1, -1) : raw;
        // Only when the value is written out verbatim on one line (no escapes, no folding).
        if (inner === value && !inner.includes('\n')) return at(node.range[0] + (quoted ? 1 : 0) + offset);
      }
      return start(node);
    },
  };
}
