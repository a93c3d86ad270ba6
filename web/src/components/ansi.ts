import type { CSSProperties } from 'react';

// ANSI escape sequences in step output, turned into styled text. Only SGR (`ESC [ … m`:
// colours, bold, dim, italic, underline, inverse) changes how text looks; every other escape
// (cursor moves, erase, OSC titles and hyperlinks, charset selection) is dropped, so the log
// never shows raw escape codes. The 16 basic colours map to classes that have a light and a
// dark variant (a literal list so Tailwind keeps them); 256-colour and true-colour values
// become inline colours.

export interface AnsiStyle {
  /** A basic colour 0–15, or a CSS colour for 256/true colour. */
  fg?: number | string;
  bg?: number | string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

export interface AnsiSegment {
  text: string;
  style: AnsiStyle | null;
}

/** Foreground classes for black, red, green, yellow, blue, magenta, cyan, white, then the bright ones. */
const FG: readonly string[] = [
  'text-slate-700 dark:text-slate-400',
  'text-red-700 dark:text-red-400',
  'text-green-700 dark:text-green-400',
  'text-yellow-700 dark:text-yellow-300',
  'text-blue-700 dark:text-blue-400',
  'text-fuchsia-700 dark:text-fuchsia-400',
  'text-cyan-700 dark:text-cyan-400',
  'text-slate-500 dark:text-slate-200',
  'text-slate-500 dark:text-slate-500',
  'text-red-600 dark:text-red-300',
  'text-green-600 dark:text-green-300',
  'text-yellow-600 dark:text-yellow-200',
  'text-blue-600 dark:text-blue-300',
  'text-fuchsia-600 dark:text-fuchsia-300',
  'text-cyan-600 dark:text-cyan-300',
  'text-slate-900 dark:text-white',
];

const BG: readonly string[] = [
  'bg-slate-800 text-slate-100',
  'bg-red-200 dark:bg-red-900',
  'bg-green-200 dark:bg-green-900',
  'bg-yellow-200 dark:bg-yellow-900',
  'bg-blue-200 dark:bg-blue-900',
  'bg-fuchsia-200 dark:bg-fuchsia-900',
  'bg-cyan-200 dark:bg-cyan-900',
  'bg-slate-200 dark:bg-slate-700',
  'bg-slate-500 text-white',
  'bg-red-300 dark:bg-red-800',
  'bg-green-300 dark:bg-green-800',
  'bg-yellow-300 dark:bg-yellow-800',
  'bg-blue-300 dark:bg-blue-800',
  'bg-fuchsia-300 dark:bg-fuchsia-800',
  'bg-cyan-300 dark:bg-cyan-800',
  'bg-white text-slate-900',
];

const NAMES = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];

/** A name for a basic colour ("green", "bright red"), for data attributes and tests. */
export function colorName(c: number): string {
  return c < 8 ? NAMES[c]! : `bright-${NAMES[c - 8]!}`;
}

/** The xterm 256-colour palette above the basic 16: a 6×6×6 cube, then 24 greys. */
function xterm256(n: number): number | string {
  if (n < 16) return n;
  if (n < 232) {
    const i = n - 16;
    const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
    return `rgb(${level(Math.floor(i / 36))}, ${level(Math.floor(i / 6) % 6)}, ${level(i % 6)})`;
  }
  const g = 8 + (n - 232) * 10;
  return `rgb(${g}, ${g}, ${g})`;
}

// CSI (ESC [ params final), OSC (ESC ] … BEL or ESC \), and two-character escapes (ESC x).
// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b\[([0-9;:?<=>]*)([ -/]*)([@-~])|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_()*+#%][0-9A-Za-z]?|\u009b[0-9;]*[@-~]/g;
// eslint-disable-next-line no-control-regex
const OTHER_CONTROLS = /[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f]/g;

function isEmpty(s: AnsiStyle): boolean {
  return !s.fg && s.fg !== 0 && !s.bg && s.bg !== 0 && !s.bold && !s.dim && !s.italic && !s.underline && !s.inverse;
}

/** Applies one SGR parameter list to a style, returning the new style. */
function applySgr(style: AnsiStyle, params: string): AnsiStyle {
  const next: AnsiStyle = { ...style };
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c === 0) {
      for (const k of Object.keys(next) as (keyof AnsiStyle)[]) delete next[k];
    } else if (c === 1) next.bold = true;
    else if (c === 2) next.dim = true;
    else if (c === 3) next.italic = true;
    else if (c === 4) next.underline = true;
    else if (c === 7) next.inverse = true;
    else if (c === 22) next.bold = next.dim = false;
    else if (c === 23) next.italic = false;
    else if (c === 24) next.underline = false;
    else if (c === 27) next.inverse = false;
    else if (c >= 30 && c <= 37) next.fg = c - 30;
    else if (c >= 90 && c <= 97) next.fg = c - 90 + 8;
    else if (c === 39) delete next.fg;
    else if (c >= 40 && c <= 47) next.bg = c - 40;
    else if (c >= 100 && c <= 107) next.bg = c - 100 + 8;
    else if (c === 49) delete next.bg;
    else if (c === 38 || c === 48) {
      const mode = codes[i + 1];
      let colour: number | string | undefined;
      if (mode === 5 && codes[i + 2] !== undefined) {
        colour = xterm256(Math.min(255, Math.max(0, codes[i + 2]!)));
        i += 2;
      } else if (mode === 2 && codes[i + 4] !== undefined) {
        const [r, g, b] = [codes[i + 2]!, codes[i + 3]!, codes[i + 4]!].map((v) => Math.min(255, Math.max(0, v)));
        colour = `rgb(${r}, ${g}, ${b})`;
        i += 4;
      } else break; // malformed: ignore the rest of this sequence
      if (c === 38) next.fg = colour;
      else next.bg = colour;
    }
  }
  return next;
}

/**
 * Splits text into styled segments. `state` carries the style over from earlier lines of the
 * same block (a colour set on one line and reset three lines later); it is updated in place.
 */
export function parseAnsi(text: string, state: { style: AnsiStyle } = { style: {} }): AnsiSegment[] {
  const out: AnsiSegment[] = [];
  const push = (t: string) => {
    const clean = t.replace(OTHER_CONTROLS, '');
    if (!clean) return;
    const style = isEmpty(state.style) ? null : state.style;
    const last = out[out.length - 1];
    if (last && last.style === style) last.text += clean;
    else out.push({ text: clean, style });
  };
  if (!text.includes('\u001b') && !text.includes('\u009b')) {
    push(text);
    return out;
  }
  let last = 0;
  ESCAPE.lastIndex = 0;
  for (let m = ESCAPE.exec(text); m; m = ESCAPE.exec(text)) {
    push(text.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[3] === 'm' && m[2] === '' && !m[1]?.match(/[?<=>]/)) state.style = applySgr(state.style, m[1] ?? '');
  }
  push(text.slice(last));
  return out;
}

/** The plain text of segments: what search matches against and what a copy gives. */
export function plainText(segments: AnsiSegment[]): string {
  return segments.map((s) => s.text).join('');
}

/** Class names and inline style for a segment's style. */
export function styleProps(style: AnsiStyle | null): { className?: string; style?: CSSProperties; 'data-ansi'?: string } {
  if (!style) return {};
  let fg = style.fg;
  let bg = style.bg;
  if (style.inverse) [fg, bg] = [bg ?? 15, fg ?? 0];
  const classes: string[] = [];
  const css: CSSProperties = {};
  const names: string[] = [];
  if (typeof fg === 'number') {
    classes.push(FG[fg]!);
    names.push(colorName(fg));
  } else if (fg) css.color = fg;
  if (typeof bg === 'number') {
    classes.push(BG[bg]!);
    names.push(`bg-${colorName(bg)}`);
  } else if (bg) css.backgroundColor = bg;
  if (style.bold) classes.push('font-bold');
  if (style.dim) classes.push('opacity-70');
  if (style.italic) classes.push('italic');
  if (style.underline) classes.push('underline');
  return {
    ...(classes.length ? { className: classes.join(' ') } : {}),
    ...(Object.keys(css).length ? { style: css } : {}),
    ...(names.length ? { 'data-ansi': names.join(' ') } : {}),
  };
}
