// Just enough of a bash/sh lexer to know the quoting context at given offsets of a script,
// so script.ts can write a variable reference that the shell expands exactly once and never
// word-splits. It tracks quotes, escapes, comments, $( ) and backticks (where quoting starts
// afresh), $(( )) arithmetic and here-documents.
//
// Getting a context wrong can make a reference expand to the wrong text, but never lets a
// value run as code: values are not in the script at all, only variable names are.
// Known gap: a `case` pattern's `)` inside $( ) ends the substitution early here.

export type PosixContext =
  | 'unquoted'
  | 'double' // "...", or $"..." in bash
  | 'single' // '...'
  | 'ansi' // $'...' (bash only)
  | 'comment'
  | 'heredoc' // body of <<EOF: expanded like "...", but quotes are literal
  | 'quoted-heredoc' // body of <<'EOF': never expanded
  | 'arithmetic' // $(( )), (( ))
  | 'escaped'; // right after a backslash

export type PosixDialect = 'bash' | 'sh';

interface Heredoc {
  delimiter: string;
  stripTabs: boolean;
  quoted: boolean;
}

type Frame =
  | { kind: 'cmd'; closer: ')' | '`' | null; depth: number; wordStart: boolean; pending: Heredoc[] }
  | { kind: 'double' }
  | { kind: 'single' }
  | { kind: 'ansi' }
  | { kind: 'comment' }
  | { kind: 'arithmetic'; depth: number }
  | { kind: 'heredoc'; doc: Heredoc; lineStart: boolean };

const WORD_BREAK = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);

function cmd(closer: ')' | '`' | null): Frame {
  return { kind: 'cmd', closer, depth: 0, wordStart: true, pending: [] };
}

function contextOf(frame: Frame): PosixContext {
  switch (frame.kind) {
    case 'cmd':
      return 'unquoted';
    case 'heredoc':
      return frame.doc.quoted ? 'quoted-heredoc' : 'heredoc';
    default:
      return frame.kind;
  }
}

/** The quoting context at each of `offsets` (offsets the lexer never stops at are absent). */
export function posixContexts(text: string, offsets: ReadonlySet<number>, dialect: PosixDialect): Map<number, PosixContext> {
  const found = new Map<number, PosixContext>();
  const stack: Frame[] = [cmd(null)];
  let i = 0;

  const push = (frame: Frame, width: number): void => {
    const top = stack.at(-1)!;
    if (top.kind === 'cmd') top.wordStart = false;
    stack.push(frame);
    i += width;
  };
  const pop = (width: number): void => {
    if (stack.length > 1) stack.pop();
    const top = stack.at(-1)!;
    if (top.kind === 'cmd') top.wordStart = false;
    i += width;
  };
  const escape = (): void => {
    if (offsets.has(i + 1)) found.set(i + 1, 'escaped');
    i += 2;
  };
  // $( starts a command substitution, $(( arithmetic; both may appear in every expanding context.
  const dollar = (): boolean => {
    if (text[i + 1] !== '(') return false;
    if (text[i + 2] === '(') push({ kind: 'arithmetic', depth: 0 }, 3);
    else push(cmd(')'), 2);
    return true;
  };

  while (i < text.length) {
    const top = stack.at(-1)!;
    if (top.kind === 'heredoc' && top.lineStart) {
      const newline = text.indexOf('\n', i);
      const lineEnd = newline < 0 ? text.length : newline;
      const line = text.slice(i, lineEnd);
      if ((top.doc.stripTabs ? line.replace(/^\t+/, '') : line) === top.doc.delimiter) {
        stack.pop();
        i = lineEnd + 1;
        continue;
      }
      top.lineStart = false;
    }
    if (offsets.has(i) && !found.has(i)) found.set(i, contextOf(top));
    const c = text[i]!;
    const next = text[i + 1];
    switch (top.kind) {
      case 'single':
        if (c === "'") pop(1);
        else i += 1;
        break;
      case 'ansi':
        if (c === '\\') escape();
        else if (c === "'") pop(1);
        else i += 1;
        break;
      case 'comment':
        // The newline is left for the command frame: it may start here-document bodies.
        if (c === '\n') stack.pop();
        else i += 1;
        break;
      case 'double':
        if (c === '\\') escape();
        else if (c === '"') pop(1);
        else if (c === '`') push(cmd('`'), 1);
        else if (!(c === '$' && dollar())) i += 1;
        break;
      case 'arithmetic':
        if (c === '\\') escape();
        else if (c === '$' && dollar()) break;
        else if (c === '(') {
          top.depth += 1;
          i += 1;
        } else if (c === ')' && top.depth === 0 && next === ')') pop(2);
        else {
          if (c === ')') top.depth = Math.max(0, top.depth - 1);
          i += 1;
        }
        break;
      case 'heredoc':
        if (c === '\n') {
          top.lineStart = true;
          i += 1;
        } else if (top.doc.quoted) i += 1;
        else if (c === '\\') escape();
        else if (c === '`') push(cmd('`'), 1);
        else if (!(c === '$' && dollar())) i += 1;
        break;
      case 'cmd':
        lexCommandChar(top, c, next);
        break;
    }
  }
  return found;

  function lexCommandChar(top: Extract<Frame, { kind: 'cmd' }>, c: string, next: string | undefined): void {
    if (c === '\\') {
      if (next !== '\n') top.wordStart = false;
      escape();
    } else if (c === "'") push({ kind: 'single' }, 1);
    else if (c === '"') push({ kind: 'double' }, 1);
    else if (c === '`') {
      if (top.closer === '`') pop(1);
      else push(cmd('`'), 1);
    } else if (c === '$') {
      if (dialect === 'bash' && next === "'") push({ kind: 'ansi' }, 2);
      else if (!dollar()) {
        top.wordStart = false;
        i += 1;
      }
    } else if (c === '#' && top.wordStart) push({ kind: 'comment' }, 1);
    else if (c === '(' && dialect === 'bash' && top.wordStart && next === '(') push({ kind: 'arithmetic', depth: 0 }, 2);
    else if (c === ')' && top.closer === ')' && top.depth === 0) pop(1);
    else if (c === '<' && next === '<') {
      if (text[i + 2] === '<') i += 3; // a here-string, <<<word
      else readHeredocOperator(top);
      top.wordStart = true;
    } else if (c === '\n') {
      // Bodies of here-documents opened on this line follow it, first operator first.
      for (const doc of top.pending.reverse()) stack.push({ kind: 'heredoc', doc, lineStart: true });
      top.pending = [];
      top.wordStart = true;
      i += 1;
    } else {
      if (c === '(') top.depth += 1;
      if (c === ')') top.depth = Math.max(0, top.depth - 1);
      top.wordStart = WORD_BREAK.has(c);
      i += 1;
    }
  }

  // `<<[-] word`: the delimiter is the word with its quotes removed; any quoting makes the
  // body literal.
  function readHeredocOperator(top: Extract<Frame, { kind: 'cmd' }>): void {
    let j = i + 2;
    const stripTabs = text[j] === '-';
    if (stripTabs) j += 1;
    while (text[j] === ' ' || text[j] === '\t') j += 1;
    let delimiter = '';
    let quoted = false;
    while (j < text.length && !WORD_BREAK.has(text[j]!)) {
      const ch = text[j]!;
      if (ch === "'" || ch === '"') {
        quoted = true;
        let k = j + 1;
        while (k < text.length && text[k] !== ch) {
          if (ch === '"' && text[k] === '\\' && k + 1 < text.length) k += 1;
          delimiter += text[k];
          k += 1;
        }
        j = k + 1;
      } else if (ch === '\\') {
        quoted = true;
        delimiter += text[j + 1] ?? '';
        j += 2;
      } else {
        delimiter += ch;
        j += 1;
      }
    }
    if (delimiter !== '') top.pending.push({ delimiter, stripTabs, quoted });
    i = j;
  }
}
