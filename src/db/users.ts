import type { Queryable } from './pool.ts';

// Users: people who sign in (password, or an external identity such as Supabase). What a
// user may do comes from project membership (members.ts) or the superadmin flag.

export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  is_superadmin: boolean;
  external_id: string | null;
  created_at: Date;
  disabled_at: Date | null;
}

/** A user with the password hash, for sign-in only; never sent to a client. */
export interface UserCredentials extends UserRow {
  password_hash: string | null;
}

const USER_COLUMNS = `id, email, name, is_superadmin, external_id, created_at, disabled_at`;

// name: userInsert
// $1 email, $2 name, $3 password hash (argon2id PHC string) or null, $4 is_superadmin,
// $5 external id or null. The unique index on lower(email) refuses a second account.
const USER_INSERT_SQL = `
INSERT INTO hostrun.users (email, name, password_hash, is_superadmin, external_id)
VALUES ($1, $2, $3, $4, $5)
RETURNING ${USER_COLUMNS}`;

export interface UserCreateRequest {
  email: string;
  name?: string | null;
  passwordHash?: string | null;
  isSuperadmin?: boolean;
  externalId?: string | null;
}

export async function userCreate(db: Queryable, req: UserCreateRequest): Promise<UserRow> {
  const { rows } = await db.query<UserRow>(USER_INSERT_SQL, [
    req.email,
    req.name ?? null,
    req.passwordHash ?? null,
    req.isSuperadmin ?? false,
    req.externalId ?? null,
  ]);
  return rows[0]!;
}

// name: userGet
// $1 user id.
const USER_GET_SQL = `SELECT ${USER_COLUMNS} FROM hostrun.users WHERE id = $1`;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

export async function userGet(db: Queryable, id: string): Promise<UserRow | null> {
  if (!isUuid(id)) return null;
  const { rows } = await db.query<UserRow>(USER_GET_SQL, [id]);
  return rows[0] ?? null;
}

// name: userGetByEmail
// $1 email, compared case-insensitively (the unique index is on lower(email)).
const USER_GET_BY_EMAIL_SQL = `
SELECT ${USER_COLUMNS}, password_hash FROM hostrun.users WHERE lower(email) = lower($1)`;

export async function userGetByEmail(db: Queryable, email: string): Promise<UserCredentials | null> {
  const { rows } = await db.query<UserCredentials>(USER_GET_BY_EMAIL_SQL, [email]);
  return rows[0] ?? null;
}

/** A user named by id or by email, as the API and CLI accept both. */
export async function userFind(db: Queryable, idOrEmail: string): Promise<UserRow | null> {
  if (isUuid(idOrEmail)) return userGet(db, idOrEmail);
  const found = await userGetByEmail(db, idOrEmail);
  if (!found) return null;
  const { password_hash: _hidden, ...user } = found;
  return user;
}

// name: userGetByExternalId
// $1 external id (a Supabase `sub`).
const USER_GET_BY_EXTERNAL_ID_SQL = `SELECT ${USER_COLUMNS} FROM hostrun.users WHERE external_id = $1`;

export async function userGetByExternalId(db: Queryable, externalId: string): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(USER_GET_BY_EXTERNAL_ID_SQL, [externalId]);
  return rows[0] ?? null;
}

// name: userLinkExternalId
// $1 user id, $2 external id. Only links a user not linked yet, so an email match can never
// move an account from one external identity to another.
const USER_LINK_EXTERNAL_ID_SQL = `
UPDATE hostrun.users SET external_id = $2 WHERE id = $1 AND external_id IS NULL
RETURNING ${USER_COLUMNS}`;

export async function userLinkExternalId(db: Queryable, userId: string, externalId: string): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(USER_LINK_EXTERNAL_ID_SQL, [userId, externalId]);
  return rows[0] ?? null;
}

// name: usersList
// No parameters. Every user, by email.
const USERS_LIST_SQL = `SELECT ${USER_COLUMNS} FROM hostrun.users ORDER BY lower(email)`;

export async function usersList(db: Queryable): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(USERS_LIST_SQL);
  return rows;
}

// name: usersExist
// No parameters. Whether any user exists (the first one is made through the setup token).
const USERS_EXIST_SQL = `SELECT EXISTS (SELECT 1 FROM hostrun.users) AS exists`;

export async function usersExist(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ exists: boolean }>(USERS_EXIST_SQL);
  return rows[0]?.exists ?? false;
}

// name: userUpdate
// $1 user id, then each field or null for "leave as is": $2 name, $3 password hash,
// $4 is_superadmin, $5 disabled (true disables now, false enables).
const USER_UPDATE_SQL = `
UPDATE hostrun.users SET
  name = coalesce($2, name),
  password_hash = coalesce($3, password_hash),
  is_superadmin = coalesce($4, is_superadmin),
  disabled_at = CASE WHEN $5::boolean IS NULL THEN disabled_at
                     WHEN $5 THEN coalesce(disabled_at, now()) ELSE NULL END
 WHERE id = $1
RETURNING ${USER_COLUMNS}`;

export interface UserUpdate {
  name?: string;
  passwordHash?: string;
  isSuperadmin?: boolean;
  disabled?: boolean;
}

export async function userUpdate(db: Queryable, id: string, update: UserUpdate): Promise<UserRow | null> {
  if (!isUuid(id)) return null;
  const { rows } = await db.query<UserRow>(USER_UPDATE_SQL, [
    id,
    update.name ?? null,
    update.passwordHash ?? null,
    update.isSuperadmin ?? null,
    update.disabled ?? null,
  ]);
  return rows[0] ?? null;
}
