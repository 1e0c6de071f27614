import { randomUUID } from 'node:crypto';
import type { WidgetParams } from './sandbox-validation.js';

/** UCW connection status codes used by the simulator (enum in SPEC.md §7). */
export const ConnectionStatus = { CREATED: 0, DENIED: 2, CONNECTED: 6 } as const;

/** The UCW keeps widget tokens (v1) and widget parameters (v2) for 5 minutes. */
export const TOKEN_TTL_MS = 300_000;

/** A connection (an aggregator "member") made through the simulated widget. */
export interface SandboxMember {
  connectionId: string;
  aggregatorUserId: string;
  userId: string;
  aggregator: string;
  institutionId: string;
  status: number;
  deleted: boolean;
}

/** What a loaded widget page works on: its parameters and the event generation it speaks. */
export interface WidgetSession {
  id: string;
  params: WidgetParams;
  /** The member a refused attempt created: the person's next try updates it, as the real widget does. */
  pendingMember?: string;
}

interface StoredToken {
  expiresAt: number;
  /** The bearer that minted the token; the widget page is authorised with it through the cookie. */
  bearer: string | undefined;
  params: WidgetParams | undefined;
}

/**
 * All simulator state, in memory: the UCW's Redis (tokens) and the aggregators' members.
 * Nothing survives a restart, like a freshly started UCW with an empty Redis.
 */
export class SandboxStore {
  readonly #now: () => number;
  readonly #tokens = new Map<string, StoredToken>();
  readonly #sessions = new Map<string, WidgetSession>();
  readonly #members = new Map<string, SandboxMember>();
  /** An aggregator knows one user per (our user id, aggregator), whatever the number of members. */
  readonly #aggregatorUsers = new Map<string, string>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /** v1: the token is stored under `<userId>-<token>`, which is what binds it to the user. */
  issueV1Token(userId: string, bearer: string | undefined): string {
    const token = randomUUID();
    this.#tokens.set(`${userId}-${token}`, { expiresAt: this.#now() + TOKEN_TTL_MS, bearer, params: undefined });
    return token;
  }

  /**
   * v1: looks the token up for this user and deletes it. A token presented with another user id
   * is simply not found under that key, so it stays usable by its own user.
   */
  takeV1Token(userId: string, token: string): { bearer: string | undefined } | undefined {
    const stored = this.#take(`${userId}-${token}`);
    return stored && { bearer: stored.bearer };
  }

  /** v2: the token stands for all widget parameters. */
  issueV2Token(params: WidgetParams, bearer: string | undefined): string {
    const token = randomUUID();
    this.#tokens.set(token, { expiresAt: this.#now() + TOKEN_TTL_MS, bearer, params });
    return token;
  }

  takeV2Token(token: string): { bearer: string | undefined; params: WidgetParams } | undefined {
    const stored = this.#take(token);
    return stored?.params && { bearer: stored.bearer, params: stored.params };
  }

  #take(key: string): StoredToken | undefined {
    const stored = this.#tokens.get(key);
    if (!stored) return undefined;
    this.#tokens.delete(key);
    return stored.expiresAt > this.#now() ? stored : undefined;
  }

  openSession(params: WidgetParams): WidgetSession {
    const session = { id: randomUUID(), params };
    this.#sessions.set(session.id, session);
    return session;
  }

  session(id: string): WidgetSession | undefined {
    return this.#sessions.get(id);
  }

  aggregatorUserId(userId: string, aggregator: string): string {
    const key = `${aggregator}\u0000${userId}`;
    let id = this.#aggregatorUsers.get(key);
    if (!id) {
      id = `USR-${randomUUID()}`;
      this.#aggregatorUsers.set(key, id);
    }
    return id;
  }

  createMember(input: {
    userId: string;
    aggregator: string;
    institutionId: string;
    status: number;
    connectionId?: string;
  }): SandboxMember {
    const member: SandboxMember = {
      connectionId: input.connectionId ?? `MBR-${randomUUID()}`,
      aggregatorUserId: this.aggregatorUserId(input.userId, input.aggregator),
      userId: input.userId,
      aggregator: input.aggregator,
      institutionId: input.institutionId,
      status: input.status,
      deleted: false,
    };
    this.#members.set(member.connectionId, member);
    return member;
  }

  member(connectionId: string): SandboxMember | undefined {
    return this.#members.get(connectionId);
  }

  /** A member as its owner sees it: another user's, another aggregator's or a deleted member does not exist. */
  ownedMember(userId: string, aggregator: string, connectionId: string): SandboxMember | undefined {
    const member = this.#members.get(connectionId);
    return member && !member.deleted && member.userId === userId && member.aggregator === aggregator ? member : undefined;
  }

  membersOf(userId: string, aggregator: string): SandboxMember[] {
    return this.members().filter((m) => !m.deleted && m.userId === userId && m.aggregator === aggregator);
  }

  members(): SandboxMember[] {
    return [...this.#members.values()];
  }

  hasUser(userId: string, aggregator: string): boolean {
    return this.#aggregatorUsers.has(`${aggregator}\u0000${userId}`);
  }
}
