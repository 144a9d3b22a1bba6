// The VOD player: a <video> with its danmaku drawn over it, read from the server ten minutes
// at a time around the playback position and laid out by ./danmaku (lanes, the three modes).
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { ErrorMessage } from '../components/common';
import { graphql } from '../gql';
import { danmakuAt, placeDanmaku, type DanmakuMode, type Stage, type TimedDanmaku } from './danmaku';

const VodDanmaku = graphql(`
  query VodDanmaku($videoId: ID!, $fromMs: Int!, $toMs: Int!) {
    danmaku(videoId: $videoId, fromMs: $fromMs, toMs: $toMs, limit: 5000) {
      id
      offsetMs
      text
      color
      mode
    }
  }
`);

const SendVodDanmaku = graphql(`
  mutation SendVodDanmaku($input: SendDanmakuInput!) {
    sendDanmaku(input: $input) {
      id
      offsetMs
      text
      color
      mode
    }
  }
`);

/** The server's widest danmaku window (`danmaku` spans at most ten minutes). */
const WINDOW_MS = 600_000;
const FONT_PX = 20;
const LANE_PX = 26;
const FONT = `${FONT_PX}px system-ui, sans-serif`;

interface Drawn extends TimedDanmaku {
  text: string;
  color: string;
}

let measuring: CanvasRenderingContext2D | null = null;
function textWidth(text: string): number {
  measuring ??= document.createElement('canvas').getContext('2d');
  if (!measuring) return text.length * FONT_PX;
  measuring.font = FONT;
  return Math.ceil(measuring.measureText(text).width);
}

export function VodPlayer({ videoId, sourceUrl, canSend }: { videoId: string; sourceUrl: string; canSend: boolean }) {
  const video = useRef<HTMLVideoElement>(null);
  const [box, setBox] = useState({ width: 0, height: 0 });
  const [nowMs, setNowMs] = useState(0);
  const windowStart = Math.floor(nowMs / WINDOW_MS) * WINDOW_MS;
  const [loaded] = useQuery({ query: VodDanmaku, variables: { videoId, fromMs: windowStart, toMs: windowStart + WINDOW_MS } });
  const [mine, setMine] = useState<Drawn[]>([]);

  // Playback time, read every frame while playing (timeupdate fires only every ~250 ms).
  useEffect(() => {
    const element = video.current;
    if (!element) return;
    let frame = 0;
    const tick = () => {
      setNowMs(Math.floor(element.currentTime * 1000));
      frame = element.paused ? 0 : requestAnimationFrame(tick);
    };
    const start = () => {
      cancelAnimationFrame(frame);
      tick();
    };
    const resize = () => setBox({ width: element.clientWidth, height: element.clientHeight });
    const observer = new ResizeObserver(resize);
    observer.observe(element);
    element.addEventListener('play', start);
    element.addEventListener('seeked', start);
    return () => {
      cancelAnimationFrame(frame);
      observer.disconnect();
      element.removeEventListener('play', start);
      element.removeEventListener('seeked', start);
    };
  }, []);

  const stage: Stage = useMemo(
    () => ({ width: box.width, lanes: Math.max(1, Math.floor((box.height * 0.75) / LANE_PX / 2)), speed: Math.max(box.width, 320) / 8_000, gap: 24 }),
    [box.width, box.height],
  );
  const placed = useMemo(() => {
    const seen = new Set<string>();
    const all: Drawn[] = [...(loaded.data?.danmaku ?? []), ...mine]
      .filter((d) => (seen.has(d.id) ? false : (seen.add(d.id), true)))
      .map((d) => ({ id: d.id, offsetMs: d.offsetMs, mode: d.mode as DanmakuMode, text: d.text, color: d.color, width: textWidth(d.text) }));
    return placeDanmaku(all, stage);
  }, [loaded.data, mine, stage]);
  const shown = box.width > 0 ? danmakuAt(placed, nowMs, stage) : [];

  return (
    <>
      <div className="player danmaku-stage">
        <video ref={video} src={sourceUrl} controls preload="metadata" />
        <div className="danmaku-layer" aria-hidden="true" data-testid="danmaku-layer">
          {shown.map(({ danmaku, lane, x }) => (
            <span
              key={danmaku.id}
              className={`vod-danmaku ${danmaku.mode.toLowerCase()}`}
              style={{ left: x, color: danmaku.color, [danmaku.mode === 'BOTTOM' ? 'bottom' : 'top']: lane * LANE_PX + 4 }}
            >
              {danmaku.text}
            </span>
          ))}
        </div>
      </div>
      <ErrorMessage error={loaded.error} />
      {canSend ? <SendDanmaku videoId={videoId} atMs={() => Math.floor((video.current?.currentTime ?? 0) * 1000)} onSent={(d) => setMine((m) => [...m, d])} /> : null}
    </>
  );
}

function SendDanmaku({ videoId, atMs, onSent }: { videoId: string; atMs: () => number; onSent: (d: Drawn) => void }) {
  const [text, setText] = useState('');
  const [mode, setMode] = useState<DanmakuMode>('SCROLL');
  const [sent, send] = useMutation(SendVodDanmaku);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const r = await send({ input: { videoId, offsetMs: atMs(), text, mode } });
    if (r.data) {
      const d = r.data.sendDanmaku;
      onSent({ id: d.id, offsetMs: d.offsetMs, mode: d.mode as DanmakuMode, text: d.text, color: d.color, width: textWidth(d.text) });
      setText('');
    }
  };
  return (
    <form className="send-danmaku" onSubmit={(e) => void submit(e)}>
      <input aria-label="Danmaku" value={text} maxLength={100} onChange={(e) => setText(e.target.value)} placeholder="Send a danmaku at this moment" />
      <select aria-label="Danmaku mode" value={mode} onChange={(e) => setMode(e.target.value as DanmakuMode)}>
        <option value="SCROLL">Scroll</option>
        <option value="TOP">Top</option>
        <option value="BOTTOM">Bottom</option>
      </select>
      <button type="submit" disabled={sent.fetching || text.trim() === ''}>
        Send danmaku
      </button>
      <ErrorMessage error={sent.error} />
    </form>
  );
}
