// Just enough of a PowerShell lexer to know the quoting context at given offsets of a
// script (see posix-lexer.ts for why). PowerShell treats the typographic quotes as quotes
// too: ‘ ’ ‚ ‛ like ', and “ ” „ like ". Doubled quotes inside a string ('' and "") need
// no special case: closing and reopening leaves the same context.

export type PowerShellContext =
  | 'unquoted'
  | 'double' // "..." and @"..."@: variables expand, the value is not parsed again
  | 'single' // '...' and @'...'@: nothing expands
  | 'comment'
  | 'braced' // inside ${...}, a variable name
  | 'escaped'; // right after a backtick

export const POWERSHELL_SINGLE_QUOTES = "'\u2018\u2019\u201A\u201B";
export const POWERSHELL_DOUBLE_QUOTES = '"\u201C\u201D\u201E';

type Frame =
  | { kind: 'cmd'; closer: ')' | null; depth: number; tokenStart: boolean }
  | { kind: 'double' }
  | { kind: 'single' }
  | { kind: 'here-double'; lineStart: boolean }
  | { kind: 'here-single'; lineStart: boolean }
  | { kind: 'line-comment' }
  | { kind: 'block-comment' }
  | { kind: 'braced' };

const TOKEN_BREAK = new Set([' ', '\t', '\r', '\n', ';', '|', '(', ')', '{', '}', '&', ',']);

const isSingle = (c: string | undefined): boolean => c !== undefined && c !== '' && POWERSHELL_SINGLE_QUOTES.includes(c);
const isDouble = (c: string | undefined): boolean => c !== undefined && c !== '' && POWERSHELL_DOUBLE_QUOTES.includes(c);

function contextOf(frame: Frame): PowerShellContext {
  switch (frame.kind) {
    case 'cmd':
      return 'unquoted';
    case 'double':
    case 'here-double':
      return 'double';
    case 'single':
    case 'here-single':
      return 'single';
    case 'line-comment':
    case 'block-comment':
      return 'comment';
    case 'braced':
      return 'braced';
  }
}

/** The quoting context at each of `offsets` (offsets the lexer never stops at are absent). */
export function powerShellContexts(text: string, offsets: ReadonlySet<number>): Map<number, PowerShellContext> {
  const found = new Map<number, PowerShellContext>();
  const stack: Frame[] = [{ kind: 'cmd', closer: null, depth: 0, tokenStart: true }];
  let i = 0;

  const push = (frame: Frame, width: number): void => {
    const top = stack.at(-1)!;
    if (top.kind === 'cmd') top.tokenStart = false;
    stack.push(frame);
    i += width;
  };
  const pop = (width: number): void => {
    if (stack.length > 1) stack.pop();
    const top = stack.at(-1)!;
    if (top.kind === 'cmd') top.tokenStart = false;
    i += width;
  };
  const escape = (): void => {
    if (offsets.has(i + 1)) found.set(i + 1, 'escaped');
    i += 2;
  };
  // $( and ${ work outside strings and inside expandable ones.
  const dollar = (): boolean => {
    if (text[i + 1] === '(') push({ kind: 'cmd', closer: ')', depth: 0, tokenStart: true }, 2);
    else if (text[i + 1] === '{') push({ kind: 'braced' }, 2);
    else return false;
    return true;
  };
  // A here-string opener (@" or @') must be the last thing on its line.
  const hereStringOpener = (): number => {
    const m = /^[ \t]*\r?\n/.exec(text.slice(i + 2, i + 2 + 256));
    return m ? 2 + m[0].length : 0;
  };

  while (i < text.length) {
    const top = stack.at(-1)!;
    if ((top.kind === 'here-double' || top.kind === 'here-single') && top.lineStart) {
      top.lineStart = false;
      const quote = top.kind === 'here-double' ? isDouble : isSingle;
      if (quote(text[i]) && text[i + 1] === '@') {
        pop(2);
        continue;
      }
    }
    if (offsets.has(i) && !found.has(i)) found.set(i, contextOf(top));
    const c = text[i]!;
    const next = text[i + 1];
    switch (top.kind) {
      case 'single':
        if (isSingle(c)) pop(1);
        else i += 1;
        break;
      case 'here-single':
        if (c === '\n') top.lineStart = true;
        i += 1;
        break;
      case 'double':
        if (c === '`') escape();
        else if (isDouble(c)) pop(1);
        else if (!(c === '$' && dollar())) i += 1;
        break;
      case 'here-double':
        if (c === '`') escape();
        else if (c === '$' && dollar()) break;
        else {
          if (c === '\n') top.lineStart = true;
          i += 1;
        }
        break;
      case 'braced':
        if (c === '`') escape();
        else if (c === '}') pop(1);
        else i += 1;
        break;
      case 'line-comment':
        if (c === '\n') stack.pop();
        else i += 1;
        break;
      case 'block-comment':
        if (c === '#' && next === '>') pop(2);
        else i += 1;
        break;
      case 'cmd': {
        if (c === '`') {
          top.tokenStart = false;
          escape();
        } else if (isSingle(c)) push({ kind: 'single' }, 1);
        else if (isDouble(c)) push({ kind: 'double' }, 1);
        else if (c === '@' && (isDouble(next) || isSingle(next)) && hereStringOpener() > 0) {
          const width = hereStringOpener();
          push(isDouble(next) ? { kind: 'here-double', lineStart: true } : { kind: 'here-single', lineStart: true }, width);
        } else if (c === '<' && next === '#') push({ kind: 'block-comment' }, 2);
        else if (c === '#' && top.tokenStart) push({ kind: 'line-comment' }, 1);
        else if (c === '$' && dollar()) break;
        else if (c === ')' && top.closer === ')' && top.depth === 0) pop(1);
        else {
          if (c === '(') top.depth += 1;
          if (c === ')') top.depth = Math.max(0, top.depth - 1);
          top.tokenStart = TOKEN_BREAK.has(c);
          i += 1;
        }
        break;
      }
    }
  }
  return found;
}
