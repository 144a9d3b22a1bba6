// VOD danmaku timing, without the DOM: which danmaku show at a playback time and where. Lanes
// are assigned once over the whole timeline (in offset order), so a seek shows exactly what
// plain playback would have shown at that time.

export type DanmakuMode = 'SCROLL' | 'TOP' | 'BOTTOM';

export interface TimedDanmaku {
  id: string;
  offsetMs: number;
  mode: DanmakuMode;
  /** Its drawn width in pixels (measured by the caller). */
  width: number;
}

export interface Stage {
  width: number;
  /** Lanes per mode: rows of the player a danmaku can take. */
  lanes: number;
  /** Scrolling speed, pixels per millisecond (one speed for all: a later one never catches up). */
  speed: number;
  /** Space kept between two scrolling danmaku of one lane, pixels. */
  gap: number;
}

/** How long a top or bottom danmaku stays. */
export const FIXED_MS = 4_000;

export interface Placed<D extends TimedDanmaku> {
  danmaku: D;
  lane: number;
  durationMs: number;
}

/** When a scrolling danmaku has moved far enough in for another to follow it in its lane. */
function laneFreeFrom(placed: Placed<TimedDanmaku>, stage: Stage): number {
  if (placed.danmaku.mode !== 'SCROLL') return placed.danmaku.offsetMs + placed.durationMs;
  return placed.danmaku.offsetMs + (placed.danmaku.width + stage.gap) / stage.speed;
}

/**
 * Gives each danmaku the first lane of its mode that is free at its offset. One for which no
 * lane is free is left out (drawn over another it could not be read), as players do.
 */
export function placeDanmaku<D extends TimedDanmaku>(danmaku: readonly D[], stage: Stage): Placed<D>[] {
  const ordered = [...danmaku].sort((a, b) => a.offsetMs - b.offsetMs || a.id.localeCompare(b.id));
  const last: Record<DanmakuMode, (Placed<TimedDanmaku> | undefined)[]> = { SCROLL: [], TOP: [], BOTTOM: [] };
  const placed: Placed<D>[] = [];
  for (const d of ordered) {
    const lanes = last[d.mode];
    let lane = -1;
    for (let i = 0; i < stage.lanes; i += 1) {
      const previous = lanes[i];
      if (!previous || laneFreeFrom(previous, stage) <= d.offsetMs) {
        lane = i;
        break;
      }
    }
    if (lane < 0) continue;
    const durationMs = d.mode === 'SCROLL' ? (stage.width + d.width) / stage.speed : FIXED_MS;
    const entry = { danmaku: d, lane, durationMs };
    lanes[lane] = entry;
    placed.push(entry);
  }
  return placed;
}

export interface Shown<D extends TimedDanmaku> extends Placed<D> {
  /** Left edge in pixels: scrolling ones move from the right edge leftwards, fixed ones are centred. */
  x: number;
}

/** The danmaku on screen at playback time `tMs`, with their positions. */
export function danmakuAt<D extends TimedDanmaku>(placed: readonly Placed<D>[], tMs: number, stage: Stage): Shown<D>[] {
  const shown: Shown<D>[] = [];
  for (const p of placed) {
    const elapsed = tMs - p.danmaku.offsetMs;
    if (elapsed < 0 || elapsed >= p.durationMs) continue;
    const x = p.danmaku.mode === 'SCROLL' ? stage.width - elapsed * stage.speed : (stage.width - p.danmaku.width) / 2;
    shown.push({ ...p, x });
  }
  return shown;
}
