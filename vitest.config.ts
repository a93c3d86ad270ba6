import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Tests spawn shells, servers and Postgres connections: processes isolate them best.
    pool: 'forks',
    // CLI end-to-end tests spawn a Node process per command: on a loaded 2-core machine a
    // dozen of them can take over a minute. A timeout only bounds how long a hang takes to fail.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
