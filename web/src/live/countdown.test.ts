import { describe, expect, it } from 'vitest';
import { formatCountdown, inviterShare, phaseOf } from './countdown';

const t0 = Date.parse('2026-12-01T12:00:00Z');
const at = (secs: number) => new Date(t0 + secs * 1000).toISOString();

describe('PK countdown', () => {
  it('counts down to the deadline of the current phase, rounding up and stopping at zero', () => {
    const pk = { state: 'SCORING' as const, inviteExpiresAt: at(-10), scoreEndsAt: at(360), punishmentEndsAt: at(480) };
    expect(phaseOf(pk, t0)).toEqual({ label: 'PK', remainingSecs: 360 });
    expect(phaseOf(pk, t0 + 1)).toEqual({ label: 'PK', remainingSecs: 360 });
    expect(phaseOf(pk, t0 + 359_001)).toEqual({ label: 'PK', remainingSecs: 1 });
    expect(phaseOf(pk, t0 + 360_000)).toEqual({ label: 'PK', remainingSecs: 0 });
    // The server has not moved it on yet: still 0, never negative.
    expect(phaseOf(pk, t0 + 365_000)).toEqual({ label: 'PK', remainingSecs: 0 });
  });

  it('uses the invite expiry while invited and the punishment deadline after scoring', () => {
    expect(phaseOf({ state: 'INVITED', inviteExpiresAt: at(15) }, t0).remainingSecs).toBe(15);
    const punished = { state: 'PUNISHMENT' as const, inviteExpiresAt: at(-400), scoreEndsAt: at(-1), punishmentEndsAt: at(119.5) };
    expect(phaseOf(punished, t0)).toEqual({ label: 'Punishment', remainingSecs: 120 });
  });

  it('has no countdown once the PK is over', () => {
    expect(phaseOf({ state: 'ENDED', inviteExpiresAt: at(-500), scoreEndsAt: at(-200), punishmentEndsAt: at(-80) }, t0)).toEqual({ label: 'Ended', remainingSecs: null });
  });

  it('formats minutes and seconds and splits the bar by score', () => {
    expect(formatCountdown(359)).toBe('5:59');
    expect(formatCountdown(7)).toBe('0:07');
    expect(inviterShare(0, 0)).toBe(50);
    expect(inviterShare(30, 10)).toBe(75);
  });
});
