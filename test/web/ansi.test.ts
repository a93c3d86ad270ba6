import { describe, expect, it } from 'vitest';
import { parseAnsi, plainText, styleProps } from '../../web/src/components/ansi.ts';

// The log view's ANSI parser, without a browser: colours and attributes become styles, every
// other escape sequence disappears, and a style set on one line carries to the next.

describe('parseAnsi', () => {
  it('turns SGR colours into styled segments and shows no escape codes', () => {
    const segs = parseAnsi('\u001b[32mgreen\u001b[0m and \u001b[1;31mbold red\u001b[m.');
    expect(plainText(segs)).toBe('green and bold red.');
    expect(segs.map((s) => [s.text, s.style])).toEqual([
      ['green', { fg: 2 }],
      [' and ', null],
      ['bold red', { bold: true, fg: 1 }],
      ['.', null],
    ]);
    expect(styleProps(segs[0]!.style)['data-ansi']).toBe('green');
    expect(styleProps(segs[0]!.style).className).toContain('text-green-');
  });

  it('reads bright, 256-colour and true-colour values, and backgrounds', () => {
    const [bright, x256, rgb, bg] = parseAnsi('\u001b[92ma\u001b[38;5;196mb\u001b[38;2;1;2;3mc\u001b[0;44md');
    expect(bright!.style).toEqual({ fg: 10 });
    expect(x256!.style).toEqual({ fg: 'rgb(255, 0, 0)' });
    expect(rgb!.style).toEqual({ fg: 'rgb(1, 2, 3)' });
    expect(bg!.style).toEqual({ bg: 4 });
    expect(styleProps(rgb!.style).style).toEqual({ color: 'rgb(1, 2, 3)' });
    expect(styleProps(bright!.style)['data-ansi']).toBe('bright-green');
  });

  it('drops cursor moves, erases, OSC titles and links, and stray control characters', () => {
    const text = '\u001b[2K\u001b[1Gprogress\u001b]0;title\u0007 \u001b]8;;https://x\u001b\\link\u001b]8;;\u001b\\\u001b(B done\u0007\r';
    expect(plainText(parseAnsi(text))).toBe('progress link done');
  });

  it('carries a style from one line to the next when given the same state', () => {
    const state = { style: {} };
    expect(parseAnsi('\u001b[33mwarn', state)[0]!.style).toEqual({ fg: 3 });
    expect(parseAnsi('still yellow\u001b[39m', state)[0]!.style).toEqual({ fg: 3 });
    expect(parseAnsi('plain', state)[0]!.style).toBeNull();
  });

  it('leaves text without escapes alone, and ignores malformed colour sequences', () => {
    expect(parseAnsi('just text')).toEqual([{ text: 'just text', style: null }]);
    expect(plainText(parseAnsi('\u001b[38;5mx'))).toBe('x');
    expect(parseAnsi('')).toEqual([]);
  });
});
