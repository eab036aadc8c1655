/**
 * Accounts, browser sessions and API tokens. There is no default account:
 * the first user is created by the first-run setup, and only while no user
 * exists.
 */
import { and, count, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { Clock } from "../clock.js";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/db.js";
import { apiTokens, FIRST_HOUSEHOLD, sessions, users } from "../store/schema.js";
import { dummyPasswordHash, hashPassword, verifyPassword } from "./passwords.js";
import { lookupDigest, newSecret, randomId } from "./secrets.js";

export type User = Omit<typeof users.$inferSelect, "passwordHash">;
export type ApiTokenRecord = Omit<typeof apiTokens.$inferSelect, "tokenHash">;

export interface SessionInfo {
  id: string;
  createdAt: Date;
  expiresAt: Date;
  current: boolean;
  userAgent: string | null;
  address: string | null;
}

/** Where a sign-in came from, kept with its session so the user can tell their sessions apart. */
export interface SignInOrigin {
  userAgent?: string | undefined;
  address?: string | undefined;
}

const USER_AGENT_MAX = 256;

const SESSION_ID_LENGTH = 16;

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const LAST_USED_RESOLUTION_MS = 60_000;
const TOKEN_PREFIX = "fkt_";

function publicUser(row: typeof users.$inferSelect): User {
  const { passwordHash: _, ...user } = row;
  return user;
}

export const ROLES = ["owner", "member", "sitter"] as const;
export type Role = (typeof ROLES)[number];
const RANK: Record<Role, number> = { sitter: 0, member: 1, owner: 2 };

/** An account that has not reached its end date (a sitter's), as a condition on the users table. */
function accountLive(now: ReturnType<typeof sql.placeholder>) {
  return or(isNull(users.expiresAt), gt(users.expiresAt, now));
}

/** Every authenticated request runs one of these: prepared once. */
function prepareStatements(store: Store) {
  const p = sql.placeholder;
  return {
    session: store.db
      .select({ user: users })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.tokenHash, p("hash")), gt(sessions.expiresAt, p("now")), accountLive(p("now"))))
      .prepare(),
    token: store.db
      .select({
        user: users,
        tokenId: apiTokens.id,
        name: apiTokens.name,
        lastUsedAt: apiTokens.lastUsedAt,
        role: apiTokens.role,
      })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .where(
        and(
          eq(apiTokens.tokenHash, p("hash")),
          or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, p("now"))),
          accountLive(p("now")),
        ),
      )
      .prepare(),
  };
}

export class AccountService {
  private readonly statements: ReturnType<typeof prepareStatements>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.statements = prepareStatements(store);
  }

  setupRequired(): boolean {
    const row = this.store.db.select({ n: count() }).from(users).get();
    return (row?.n ?? 0) === 0;
  }

  async setup(username: string, password: string): Promise<User> {
    const passwordHash = await hashPassword(password);
    // Checked and written in one transaction: two racing setup requests cannot both create an owner.
    const user = this.store.transaction(() => {
      if (!this.setupRequired()) throw new AppError("setup_already_done");
      return this.store.db
        .insert(users)
        .values({
          id: randomId(),
          householdId: FIRST_HOUSEHOLD,
          username,
          passwordHash,
          role: "owner",
          createdAt: new Date(this.clock.now()),
        })
        .returning()
        .get();
    });
    this.logger.info({ userId: user.id, username }, "first-run setup created the owner account");
    return publicUser(user);
  }

  async login(
    username: string,
    password: string,
    origin: SignInOrigin = {},
  ): Promise<{ user: User; session: string; expiresAt: Date }> {
    const row = this.store.db.select().from(users).where(eq(users.username, username)).get();
    const ok = await verifyPassword(password, row?.passwordHash ?? (await dummyPasswordHash()));
    const ended =
      row?.expiresAt !== null && row?.expiresAt !== undefined && row.expiresAt.getTime() <= this.clock.now();
    if (!row || !ok || ended) {
      this.logger.warn({ username }, "failed login");
      throw new AppError("invalid_credentials");
    }
    const session = newSecret(32);
    const expiresAt = new Date(this.clock.now() + SESSION_TTL_MS);
    this.store.db
      .insert(sessions)
      .values({
        tokenHash: lookupDigest(session),
        userId: row.id,
        createdAt: new Date(this.clock.now()),
        expiresAt,
        userAgent: origin.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
        address: origin.address ?? null,
      })
      .run();
    this.logger.info({ userId: row.id }, "signed in");
    return { user: publicUser(row), session, expiresAt };
  }

  logout(session: string): void {
    this.store.db
      .delete(sessions)
      .where(eq(sessions.tokenHash, lookupDigest(session)))
      .run();
  }

  userForSession(session: string): User | undefined {
    // Placeholders in WHERE are bound as-is, so times go in as epoch milliseconds.
    const row = this.statements.session.get({ hash: lookupDigest(session), now: this.clock.now() });
    return row ? publicUser(row.user) : undefined;
  }

  /** The user an API token acts as (with the token's role, if lower), and the token's name. */
  userForToken(token: string): { user: User; tokenName: string } | undefined {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const now = new Date(this.clock.now());
    const row = this.statements.token.get({ hash: lookupDigest(token), now: now.getTime() });
    if (!row) return undefined;
    // "Last used" is for spotting forgotten tokens; a write per request would cost more than it tells.
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      this.store.db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.tokenId)).run();
    }
    const user = publicUser(row.user);
    // A token limited to a lower role acts with that role, never above its user's.
    const role = row.role && RANK[row.role] < RANK[user.role] ? row.role : user.role;
    return { user: { ...user, role }, tokenName: row.name };
  }

  createToken(
    userId: string,
    name: string,
    expiresInDays?: number,
    role?: Role,
  ): { record: ApiTokenRecord; token: string } {
    const user = this.requireUser(userId);
    if (role && RANK[role] > RANK[user.role]) {
      throw new AppError("forbidden", `A ${user.role} cannot make a token with the role ${role}.`);
    }
    const token = `${TOKEN_PREFIX}${newSecret(32)}`;
    const now = this.clock.now();
    const row = this.store.db
      .insert(apiTokens)
      .values({
        id: randomId(),
        userId,
        name,
        role: role ?? null,
        tokenHash: lookupDigest(token),
        createdAt: new Date(now),
        expiresAt: expiresInDays === undefined ? null : new Date(now + expiresInDays * 24 * 60 * 60 * 1000),
      })
      .returning()
      .get();
    const { tokenHash: _, ...record } = row;
    this.logger.info({ userId, tokenId: record.id }, "API token created");
    return { record, token };
  }

  listTokens(userId: string): ApiTokenRecord[] {
    return this.store.db
      .select({
        id: apiTokens.id,
        userId: apiTokens.userId,
        name: apiTokens.name,
        role: apiTokens.role,
        createdAt: apiTokens.createdAt,
        expiresAt: apiTokens.expiresAt,
        lastUsedAt: apiTokens.lastUsedAt,
      })
      .from(apiTokens)
      .where(eq(apiTokens.userId, userId))
      .orderBy(desc(apiTokens.createdAt))
      .all();
  }

  deleteToken(userId: string, tokenId: string): void {
    const deleted = this.store.db
      .delete(apiTokens)
      .where(and(eq(apiTokens.id, tokenId), eq(apiTokens.userId, userId)))
      .returning({ id: apiTokens.id })
      .get();
    if (!deleted) throw new AppError("token_not_found");
    this.logger.info({ userId, tokenId }, "API token revoked");
  }

  listUsers(householdId: string): User[] {
    return this.store.db
      .select()
      .from(users)
      .where(eq(users.householdId, householdId))
      .orderBy(users.createdAt)
      .all()
      .map(publicUser);
  }

  findUser(id: string): User | undefined {
    const row = this.store.db.select().from(users).where(eq(users.id, id)).get();
    return row && publicUser(row);
  }

  findUserByName(username: string): User | undefined {
    const row = this.store.db.select().from(users).where(eq(users.username, username)).get();
    return row && publicUser(row);
  }

  requireUser(id: string): User {
    const user = this.findUser(id);
    if (!user) throw new AppError("user_not_found");
    return user;
  }

  /** A new user of the household `householdId` (usernames are unique on the whole server: they sign in). */
  async createUser(input: {
    householdId: string;
    username: string;
    password: string;
    role: Role;
    expiresAt?: Date | null | undefined;
  }): Promise<User> {
    const passwordHash = await hashPassword(input.password);
    if (this.store.db.select({ id: users.id }).from(users).where(eq(users.username, input.username)).get()) {
      throw new AppError("username_taken");
    }
    const row = this.store.db
      .insert(users)
      .values({
        id: randomId(),
        householdId: input.householdId,
        username: input.username,
        passwordHash,
        role: input.role,
        createdAt: new Date(this.clock.now()),
        expiresAt: input.expiresAt ?? null,
      })
      .returning()
      .get();
    this.logger.info({ userId: row.id, role: row.role }, "user created");
    return publicUser(row);
  }

  /** Role and end date; the last owner can be neither demoted nor given an end. */
  updateUser(id: string, changes: { role?: Role | undefined; expiresAt?: Date | null | undefined }): User {
    return this.store.transaction(() => {
      const user = this.requireUser(id);
      const stopsOwning =
        user.role === "owner" &&
        ((changes.role !== undefined && changes.role !== "owner") ||
          (changes.expiresAt !== undefined && changes.expiresAt !== null));
      if (stopsOwning) this.requireAnotherOwner(user);
      const set = {
        ...(changes.role !== undefined && { role: changes.role }),
        ...(changes.expiresAt !== undefined && { expiresAt: changes.expiresAt }),
      };
      // An empty change is a no-op, not an UPDATE without columns.
      if (Object.keys(set).length === 0) return user;
      this.store.db.update(users).set(set).where(eq(users.id, id)).run();
      this.logger.info({ userId: id, ...changes }, "user changed");
      return this.requireUser(id);
    });
  }

  /** Removes the account with its sessions and tokens (cascade); the last owner stays. */
  deleteUser(id: string): void {
    this.store.transaction(() => {
      const user = this.requireUser(id);
      if (user.role === "owner") this.requireAnotherOwner(user);
      this.store.db.delete(users).where(eq(users.id, id)).run();
    });
    this.logger.info({ userId: id }, "user deleted");
  }

  /** A new password for oneself: the current one proves it is really them; other sessions end. */
  async changePassword(userId: string, current: string, next: string, keepSession?: string): Promise<void> {
    const row = this.store.db.select().from(users).where(eq(users.id, userId)).get();
    if (!row || !(await verifyPassword(current, row.passwordHash))) {
      throw new AppError("invalid_credentials", "The current password is wrong.");
    }
    const passwordHash = await hashPassword(next);
    this.store.transaction(() => {
      this.store.db.update(users).set({ passwordHash }).where(eq(users.id, userId)).run();
      const keep = keepSession ? lookupDigest(keepSession) : "";
      this.store.db
        .delete(sessions)
        .where(and(eq(sessions.userId, userId), sql`${sessions.tokenHash} != ${keep}`))
        .run();
    });
    this.logger.info({ userId }, "password changed; other sessions ended");
  }

  /**
   * One's own browser sessions. A session is named by the start of its stored hash: enough to pick one,
   * useless for signing in (the cookie is the secret, and only its hash is kept).
   */
  listSessions(userId: string, current: string | undefined): SessionInfo[] {
    const currentHash = current ? lookupDigest(current) : undefined;
    return this.store.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, new Date(this.clock.now()))))
      .orderBy(desc(sessions.createdAt))
      .all()
      .map((s) => ({
        id: s.tokenHash.slice(0, SESSION_ID_LENGTH),
        createdAt: s.createdAt,
        expiresAt: s.expiresAt,
        current: s.tokenHash === currentHash,
        userAgent: s.userAgent,
        address: s.address,
      }));
  }

  revokeSession(userId: string, id: string): void {
    const deleted = this.store.db
      .delete(sessions)
      .where(
        and(eq(sessions.userId, userId), sql`substr(${sessions.tokenHash}, 1, ${SESSION_ID_LENGTH}) = ${id}`),
      )
      .returning({ userId: sessions.userId })
      .all();
    if (deleted.length === 0) throw new AppError("session_not_found");
    this.logger.info({ userId }, "session revoked");
  }

  /** Every household keeps an owner without an end date: someone must be able to manage it. */
  private requireAnotherOwner(user: User): void {
    const others = this.store.db
      .select({ n: count() })
      .from(users)
      .where(
        and(
          eq(users.householdId, user.householdId),
          eq(users.role, "owner"),
          sql`${users.id} != ${user.id}`,
          isNull(users.expiresAt),
        ),
      )
      .get();
    if ((others?.n ?? 0) === 0) throw new AppError("last_owner");
  }
}
