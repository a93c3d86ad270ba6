import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { Compartment, EditorState, Transaction, type Extension, type Text } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { useEffect, useRef } from 'react';
import type { ValidationError } from '../api/jobs.ts';

// The job definition editor: CodeMirror 6 with YAML highlighting, and the API's validation
// problems drawn at their line (gutter marker and underline) as the spec is typed. The parent
// owns the text and the validation (one debounced POST /jobs/validate); this only shows them.
// Tab indents (YAML is indentation); Escape then Tab moves focus on, so the keyboard is never
// trapped (CodeMirror's tab focus mode, as the WAI-ARIA practice for code editors asks).

// Colours as Tailwind classes, so light and dark mode follow the page.
const highlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], class: 'text-indigo-700 dark:text-indigo-300' },
  { tag: [tags.string, tags.special(tags.string)], class: 'text-emerald-700 dark:text-emerald-300' },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], class: 'text-amber-700 dark:text-amber-300' },
  { tag: [tags.comment, tags.lineComment], class: 'text-slate-500 italic dark:text-slate-400' },
  { tag: [tags.keyword, tags.typeName, tags.meta], class: 'text-fuchsia-700 dark:text-fuchsia-300' },
  { tag: [tags.punctuation, tags.separator, tags.squareBracket, tags.brace], class: 'text-slate-500 dark:text-slate-400' },
]);

const theme = EditorView.theme({
  '&': { backgroundColor: 'transparent', color: 'inherit', fontSize: '13px' },
  '&.cm-focused': { outline: 'none' },
  '.cm-content': { fontFamily: 'var(--font-mono)', padding: '8px 0', caretColor: 'currentColor' },
  '.cm-scroller': { fontFamily: 'var(--font-mono)', lineHeight: '1.6' },
  '.cm-gutters': { backgroundColor: 'transparent', border: 'none', color: 'rgb(148 163 184)' },
  '.cm-activeLine': { backgroundColor: 'rgb(99 102 241 / 0.06)' },
  '.cm-activeLineGutter': { backgroundColor: 'rgb(99 102 241 / 0.10)' },
  '.cm-cursor': { borderLeftColor: 'currentColor' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground': { backgroundColor: 'rgb(99 102 241 / 0.25) !important' },
  // The wrapper sets these per colour scheme (Tailwind's dark variant cannot reach in here).
  '.cm-tooltip': { backgroundColor: 'var(--cm-tip-bg)', color: 'var(--cm-tip-fg)', border: '1px solid var(--cm-tip-border)', borderRadius: '6px' },
  '.cm-diagnostic-error': { borderLeftColor: 'var(--color-red-600)' },
});

// ---- Diagnostics from the API's validation errors ------------------------------------------

export function diagnosticsFor(doc: Text, errors: readonly ValidationError[]): Diagnostic[] {
  return errors.map((e) => {
    const lineNo = Math.min(Math.max(e.line ?? 1, 1), doc.lines);
    const line = doc.line(lineNo);
    const from = Math.min(line.from + Math.max((e.column ?? 1) - 1, 0), line.to);
    // Underline the word the problem starts at, or the rest of the line.
    const rest = doc.sliceString(from, line.to);
    const word = /^[^\s:,\]}]+/.exec(rest)?.[0].length ?? rest.trimEnd().length;
    const to = Math.max(from + word, Math.min(from + 1, line.to));
    return { from, to, severity: 'error', message: e.path ? `${e.path}: ${e.message}` : e.message, source: 'hostrun' };
  });
}

export interface YamlEditorProps {
  value: string;
  onChange?: (value: string) => void;
  /** Ctrl/Cmd+S. */
  onSave?: () => void;
  /** The accessible name of the text area. */
  label: string;
  errors?: readonly ValidationError[];
  readOnly?: boolean;
  /** Moves the cursor to this line (1-based) and focuses the editor; bump `focusNonce` to repeat. */
  focusLine?: { line: number; nonce: number } | null;
  minHeight?: string;
}

export function YamlEditor({ value, onChange, onSave, label, errors = [], readOnly = false, focusLine = null, minHeight = '22rem' }: YamlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const onSaveRef = useRef(onSave);
  onSaveRef.current = onSave;
  const editable = useRef(new Compartment());

  useEffect(() => {
    const extensions: Extension[] = [
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightActiveLine(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      yaml(),
      syntaxHighlighting(highlight),
      lintGutter(),
      history(),
      keymap.of([{ key: 'Mod-s', preventDefault: true, run: () => (onSaveRef.current?.(), true) }, ...defaultKeymap, ...historyKeymap, indentWithTab]),
      EditorState.tabSize.of(2),
      theme,
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ 'aria-label': label, spellcheck: 'false', autocapitalize: 'off', autocorrect: 'off' }),
      EditorView.theme({ '.cm-content, .cm-gutter': { minHeight } }),
      editable.current.of([EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)]),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) onChangeRef.current?.(u.state.doc.toString());
      }),
    ];
    const v = new EditorView({ state: EditorState.create({ doc: value, extensions }), parent: host.current! });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The editor is created once; later changes of value/readOnly/errors are dispatched below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // A value from outside (a loaded version, a reset) replaces the text; the editor's own
  // edits come back equal and change nothing.
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const current = v.state.doc.toString();
    if (current !== value) v.dispatch({ changes: { from: 0, to: current.length, insert: value }, annotations: Transaction.addToHistory.of(false) });
  }, [value]);

  useEffect(() => {
    view.current?.dispatch({ effects: editable.current.reconfigure([EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)]) });
  }, [readOnly]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    v.dispatch(setDiagnostics(v.state, diagnosticsFor(v.state.doc, errors)));
  }, [errors, value]);

  useEffect(() => {
    const v = view.current;
    if (!v || !focusLine) return;
    const line = v.state.doc.line(Math.min(Math.max(focusLine.line, 1), v.state.doc.lines));
    v.dispatch({ selection: { anchor: line.from }, scrollIntoView: true });
    v.focus();
  }, [focusLine]);

  return (
    <div
      ref={host}
      className={`overflow-hidden rounded-lg bg-white [--cm-tip-bg:var(--color-white)] [--cm-tip-border:var(--color-slate-300)] [--cm-tip-fg:var(--color-slate-900)] dark:[--cm-tip-bg:var(--color-slate-800)] dark:[--cm-tip-border:var(--color-slate-600)] dark:[--cm-tip-fg:var(--color-slate-100)] shadow-sm ring-1 ring-inset focus-within:ring-2 focus-within:ring-indigo-500 dark:bg-slate-900 ${errors.length > 0 ? 'ring-red-400 dark:ring-red-700' : 'ring-slate-300 dark:ring-slate-700'} ${readOnly ? 'opacity-90' : ''}`}
    />
  );
}
