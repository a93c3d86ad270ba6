// Typed errors with a stable `code`. Every layer throws these; the server maps them to
// HTTP statuses and the CLI to exit codes in exactly one place each (server/errors.ts,
// cli/output.ts), so a message a user sees never carries a stack trace.

export type ErrorCode =
  | 'invalid_spec' // a job spec (YAML/JSON) that does not validate
  | 'invalid_input' // run-time input overrides that do not fit the job's inputs
  | 'invalid_request' // a request body or query that does not validate
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited' // too many attempts (sign-in); retry later
  | 'unsupported' // a valid request the target cannot honour (e.g. cmd and a value it cannot quote)
  | 'database' // Postgres refused or is unreachable
  | 'unavailable' // the server cannot be reached (CLI side)
  | 'internal';

export interface ErrorDetail {
  /** Where the problem is: `steps[1].run`, `inputs.ip`, a query parameter. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export class HostrunError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];

  constructor(code: ErrorCode, message: string, options: { details?: ErrorDetail[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HostrunError';
    this.code = code;
    this.details = options.details ?? [];
  }
}

export class SpecError extends HostrunError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super('invalid_spec', message, { details });
    this.name = 'SpecError';
  }
}

export class InputError extends HostrunError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super('invalid_input', message, { details });
    this.name = 'InputError';
  }
}

export class NotFoundError extends HostrunError {
  constructor(what: string) {
    super('not_found', `${what} not found`);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends HostrunError {
  constructor(message: string) {
    super('conflict', message);
    this.name = 'ConflictError';
  }
}

/** One line per detail, `path: message (line L, column C)`, for CLI and logs. */
export function formatDetails(details: ErrorDetail[]): string {
  return details
    .map((d) => {
      const where = d.line !== undefined ? ` (line ${d.line}${d.column !== undefined ? `, column ${d.column}` : ''})` : '';
      return `${d.path ? `${d.path}: ` : ''}${d.message}${where}`;
    })
    .join('\n');
}
