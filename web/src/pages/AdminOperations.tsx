// The admin console's operations tabs: hot weights and recompute runs (ranking), the report
// queue with mutes and bans (community), gifts and medals (live), week-star switches and gifts
// (ranking), the assets download dead letters and content's and ranking's dead letters. Each
// mutation shows the server's error.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { Empty, ErrorMessage, Loading, useRefetchAfter } from '../components/common';
import { graphql } from '../gql';
import type { HotWeightsInput, PlatformDeadLetterFragment } from '../gql/graphql';

const HotWeightsQuery = graphql(`
  query AdminHotWeights {
    hotWeights {
      id
      views
      likes
      coins
      favourites
      shares
      comments
      danmaku
      newBoostPercent
      newBoostHours
      changedAt
    }
    hotRecomputeRuns(first: 10) {
      id
      reason
      status
      videosProcessed
      startedAt
      durationMs
      error
    }
  }
`);

const SetHotWeights = graphql(`
  mutation SetHotWeights($input: HotWeightsInput!) {
    setHotWeights(input: $input) {
      id
    }
  }
`);

const RecomputeHotRankings = graphql(`
  mutation RecomputeHotRankings {
    recomputeHotRankings {
      id
      status
    }
  }
`);

const ModerationQuery = graphql(`
  query AdminModeration {
    reports(first: 50) {
      nodes {
        id
        targetKind
        excerpt
        reportCount
        targetAuthor {
          id
          displayName
        }
        reasons {
          reason
        }
      }
    }
    mutedUsers(first: 50) {
      nodes {
        mutedUntil
        user {
          id
          displayName
        }
      }
    }
    bannedUsers(first: 50) {
      nodes {
        hidesContent
        user {
          id
          displayName
        }
      }
    }
  }
`);

const ResolveReport = graphql(`
  mutation ResolveReport($id: ID!, $action: ReportAction!, $note: String) {
    resolveReport(id: $id, action: $action, note: $note) {
      id
      resolved
    }
  }
`);

const BanUser = graphql(`
  mutation BanUser($userId: ID!, $reason: String!) {
    banUser(userId: $userId, reason: $reason) {
      banned
    }
  }
`);

const UnbanUser = graphql(`
  mutation UnbanUser($userId: ID!, $reason: String!) {
    unbanUser(userId: $userId, reason: $reason) {
      banned
    }
  }
`);

const UnmuteUser = graphql(`
  mutation UnmuteUser($userId: ID!, $reason: String!) {
    unmuteUser(userId: $userId, reason: $reason) {
      mutedUntil
    }
  }
`);

const GiftsAndMedalsQuery = graphql(`
  query AdminGiftsAndMedals {
    gifts(includeInactive: true) {
      id
      name
      price
      active
    }
    medals(includeHidden: true) {
      id
      groupId
      name
      weight
      validityDays
      visible
    }
  }
`);

const CreateGift = graphql(`
  mutation CreateGift($input: CreateGiftInput!) {
    createGift(input: $input) {
      id
    }
  }
`);

const SetGiftActive = graphql(`
  mutation SetGiftActive($id: String!, $active: Boolean!) {
    updateGift(id: $id, input: { active: $active }) {
      id
      active
    }
  }
`);

const WeekStarChannelQuery = graphql(`
  query AdminWeekStarChannel($channelId: ID!) {
    weekStarChannel(channelId: $channelId) {
      channelId
      configured
      webVisible
      appVisible
      counting
      thisWeek {
        giftIds
      }
      nextWeek {
        giftIds
      }
    }
  }
`);

const SetWeekStarVisibility = graphql(`
  mutation SetWeekStarVisibility($channelId: ID!, $webVisible: Boolean!, $appVisible: Boolean!) {
    setWeekStarVisibility(channelId: $channelId, webVisible: $webVisible, appVisible: $appVisible) {
      channelId
      webVisible
      appVisible
    }
  }
`);

const ConfigureWeekStarGifts = graphql(`
  mutation ConfigureWeekStarGifts($channelId: ID!, $giftIds: [String!]!) {
    configureWeekStarGifts(channelId: $channelId, giftIds: $giftIds) {
      channelId
    }
  }
`);

// The fields of a dead letter (the platform's `DeadLetter`, which assets, content and ranking
// all serve), spread by the queries below; codegen types them as PlatformDeadLetterFragment.
graphql(`
  fragment PlatformDeadLetter on DeadLetter {
    id
    consumer
    subject
    deliveries
    reason
    deadAt
  }
`);

const AssetsDeadLettersQuery = graphql(`
  query AdminAssetsDeadLetters {
    assetsDeadLetters(first: 50) {
      edges {
        node {
          ...PlatformDeadLetter
        }
      }
    }
  }
`);

const RetryAssetsDeadLetter = graphql(`
  mutation RetryAssetsDeadLetter($id: ID!) {
    retryAssetsDeadLetter(id: $id)
  }
`);

const DiscardAssetsDeadLetter = graphql(`
  mutation DiscardAssetsDeadLetter($id: ID!) {
    discardAssetsDeadLetter(id: $id)
  }
`);

const PlatformDeadLettersQuery = graphql(`
  query AdminPlatformDeadLetters {
    contentFollows: contentDeadLetters(consumer: "content-follows", first: 50) {
      edges {
        node {
          ...PlatformDeadLetter
        }
      }
    }
    rankingHot: rankingDeadLetters(consumer: "ranking-hot", first: 50) {
      edges {
        node {
          ...PlatformDeadLetter
        }
      }
    }
    rankingWeekStarGifts: rankingDeadLetters(consumer: "ranking-weekstar-gifts", first: 50) {
      edges {
        node {
          ...PlatformDeadLetter
        }
      }
    }
  }
`);

const RedriveContentDeadLetters = graphql(`
  mutation RedriveContentDeadLetters($ids: [ID!]!) {
    redriveContentDeadLetters(ids: $ids) {
      id
      redriven
    }
  }
`);

const RedriveRankingDeadLetters = graphql(`
  mutation RedriveRankingDeadLetters($ids: [ID!]!) {
    redriveRankingDeadLetters(ids: $ids) {
      id
      redriven
    }
  }
`);

const WEIGHT_FIELDS = ['views', 'likes', 'coins', 'favourites', 'shares', 'comments', 'danmaku', 'newBoostPercent', 'newBoostHours'] as const;

export function RankingPanel() {
  const [query, refetch] = useQuery({ query: HotWeightsQuery, requestPolicy: 'network-only' });
  const [recomputed, recompute] = useMutation(RecomputeHotRankings);
  const act = useRefetchAfter(refetch);
  if (query.error) return <ErrorMessage error={query.error} />;
  if (!query.data) return <Loading what="hot weights" />;
  const weights = query.data.hotWeights;
  return (
    <>
      <section>
        <h2>Hot weights</h2>
        <p data-testid="hot-weights-version">
          Version {weights.id}, since {new Date(weights.changedAt).toLocaleString()}
        </p>
        {/* Keyed by version: a saved version starts the form again from the server's values. */}
        <HotWeightsForm key={weights.id} current={weights} onSaved={() => refetch({ requestPolicy: 'network-only' })} />
      </section>
      <section>
        <h2>Recompute runs</h2>
        <button type="button" disabled={recomputed.fetching} onClick={() => void act(() => recompute({}))}>
          Recompute now
        </button>
        {recomputed.data && recomputed.data.recomputeHotRankings === null ? <p>A recompute is running already.</p> : null}
        <ErrorMessage error={recomputed.error} />
        {query.data.hotRecomputeRuns.length === 0 ? <Empty>No recompute has run yet.</Empty> : null}
        <table data-testid="recompute-runs">
          <tbody>
            {query.data.hotRecomputeRuns.map((run) => (
              <tr key={run.id}>
                <td>{new Date(run.startedAt).toLocaleString()}</td>
                <td>{run.reason}</td>
                <td>{run.status}</td>
                <td>{run.videosProcessed} videos</td>
                <td>{run.durationMs === null || run.durationMs === undefined ? '' : `${run.durationMs} ms`}</td>
                <td>{run.error}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function HotWeightsForm({ current, onSaved }: { current: HotWeightsInput; onSaved: () => void }) {
  const [saved, save] = useMutation(SetHotWeights);
  const [values, setValues] = useState(() => Object.fromEntries(WEIGHT_FIELDS.map((f) => [f, String(current[f])])));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input = Object.fromEntries(WEIGHT_FIELDS.map((f) => [f, Number(values[f])])) as HotWeightsInput;
    if ((await save({ input })).data) onSaved();
  };
  return (
    <form className="inline-form" onSubmit={(e) => void submit(e)}>
      {WEIGHT_FIELDS.map((field) => (
        <label key={field}>
          {field} <input aria-label={`Weight ${field}`} inputMode="numeric" size={5} value={values[field]} onChange={(e) => setValues({ ...values, [field]: e.target.value })} />
        </label>
      ))}
      <button type="submit" disabled={saved.fetching}>
        Save weights
      </button>
      <ErrorMessage error={saved.error} />
    </form>
  );
}

export function ModerationPanel() {
  const [query, refetch] = useQuery({ query: ModerationQuery, requestPolicy: 'network-only' });
  const [resolved, resolve] = useMutation(ResolveReport);
  const [banned, ban] = useMutation(BanUser);
  const [unbanned, unban] = useMutation(UnbanUser);
  const [unmuted, unmute] = useMutation(UnmuteUser);
  const [note, setNote] = useState('');
  const [userId, setUserId] = useState('');
  const [reason, setReason] = useState('');
  const act = useRefetchAfter(refetch);
  if (query.error) return <ErrorMessage error={query.error} />;
  if (!query.data) return <Loading what="the report queue" />;
  const { reports, mutedUsers, bannedUsers } = query.data;
  return (
    <>
      <section>
        <h2>Report queue</h2>
        <ErrorMessage error={resolved.error} />
        {reports.nodes.length === 0 ? (
          <Empty>No open report.</Empty>
        ) : (
          <label>
            Note (required to remove) <input aria-label="Resolution note" value={note} onChange={(e) => setNote(e.target.value)} />
          </label>
        )}
        <table>
          <tbody>
            {reports.nodes.map((entry) => (
              <tr key={entry.id}>
                <td>{entry.targetKind}</td>
                <td>{entry.targetAuthor.displayName}</td>
                <td>{entry.excerpt.slice(0, 120)}</td>
                <td>
                  {entry.reportCount} × {entry.reasons.map((r) => r.reason).join('; ')}
                </td>
                <td>
                  <button type="button" onClick={() => void act(() => resolve({ id: entry.id, action: 'DISMISS', note: note || null }))}>
                    Dismiss
                  </button>{' '}
                  <button type="button" onClick={() => void act(() => resolve({ id: entry.id, action: 'REMOVE', note: note || null }))}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Mutes and bans</h2>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() => ban({ userId, reason }));
          }}
        >
          <input aria-label="User id to ban" placeholder="User id" value={userId} onChange={(e) => setUserId(e.target.value)} />
          <input aria-label="Sanction reason" placeholder="Reason" value={reason} onChange={(e) => setReason(e.target.value)} />
          <button type="submit" disabled={banned.fetching || userId.trim() === ''}>
            Ban
          </button>
        </form>
        <ErrorMessage error={banned.error ?? unbanned.error ?? unmuted.error} />
        <h3>Banned</h3>
        {bannedUsers.nodes.length === 0 ? <Empty>Nobody is banned.</Empty> : null}
        <ul data-testid="banned-users">
          {bannedUsers.nodes.map((s) => (
            <li key={s.user.id}>
              {s.user.displayName}
              {s.hidesContent ? ' (content hidden)' : ''}{' '}
              <button type="button" onClick={() => void act(() => unban({ userId: s.user.id, reason }))}>
                Unban
              </button>
            </li>
          ))}
        </ul>
        <h3>Muted</h3>
        {mutedUsers.nodes.length === 0 ? <Empty>Nobody is muted.</Empty> : null}
        <ul>
          {mutedUsers.nodes.map((s) => (
            <li key={s.user.id}>
              {s.user.displayName} until {s.mutedUntil ? new Date(s.mutedUntil).toLocaleString() : '?'}{' '}
              <button type="button" onClick={() => void act(() => unmute({ userId: s.user.id, reason }))}>
                Unmute
              </button>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

export function GiftsAndMedalsPanel() {
  const [query, refetch] = useQuery({ query: GiftsAndMedalsQuery, requestPolicy: 'network-only' });
  const [created, create] = useMutation(CreateGift);
  const [updated, update] = useMutation(SetGiftActive);
  const [gift, setGift] = useState({ id: '', name: '', price: '' });
  const act = useRefetchAfter(refetch);
  if (query.error) return <ErrorMessage error={query.error} />;
  if (!query.data) return <Loading what="gifts and medals" />;
  return (
    <>
      <section>
        <h2>Gifts</h2>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() => create({ input: { id: gift.id, name: gift.name, price: Number(gift.price) } }));
          }}
        >
          <input aria-label="Gift id" placeholder="Id" value={gift.id} onChange={(e) => setGift({ ...gift, id: e.target.value })} />
          <input aria-label="Gift name" placeholder="Name" value={gift.name} onChange={(e) => setGift({ ...gift, name: e.target.value })} />
          <input aria-label="Gift price" placeholder="Price" inputMode="numeric" value={gift.price} onChange={(e) => setGift({ ...gift, price: e.target.value })} />
          <button type="submit" disabled={created.fetching}>
            Create gift
          </button>
        </form>
        <ErrorMessage error={created.error ?? updated.error} />
        <table data-testid="gifts">
          <tbody>
            {query.data.gifts.map((g) => (
              <tr key={g.id}>
                <td>{g.id}</td>
                <td>{g.name}</td>
                <td>{g.price}</td>
                <td>{g.active ? 'active' : 'inactive'}</td>
                <td>
                  <button type="button" onClick={() => void act(() => update({ id: g.id, active: !g.active }))}>
                    {g.active ? 'Deactivate' : 'Activate'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Medals</h2>
        {query.data.medals.length === 0 ? <Empty>No medal exists.</Empty> : null}
        <table>
          <tbody>
            {query.data.medals.map((m) => (
              <tr key={m.id}>
                <td>{m.name}</td>
                <td>group {m.groupId}</td>
                <td>weight {m.weight}</td>
                <td>{m.validityDays === null || m.validityDays === undefined ? 'permanent' : `${m.validityDays} days`}</td>
                <td>{m.visible ? 'visible' : 'hidden'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

export function WeekStarPanel() {
  const [channelId, setChannelId] = useState('');
  const [shown, setShown] = useState<string | null>(null);
  return (
    <section>
      <h2>Week stars</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setShown(channelId.trim());
        }}
      >
        <input aria-label="Channel id" placeholder="Channel id" value={channelId} onChange={(e) => setChannelId(e.target.value)} />
        <button type="submit" disabled={channelId.trim() === ''}>
          Show channel
        </button>
      </form>
      {shown ? <WeekStarChannelSettings key={shown} channelId={shown} /> : null}
    </section>
  );
}

function WeekStarChannelSettings({ channelId }: { channelId: string }) {
  const [query, refetch] = useQuery({ query: WeekStarChannelQuery, variables: { channelId }, requestPolicy: 'network-only' });
  const [visibility, setVisibility] = useMutation(SetWeekStarVisibility);
  const [configured, configure] = useMutation(ConfigureWeekStarGifts);
  const [giftIds, setGiftIds] = useState('');
  const act = useRefetchAfter(refetch);
  if (query.error) return <ErrorMessage error={query.error} />;
  if (!query.data) return <Loading what="the channel's week-star settings" />;
  const channel = query.data.weekStarChannel;
  return (
    <>
      <p data-testid="week-star-switches">
        Web {channel.webVisible ? 'on' : 'off'}, app {channel.appVisible ? 'on' : 'off'}; {channel.configured ? 'configured' : 'not configured'},{' '}
        {channel.counting ? 'counting' : 'not counting'}.
      </p>
      <button type="button" onClick={() => void act(() => setVisibility({ channelId, webVisible: !channel.webVisible, appVisible: channel.appVisible }))}>
        {channel.webVisible ? 'Hide on web' : 'Show on web'}
      </button>{' '}
      <button type="button" onClick={() => void act(() => setVisibility({ channelId, webVisible: channel.webVisible, appVisible: !channel.appVisible }))}>
        {channel.appVisible ? 'Hide in app' : 'Show in app'}
      </button>
      <p data-testid="week-star-gifts">
        This week: {channel.thisWeek.giftIds.join(', ') || 'none'}; next week: {channel.nextWeek.giftIds.join(', ') || 'none'}
      </p>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const ids = giftIds.split(',').map((id) => id.trim()).filter((id) => id !== '');
          void act(() => configure({ channelId, giftIds: ids }));
        }}
      >
        <input aria-label="Week-star gift ids" placeholder="Gift ids, comma-separated" value={giftIds} onChange={(e) => setGiftIds(e.target.value)} />
        <button type="submit" disabled={configured.fetching}>
          Set gifts
        </button>
      </form>
      <ErrorMessage error={visibility.error ?? configured.error} />
    </>
  );
}

export function DeadLettersPanel() {
  const [query, refetch] = useQuery({ query: AssetsDeadLettersQuery, requestPolicy: 'network-only' });
  const [retried, retry] = useMutation(RetryAssetsDeadLetter);
  const [discarded, discard] = useMutation(DiscardAssetsDeadLetter);
  const act = useRefetchAfter(refetch);
  if (query.error) return <ErrorMessage error={query.error} />;
  if (!query.data) return <Loading what="dead letters" />;
  const letters = query.data.assetsDeadLetters.edges.map((edge) => edge.node);
  return (
    <section>
      <h2>Download dead letters</h2>
      <ErrorMessage error={retried.error ?? discarded.error} />
      {letters.length === 0 ? <Empty>No download message is dead-lettered.</Empty> : null}
      <table>
        <tbody>
          {letters.map((letter) => (
            <tr key={letter.id}>
              <td>{new Date(letter.deadAt).toLocaleString()}</td>
              <td>{letter.consumer}</td>
              <td>{letter.subject}</td>
              <td>{letter.deliveries} deliveries</td>
              <td>{letter.reason}</td>
              <td>
                <button type="button" onClick={() => void act(() => retry({ id: letter.id }))}>
                  Retry
                </button>{' '}
                <button type="button" onClick={() => void act(() => discard({ id: letter.id }))}>
                  Discard
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function PlatformDeadLettersPanel() {
  const [query, refetch] = useQuery({ query: PlatformDeadLettersQuery, requestPolicy: 'network-only' });
  const [contentRedriven, redriveContent] = useMutation(RedriveContentDeadLetters);
  const [rankingRedriven, redriveRanking] = useMutation(RedriveRankingDeadLetters);
  const act = useRefetchAfter(refetch);
  if (query.error) return <ErrorMessage error={query.error} />;
  if (!query.data) return <Loading what="platform dead letters" />;
  const { contentFollows, rankingHot, rankingWeekStarGifts } = query.data;
  // Each subgraph redrives only its own consumers' dead letters.
  const consumers: { name: string; letters: PlatformDeadLetterFragment[]; redrive: (ids: string[]) => Promise<{ data?: unknown }> }[] = [
    { name: 'content-follows', letters: contentFollows.edges.map((e) => e.node), redrive: (ids) => redriveContent({ ids }) },
    { name: 'ranking-hot', letters: rankingHot.edges.map((e) => e.node), redrive: (ids) => redriveRanking({ ids }) },
    { name: 'ranking-weekstar-gifts', letters: rankingWeekStarGifts.edges.map((e) => e.node), redrive: (ids) => redriveRanking({ ids }) },
  ];
  return (
    <section>
      <h2>Platform dead letters</h2>
      <ErrorMessage error={contentRedriven.error ?? rankingRedriven.error} />
      {consumers.map(({ name, letters, redrive }) => (
        <div key={name} data-testid={`dead-letters-${name}`}>
          <h3>{name}</h3>
          {letters.length === 0 ? <Empty>No message of {name} is dead-lettered.</Empty> : null}
          <table>
            <tbody>
              {letters.map((letter) => (
                <tr key={letter.id}>
                  <td>{new Date(letter.deadAt).toLocaleString()}</td>
                  <td>{letter.subject}</td>
                  <td>{letter.deliveries} deliveries</td>
                  <td>{letter.reason}</td>
                  <td>
                    <button type="button" onClick={() => void act(() => redrive([letter.id]))}>
                      Redrive
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}
