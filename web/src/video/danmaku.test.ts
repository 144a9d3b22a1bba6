import { describe, expect, it } from 'vitest';
import { FIXED_MS, danmakuAt, placeDanmaku, type DanmakuMode, type Stage } from './danmaku';

// 800 px wide, 3 lanes a mode, 0.2 px/ms: a 200 px danmaku crosses in 5 s and frees its lane
// after (200 + 20) / 0.2 = 1.1 s.
const stage: Stage = { width: 800, lanes: 3, speed: 0.2, gap: 20 };
const d = (id: string, offsetMs: number, mode: DanmakuMode = 'SCROLL', width = 200) => ({ id, offsetMs, mode, width });

describe('VOD danmaku timing', () => {
  it('shows a danmaku from its offset for its duration only', () => {
    const placed = placeDanmaku([d('a', 1_000)], stage);
    expect(danmakuAt(placed, 999, stage)).toEqual([]);
    expect(danmakuAt(placed, 1_000, stage).map((s) => s.x)).toEqual([800]);
    expect(danmakuAt(placed, 3_000, stage).map((s) => s.x)).toEqual([400]);
    expect(danmakuAt(placed, 5_999, stage)).toHaveLength(1);
    expect(danmakuAt(placed, 6_000, stage)).toEqual([]);
  });

  it('puts a scrolling danmaku in a new lane until the one before has moved in far enough', () => {
    const placed = placeDanmaku([d('a', 0), d('b', 500), d('c', 1_100), d('d', 1_200)], stage);
    expect(placed.map((p) => [p.danmaku.id, p.lane])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 0],
      ['d', 2],
    ]);
  });

  it('leaves out a danmaku when every lane of its mode is taken, not drawing it over another', () => {
    const placed = placeDanmaku([d('a', 0), d('b', 10), d('c', 20), d('d', 30), d('top', 30, 'TOP')], stage);
    expect(placed.map((p) => p.danmaku.id)).toEqual(['a', 'b', 'c', 'top']);
  });

  it('keeps top and bottom danmaku centred for a fixed time, in lanes of their own mode', () => {
    const placed = placeDanmaku([d('t1', 0, 'TOP', 100), d('t2', 100, 'TOP', 100), d('b1', 100, 'BOTTOM', 100), d('t3', FIXED_MS, 'TOP', 100)], stage);
    expect(placed.map((p) => [p.danmaku.id, p.lane])).toEqual([
      ['t1', 0],
      ['b1', 0],
      ['t2', 1],
      ['t3', 0],
    ]);
    const shown = danmakuAt(placed, 200, stage);
    expect(shown.map((s) => [s.danmaku.id, s.x])).toEqual([
      ['t1', 350],
      ['b1', 350],
      ['t2', 350],
    ]);
    expect(danmakuAt(placed, FIXED_MS, stage).map((s) => s.danmaku.id)).toEqual(['b1', 't2', 't3']);
  });

  it('lays out the same picture whatever order the danmaku arrive in (a seek shows what playback would)', () => {
    const list = [d('a', 0), d('b', 500), d('c', 1_100), d('d', 1_200), d('e', 40, 'BOTTOM')];
    const forwards = placeDanmaku(list, stage);
    const shuffled = placeDanmaku([list[3]!, list[0]!, list[4]!, list[2]!, list[1]!], stage);
    expect(danmakuAt(shuffled, 1_300, stage)).toEqual(danmakuAt(forwards, 1_300, stage));
  });
});
