// Parses what a step wrote to `$HOSTRUN_OUTPUT`, in GitHub's GITHUB_OUTPUT format:
//   name=value              one line
//   name<<DELIMITER         several lines, up to a line that is exactly DELIMITER
// Later lines win. Malformed lines are ignored rather than failing a step that succeeded.

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Outputs are small by design (they end up in expressions and the database). */
export const MAX_OUTPUTS_BYTES = 1024 * 1024;

export function parseStepOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.slice(0, MAX_OUTPUTS_BYTES).split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && lines[j] !== delimiter) body.push(lines[j++]!);
      if (j < lines.length && NAME.test(name!)) out[name!] = body.join('\n');
      i = j;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const name = line.slice(0, eq);
    if (NAME.test(name)) out[name] = line.slice(eq + 1);
  }
  return out;
}
