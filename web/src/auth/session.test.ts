import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RefreshRejected, RETRY_AFTER_FAILURE_MS, Session, refreshDelayMs, refreshMarginMs, type Tokens } from './session';

const MINUTE = 60_000;

class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

function tokens(n: number, lifetimeMs = 15 * MINUTE): Tokens {
  return {
    accessToken: `access-${n}`,
    accessTokenExpiresAt: new Date(Date.now() + lifetimeMs).toISOString(),
    refreshToken: `refresh-${n}`,
    user: { id: 'u1', username: 'demo', displayName: 'Demo', role: 'USER' },
  };
}

describe('refresh timing', () => {
  it('refreshes a minute early, or a quarter of a short lifetime early', () => {
    expect(refreshMarginMs(15 * MINUTE)).toBe(MINUTE);
    expect(refreshMarginMs(20_000)).toBe(5_000);
    expect(refreshDelayMs(0, 15 * MINUTE, 0)).toBe(14 * MINUTE);
    expect(refreshDelayMs(0, 15 * MINUTE, 14.5 * MINUTE)).toBe(0);
  });
});

describe('Session', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-01T12:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refreshes silently before the access token expires, with the latest refresh token each time', async () => {
    const used: string[] = [];
    let n = 1;
    const session = new Session(new MemoryStorage(), async (refreshToken) => {
      used.push(refreshToken);
      n += 1;
      return tokens(n);
    });
    session.signIn(tokens(1));

    await vi.advanceTimersByTimeAsync(14 * MINUTE - 1);
    expect(used).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(used).toEqual(['refresh-1']);
    expect(await session.accessToken()).toBe('access-2');

    await vi.advanceTimersByTimeAsync(14 * MINUTE);
    expect(used).toEqual(['refresh-1', 'refresh-2']);
    expect(await session.accessToken()).toBe('access-3');
  });

  it('refreshes once for many requests that find the token due (a timer delayed by sleep)', async () => {
    const refresher = vi.fn(async () => tokens(2));
    const session = new Session(new MemoryStorage(), refresher);
    session.signIn(tokens(1));
    // The page slept past the refresh time without its timer firing.
    vi.setSystemTime(Date.now() + 14.5 * MINUTE);
    const all = await Promise.all([session.accessToken(), session.accessToken(), session.accessToken()]);
    expect(all).toEqual(['access-2', 'access-2', 'access-2']);
    expect(refresher).toHaveBeenCalledTimes(1);
  });

  it('signs out when the server refuses the refresh token', async () => {
    const session = new Session(new MemoryStorage(), async () => {
      throw new RefreshRejected('reused');
    });
    const seen: Array<string | null> = [];
    session.subscribe((user) => seen.push(user?.id ?? null));
    session.signIn(tokens(1));
    await vi.advanceTimersByTimeAsync(14 * MINUTE);
    expect(session.user).toBeNull();
    expect(seen).toEqual(['u1', null]);
    expect(await session.accessToken()).toBeNull();
  });

  it('retries after a network failure and sends no expired token meanwhile', async () => {
    let fail = true;
    const refresher = vi.fn(async () => {
      if (fail) throw new TypeError('Failed to fetch');
      return tokens(2);
    });
    const session = new Session(new MemoryStorage(), refresher);
    session.signIn(tokens(1));
    await vi.advanceTimersByTimeAsync(14 * MINUTE);
    expect(refresher).toHaveBeenCalledTimes(1);
    expect(session.user?.id).toBe('u1');
    await vi.advanceTimersByTimeAsync(RETRY_AFTER_FAILURE_MS);
    expect(refresher).toHaveBeenCalledTimes(2);

    // Still failing past expiry: requests go out anonymous rather than with a dead token.
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(await session.accessToken()).toBeNull();

    fail = false;
    await vi.advanceTimersByTimeAsync(RETRY_AFTER_FAILURE_MS);
    expect(await session.accessToken()).toBe('access-2');
  });

  it('adopts the tokens another tab refreshed instead of spending the same refresh token again', async () => {
    const storage = new MemoryStorage();
    const otherTabRefresher = vi.fn(async () => tokens(2));
    const thisTabRefresher = vi.fn(async () => tokens(99));
    const thisTab = new Session(storage, thisTabRefresher);
    thisTab.signIn(tokens(1));
    const otherTab = new Session(storage, otherTabRefresher);
    await otherTab.refresh();
    expect(otherTabRefresher).toHaveBeenCalledWith('refresh-1');

    await thisTab.refresh();
    expect(thisTabRefresher).not.toHaveBeenCalled();
    expect(await thisTab.accessToken()).toBe('access-2');
  });

  it('restores a stored session and forgets a corrupt one', () => {
    const storage = new MemoryStorage();
    new Session(storage, async () => tokens(2)).signIn(tokens(1));
    expect(new Session(storage, async () => tokens(2)).user?.username).toBe('demo');
    storage.setItem('vidgraph.session', '{not json');
    expect(new Session(storage, async () => tokens(2)).user).toBeNull();
  });
});
