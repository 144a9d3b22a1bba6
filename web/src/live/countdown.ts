// The PK bar's phase and countdown, from the PK's state and deadlines and the current time.
// Pure: the page passes the time in (ticking every second), the tests pass fixed times.

/** The fields of a PK the bar reads. */
export interface PkTiming {
  state: 'INVITED' | 'SCORING' | 'PUNISHMENT' | 'LINKED' | 'ENDED' | 'REJECTED' | 'EXPIRED' | 'CLOSED';
  inviteExpiresAt: string;
  scoreEndsAt?: string | null;
  punishmentEndsAt?: string | null;
}

export interface Phase {
  label: string;
  /** Whole seconds left in the phase (rounded up, never below 0), or null when it has no deadline. */
  remainingSecs: number | null;
}

const LABELS: Record<PkTiming['state'], string> = {
  INVITED: 'Invited',
  SCORING: 'PK',
  PUNISHMENT: 'Punishment',
  LINKED: 'Linked',
  ENDED: 'Ended',
  REJECTED: 'Rejected',
  EXPIRED: 'Expired',
  CLOSED: 'Closed',
};

function deadline(pk: PkTiming): string | null | undefined {
  switch (pk.state) {
    case 'INVITED':
      return pk.inviteExpiresAt;
    case 'SCORING':
      return pk.scoreEndsAt;
    case 'PUNISHMENT':
      return pk.punishmentEndsAt;
    default:
      return null;
  }
}

export function phaseOf(pk: PkTiming, nowMs: number): Phase {
  const at = deadline(pk);
  const remainingSecs = at ? Math.max(0, Math.ceil((Date.parse(at) - nowMs) / 1000)) : null;
  return { label: LABELS[pk.state], remainingSecs };
}

/** `m:ss`, e.g. 5:59, 0:07. */
export function formatCountdown(secs: number): string {
  const m = Math.floor(secs / 60);
  return `${m}:${String(secs % 60).padStart(2, '0')}`;
}

/** The inviter's share of the bar in percent (half each at 0:0). */
export function inviterShare(inviterScore: number, inviteeScore: number): number {
  const total = inviterScore + inviteeScore;
  return total === 0 ? 50 : (100 * inviterScore) / total;
}
