// The signed-in session: the tokens, kept in localStorage, and the silent refresh that swaps
// the access token for a new one before it expires (content rotates the refresh token on
// every use and revokes the whole family when a spent one is presented again, so two refreshes
// with one refresh token must never happen: one refresh in flight per tab, and across tabs one
// at a time under a Web Lock, each re-reading storage first).

/** The user a session belongs to, as the app shows it. */
export interface SessionUser {
  id: string;
  username: string;
  displayName: string;
  role: 'USER' | 'ADMIN' | null;
}

/** What login, register and refreshToken return. */
export interface Tokens {
  accessToken: string;
  /** ISO-8601. */
  accessTokenExpiresAt: string;
  refreshToken: string;
  user: SessionUser;
}

interface Stored extends Tokens {
  /** When this access token was received (ms since the epoch): its lifetime sets the margin. */
  receivedAtMs: number;
}

/** Time and timers, replaced by a fake clock in tests. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The refresh token was refused (expired, revoked or reused): the session is over. */
export class RefreshRejected extends Error {}

/** Swaps a refresh token for new tokens; throws `RefreshRejected` when the server refuses it. */
export type Refresher = (refreshToken: string) => Promise<Tokens>;

/** How long before expiry to refresh: a quarter of the token's lifetime, at most a minute. */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(60_000, Math.max(0, lifetimeMs) / 4);
}

/** Milliseconds from `nowMs` until the token should be refreshed (0: now). */
export function refreshDelayMs(receivedAtMs: number, expiresAtMs: number, nowMs: number): number {
  const margin = refreshMarginMs(expiresAtMs - receivedAtMs);
  return Math.max(0, expiresAtMs - margin - nowMs);
}

/** After a failed refresh that was not a refusal (network, server down): try again this soon. */
export const RETRY_AFTER_FAILURE_MS = 5_000;

const STORAGE_KEY = 'vidgraph.session';

type Listener = (user: SessionUser | null) => void;

/** Runs `task` under the cross-tab refresh lock where the browser has Web Locks. */
async function underRefreshLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  if (!locks) return task();
  return locks.request('vidgraph.refresh', task);
}

export class Session {
  private stored: Stored | null;
  private timer: unknown = null;
  private inFlight: Promise<void> | null = null;
  private readonly listeners = new Set<Listener>();

  constructor(
    private readonly storage: Storage | null,
    private readonly refresher: Refresher,
    private readonly clock: Clock = systemClock,
  ) {
    this.stored = this.read();
    this.schedule();
  }

  /** The signed-in user, or null. */
  get user(): SessionUser | null {
    return this.stored?.user ?? null;
  }

  /** The refresh token (sign-out revokes it). */
  get refreshToken(): string | null {
    return this.stored?.refreshToken ?? null;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts a session with the tokens login or register returned. */
  signIn(tokens: Tokens): void {
    this.replace({ ...tokens, receivedAtMs: this.clock.now() });
  }

  /** Ends the session here (the caller revokes the refresh token on the server). */
  signOut(): void {
    this.replace(null);
  }

  /** Another tab changed the stored session: adopt it. */
  adoptStored(): void {
    const stored = this.read();
    if (stored?.accessToken !== this.stored?.accessToken) {
      this.stored = stored;
      this.schedule();
      this.notify();
    }
  }

  /**
   * A usable access token for the next request: refreshed first when it is due (a timer
   * delayed by a sleeping laptop must not send an expired one), null when signed out or when
   * the token expired and could not be refreshed.
   */
  async accessToken(): Promise<string | null> {
    const stored = this.stored;
    if (!stored) return null;
    const expiresAtMs = Date.parse(stored.accessTokenExpiresAt);
    if (refreshDelayMs(stored.receivedAtMs, expiresAtMs, this.clock.now()) === 0) {
      await this.refresh();
    }
    const current = this.stored;
    if (!current || Date.parse(current.accessTokenExpiresAt) <= this.clock.now()) return null;
    return current.accessToken;
  }

  /** Refreshes now, once however many callers ask at the same time. */
  refresh(): Promise<void> {
    this.inFlight ??= this.refreshOnce().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async refreshOnce(): Promise<void> {
    const spent = this.stored?.refreshToken;
    if (!spent) return;
    try {
      await underRefreshLock(async () => {
        // Another tab may have refreshed while this one waited for the lock: its tokens are
        // in storage, and the refresh token this tab holds is already spent.
        const latest = this.read();
        if (latest && latest.refreshToken !== spent) {
          this.replace(latest);
          return;
        }
        const tokens = await this.refresher(spent);
        this.replace({ ...tokens, receivedAtMs: this.clock.now() });
      });
    } catch (error) {
      if (error instanceof RefreshRejected) {
        this.replace(null);
      } else {
        this.clearTimer();
        this.timer = this.clock.setTimeout(() => void this.refresh(), RETRY_AFTER_FAILURE_MS);
      }
    }
  }

  private replace(stored: Stored | null): void {
    const userChanged = stored?.user.id !== this.stored?.user.id;
    this.stored = stored;
    this.write();
    this.schedule();
    if (userChanged) this.notify();
  }

  private schedule(): void {
    this.clearTimer();
    const stored = this.stored;
    if (!stored) return;
    const delay = refreshDelayMs(stored.receivedAtMs, Date.parse(stored.accessTokenExpiresAt), this.clock.now());
    this.timer = this.clock.setTimeout(() => void this.refresh(), delay);
  }

  private clearTimer(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private notify(): void {
    for (const listener of this.listeners) listener(this.user);
  }

  private read(): Stored | null {
    const text = this.storage?.getItem(STORAGE_KEY);
    if (!text) return null;
    try {
      const value = JSON.parse(text) as Partial<Stored>;
      if (typeof value.accessToken === 'string' && typeof value.refreshToken === 'string' && typeof value.accessTokenExpiresAt === 'string' && typeof value.receivedAtMs === 'number' && value.user) {
        return value as Stored;
      }
    } catch {
      // A corrupt entry is no session.
    }
    return null;
  }

  private write(): void {
    if (!this.storage) return;
    if (this.stored) this.storage.setItem(STORAGE_KEY, JSON.stringify(this.stored));
    else this.storage.removeItem(STORAGE_KEY);
  }
}

export const SESSION_STORAGE_KEY = STORAGE_KEY;
