// `import { HostrunClient } from 'hostrun'`: the package's entry point (package.json
// "exports"). The package ships TypeScript sources: consumers run them through tsx (as the
// `hostrun` command itself does) or a bundler that reads .ts; see README "TypeScript client".
export { HostrunClient, type HostrunClientOptions, type WaitOptions, type ReportWindowOptions } from './client.ts';
export { HostrunError, type ErrorCode, type ErrorDetail } from '../core/errors.ts';
export type { SseEvent } from './transport.ts';
export type * from './types.ts';
export type { RunStatus, RunTrigger, JobSpec } from '../core/types.ts';
