import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useMutation, useQuery, useSubscription } from 'urql';
import { Empty, ErrorMessage, Loading } from '../components/common';
import { graphql } from '../gql';
import type { LiveDanmakuFieldsFragment, RoomPkSubscription } from '../gql/graphql';
import { Recharge, WeekStar } from '../live/Extras';
import { formatCountdown, inviterShare, phaseOf } from '../live/countdown';
import { useUser } from '../session-context';

const ChannelsQuery = graphql(`
  query Channels {
    channels {
      id
      name
    }
  }
`);

const LiveRoomsQuery = graphql(`
  query LiveRooms($channelId: ID!) {
    liveRooms(channelId: $channelId, first: 24) {
      nodes {
        id
        title
        viewerCount
        streamer {
          id
          displayName
        }
      }
    }
  }
`);

const RoomQuery = graphql(`
  query LiveRoom($id: ID!) {
    room(id: $id) {
      id
      title
      isLive
      viewerCount
      streamer {
        id
        displayName
      }
      channel {
        id
        name
      }
    }
    gifts {
      id
      name
      price
    }
  }
`);

const WalletQuery = graphql(`
  query MyWallet {
    myWallet {
      balance
    }
  }
`);

graphql(`
  fragment LiveDanmakuFields on LiveDanmaku {
    id
    text
    colour
    sentAt
    dropped
    sender {
      id
      displayName
    }
    wornMedals {
      id
      name
    }
  }
`);

const RecentDanmaku = graphql(`
  query RecentDanmaku($roomId: ID!) {
    recentDanmaku(roomId: $roomId, last: 50) {
      ...LiveDanmakuFields
    }
  }
`);

const DanmakuStream = graphql(`
  subscription RoomDanmaku($roomId: ID!) {
    roomDanmaku(roomId: $roomId) {
      ...LiveDanmakuFields
    }
  }
`);

const SendDanmaku = graphql(`
  mutation SendLiveDanmaku($roomId: ID!, $text: String!) {
    sendLiveDanmaku(roomId: $roomId, text: $text) {
      id
    }
  }
`);

const SendGift = graphql(`
  mutation SendGift($roomId: ID!, $giftId: String!, $count: Int!, $idempotencyKey: String!) {
    sendGift(roomId: $roomId, giftId: $giftId, count: $count, idempotencyKey: $idempotencyKey) {
      id
      balance
    }
  }
`);

const RoomPk = graphql(`
  subscription RoomPk($roomId: ID!) {
    roomPk(roomId: $roomId) {
      id
      state
      inviteExpiresAt
      scoreEndsAt
      punishmentEndsAt
      isDraw
      winner {
        id
        displayName
      }
      inviter {
        roomId
        score
        streamer {
          id
          displayName
        }
      }
      invitee {
        roomId
        score
        streamer {
          id
          displayName
        }
      }
    }
  }
`);

/** How often the viewer count (approximate by design: replicas report every 2 s) is read again. */
const VIEWER_COUNT_REFRESH_MS = 5_000;

export function LiveRooms() {
  const [channels] = useQuery({ query: ChannelsQuery });
  const [channelId, setChannelId] = useState<string | null>(null);
  const selected = channelId ?? channels.data?.channels[0]?.id ?? null;
  const [rooms] = useQuery({ query: LiveRoomsQuery, variables: { channelId: selected ?? '' }, pause: selected === null });
  return (
    <section>
      <h1>Live</h1>
      <ErrorMessage error={channels.error} />
      <div className="tabs" role="tablist" aria-label="Channel">
        {channels.data?.channels.map((channel) => (
          <button type="button" role="tab" key={channel.id} aria-selected={selected === channel.id} onClick={() => setChannelId(channel.id)}>
            {channel.name}
          </button>
        ))}
      </div>
      <ErrorMessage error={rooms.error} />
      {rooms.fetching ? <Loading what="live rooms" /> : null}
      {rooms.data && rooms.data.liveRooms.nodes.length === 0 ? <Empty>Nobody is live in this channel.</Empty> : null}
      <ul className="room-list">
        {rooms.data?.liveRooms.nodes.map((room) => (
          <li key={room.id}>
            <Link to={`/live/${room.id}`}>{room.title}</Link> <span className="muted">· {room.streamer.displayName} · {room.viewerCount} watching</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function LiveRoom() {
  const { id = '' } = useParams();
  const user = useUser();
  const [result, refetch] = useQuery({ query: RoomQuery, variables: { id } });
  useEffect(() => {
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), VIEWER_COUNT_REFRESH_MS);
    return () => clearInterval(timer);
  }, [refetch]);
  if (result.error) return <ErrorMessage error={result.error} />;
  const room = result.data?.room;
  if (!room) return result.fetching ? <Loading what="the room" /> : <Empty>This room does not exist.</Empty>;
  return (
    <article className="live-room">
      <h1>{room.title}</h1>
      <p className="meta">
        {room.streamer.displayName}
        {room.channel ? ` · ${room.channel.name}` : ''} · {room.isLive ? 'live' : 'offline'} · <span data-testid="viewer-count">{room.viewerCount}</span> watching
      </p>
      <PkBar roomId={room.id} />
      <div className="live-columns">
        <Danmaku roomId={room.id} canSend={user !== null && room.isLive} />
        {user ? <Gifts roomId={room.id} gifts={result.data?.gifts ?? []} /> : <p className="muted"><Link to="/sign-in">Sign in</Link> to send gifts and danmaku.</p>}
      </div>
      {room.channel ? <WeekStar channelId={room.channel.id} /> : null}
    </article>
  );
}

type Pk = RoomPkSubscription['roomPk'];

/** Re-renders every second, for a countdown. */
function useSecondTick(): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 1_000);
    return () => clearInterval(timer);
  }, []);
}

function PkBar({ roomId }: { roomId: string }) {
  const [pk] = useSubscription({ query: RoomPk, variables: { roomId } });
  useSecondTick();
  const current: Pk | undefined = pk.data?.roomPk;
  if (pk.error) return <ErrorMessage error={pk.error} />;
  if (!current || !['INVITED', 'SCORING', 'PUNISHMENT', 'ENDED'].includes(current.state)) return null;
  // Read the time at each render, not at the last tick: a PK that arrives between ticks must
  // not count down from a time before it existed.
  const phase = phaseOf(current, Date.now());
  const share = inviterShare(current.inviter.score, current.invitee.score);
  return (
    <section className="pk" data-testid="pk-bar" data-state={current.state}>
      <div className="pk-head">
        <span data-testid="pk-phase">{phase.label}</span>
        {phase.remainingSecs !== null ? <span data-testid="pk-countdown"> {formatCountdown(phase.remainingSecs)}</span> : null}
        {current.state !== 'SCORING' && current.state !== 'INVITED' ? (
          <span className="pk-result"> · {current.isDraw ? 'Draw' : current.winner ? `${current.winner.displayName} wins` : ''}</span>
        ) : null}
      </div>
      <div className="pk-track">
        <div className="pk-left" style={{ width: `${share}%` }} />
      </div>
      <div className="pk-scores">
        <span>
          {current.inviter.streamer.displayName} <strong data-testid="pk-inviter-score">{current.inviter.score}</strong>
        </span>
        <span>
          <strong data-testid="pk-invitee-score">{current.invitee.score}</strong> {current.invitee.streamer.displayName}
        </span>
      </div>
    </section>
  );
}

const MAX_DANMAKU = 100;

function Danmaku({ roomId, canSend }: { roomId: string; canSend: boolean }) {
  const [recent] = useQuery({ query: RecentDanmaku, variables: { roomId } });
  const [stream] = useSubscription({ query: DanmakuStream, variables: { roomId } }, (all: LiveDanmakuFieldsFragment[] = [], event) =>
    [...all, event.roomDanmaku].slice(-MAX_DANMAKU),
  );
  const [text, setText] = useState('');
  const [sent, send] = useMutation(SendDanmaku);
  const seen = new Set<string>();
  const messages = [...(recent.data?.recentDanmaku ?? []), ...(stream.data ?? [])].filter((m) => !seen.has(m.id) && seen.add(m.id));
  const dropped = stream.data?.reduce((sum, m) => sum + m.dropped, 0) ?? 0;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const reply = await send({ roomId, text });
    if (reply.data) setText('');
  };
  return (
    <section className="danmaku">
      <h2>Danmaku</h2>
      <ErrorMessage error={recent.error ?? stream.error} />
      <ul className="danmaku-list" data-testid="danmaku">
        {messages.map((m) => (
          <li key={m.id}>
            {m.wornMedals.map((medal) => (
              <span key={medal.id} className="medal">
                {medal.name}
              </span>
            ))}
            <strong>{m.sender.displayName}</strong> <span style={{ color: m.colour }}>{m.text}</span>
          </li>
        ))}
      </ul>
      {dropped > 0 ? <p className="muted">{dropped} messages skipped to keep up.</p> : null}
      {canSend ? (
        <form className="danmaku-form" onSubmit={(e) => void submit(e)}>
          <input value={text} onChange={(e) => setText(e.target.value)} maxLength={100} placeholder="Say something" aria-label="Danmaku" />
          <button type="submit" disabled={sent.fetching || text.trim() === ''}>
            Send
          </button>
        </form>
      ) : null}
      <ErrorMessage error={sent.error} />
    </section>
  );
}

function Gifts({ roomId, gifts }: { roomId: string; gifts: Array<{ id: string; name: string; price: number }> }) {
  const [wallet, refetchWallet] = useQuery({ query: WalletQuery });
  const [receipt, send] = useMutation(SendGift);
  // The latest of the two: a gift's receipt, or the wallet read again after a recharge.
  const [recharged, setRecharged] = useState(false);
  const balance = (recharged ? undefined : receipt.data?.sendGift.balance) ?? wallet.data?.myWallet.balance;
  const onPaid = useCallback(() => {
    setRecharged(true);
    refetchWallet({ requestPolicy: 'network-only' });
  }, [refetchWallet]);
  const sendGift = (giftId: string) => {
    setRecharged(false);
    void send({ roomId, giftId, count: 1, idempotencyKey: crypto.randomUUID() });
  };
  return (
    <section className="gifts">
      <h2>Gifts</h2>
      <p>
        Balance: <strong data-testid="balance">{balance ?? '…'}</strong>
      </p>
      <ErrorMessage error={wallet.error ?? receipt.error} />
      <div className="gift-buttons">
        {gifts.map((gift) => (
          <button
            type="button"
            key={gift.id}
            data-testid={`gift-${gift.id}`}
            disabled={receipt.fetching || balance === undefined || balance < gift.price}
            onClick={() => sendGift(gift.id)}
          >
            {gift.name} <span className="muted">{gift.price}</span>
          </button>
        ))}
      </div>
      <Recharge onPaid={onPaid} />
    </section>
  );
}
