import { createRequire } from 'node:module';

// The version of this Hostrun, from package.json: shown by `hostrun --version`, reported by
// the server (daemon status) and recorded by workers. Read through require because JSON
// import attributes still print an experimental warning on Node 20.
const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export const HOSTRUN_VERSION: string = pkg.version;
