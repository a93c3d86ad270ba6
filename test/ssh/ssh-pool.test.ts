import { describe, expect, it } from 'vitest';
import { SshPool } from '../../src/executors/ssh-pool.ts';

// Failures that need no server. DNS goes through an injected resolver: a test must never send
// a query to a resolver off this machine.

describe('ssh connection failures without a server', () => {
  const target = {
    hostId: null,
    name: 'web-9',
    address: 'web-9.internal.example',
    port: 22,
    username: 'deploy',
    password: 'x',
    pinnedFingerprint: null,
    trustOnFirstUse: false,
  };

  it('a name that does not resolve fails at once, in one line naming it', async () => {
    const pool = new SshPool({
      pin: async () => null,
      resolve: async (name) => {
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      },
    });
    await expect(pool.acquire(target)).rejects.toThrow('ssh deploy@web-9.internal.example:22 (web-9): DNS lookup failed for web-9.internal.example');
  });

  it('an address is used as it is, without asking the resolver', async () => {
    let asked = false;
    const pool = new SshPool({
      pin: async () => null,
      connectTimeoutMs: 1000,
      resolve: async () => {
        asked = true;
        return '127.0.0.1';
      },
    });
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    await expect(pool.acquire({ ...target, address: '127.0.0.1', port: 1 })).rejects.toThrow(/connection refused/);
    expect(asked).toBe(false);
  });
});
