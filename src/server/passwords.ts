import { hash, verify, type Algorithm } from '@node-rs/argon2';

// Password hashing: argon2id with the library's defaults (19 MiB, 2 passes, 1 lane: the OWASP
// minimum), stored as a PHC string so the parameters travel with the hash and can be raised
// later without breaking existing ones.

const ARGON2ID = 2 as Algorithm;

export const PASSWORD_MIN_LENGTH = 10;

export function passwordHash(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID });
}

// A hash of nothing anyone knows, verified when the user does not exist so that "no such
// user" takes as long as "wrong password" and sign-in does not reveal which emails exist.
let decoy: Promise<string> | null = null;

export async function passwordVerify(stored: string | null, password: string): Promise<boolean> {
  if (!stored) {
    decoy ??= passwordHash(`decoy-${Math.random()}`);
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}
