import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSecretKey, openSecret, parseSecretKey, sealSecret } from '../../src/secrets/crypto.ts';
import { MASK, Masker } from '../../src/secrets/mask.ts';

describe('secret sealing', () => {
  const key = parseSecretKey(randomBytes(32).toString('hex'));

  it('round-trips, and a value moved to another name or project does not open', () => {
    const sealed = sealSecret(key, 'p1', 'TOKEN', Buffer.from('s3cret'));
    expect(sealed.ciphertext.toString()).not.toContain('s3cret');
    expect(openSecret(key, 'p1', 'TOKEN', sealed).toString()).toBe('s3cret');
    expect(() => openSecret(key, 'p1', 'OTHER', sealed)).toThrow(/could not be decrypted/);
    expect(() => openSecret(key, 'p2', 'TOKEN', sealed)).toThrow(/could not be decrypted/);
    const other = parseSecretKey(randomBytes(32).toString('base64'));
    expect(() => openSecret(other, 'p1', 'TOKEN', sealed)).toThrow(/sealed with key .* but this process has key/);
  });

  it('takes the key from HOSTRUN_SECRET_KEY, generates one (0600) only for an embedded database, and refuses otherwise', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'hostrun-key-'));
    expect(() => loadSecretKey({ env: {}, home, embedded: false })).toThrow(/HOSTRUN_SECRET_KEY is not set/);
    const generated = loadSecretKey({ env: {}, home, embedded: true });
    expect(statSync(path.join(home, 'secret-key')).mode & 0o777).toBe(0o600);
    expect(loadSecretKey({ env: {}, home, embedded: true }).id).toBe(generated.id);
    const hex = randomBytes(32).toString('hex');
    expect(loadSecretKey({ env: { HOSTRUN_SECRET_KEY: hex }, home, embedded: false }).id).toBe(parseSecretKey(hex).id);
    expect(() => parseSecretKey('too-short')).toThrow(/32 bytes/);
  });
});

describe('masking', () => {
  const secret = 'hunter2-Sup3r/Secret+value';
  const m = new Masker([secret, 'line-one-secret\nline-two-secret', 'ab']);

  it.each([
    ['raw', `token: ${secret}`],
    ['base64', Buffer.from(secret).toString('base64')],
    ['base64url', Buffer.from(secret).toString('base64url')],
    ['base64 after one byte', Buffer.from('x' + secret).toString('base64')],
    ['base64 after two bytes', Buffer.from('xy' + secret + 'tail').toString('base64')],
    ['json', JSON.stringify({ t: secret })],
    ['url', `https://h/?t=${encodeURIComponent(secret)}`],
    ['a line of a multi-line value', 'got line-two-secret here'],
  ])('hides the %s form', (_, text) => {
    const masked = m.mask(text);
    expect(masked).toContain(MASK);
    expect(masked).not.toContain(secret);
    expect(masked).not.toContain('line-two-secret');
    expect(masked).not.toContain('Sup3r/Secret');
  });

  it('leaves values shorter than four characters alone and masks inside structures', () => {
    expect(m.mask('ab cd')).toBe('ab cd');
    expect(m.maskDeep({ a: [`x ${secret}`], n: 1 })).toEqual({ a: [`x ${MASK}`], n: 1 });
    expect(new Masker([]).mask(secret)).toBe(secret);
  });
});
