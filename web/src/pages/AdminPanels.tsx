// The admin console's forms beside GraphiQL: the push of dynamics, the post review queue and
// the PK whitelist. Each mutation shows the server's error.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { Empty, ErrorMessage, Loading, useRefetchAfter } from '../components/common';
import { graphql } from '../gql';

const PushSettingsQuery = graphql(`
  query AdminPushSettings {
    pushSettings {
      enabled
      pollIntervalSecs
      updatedAt
    }
  }
`);

const SetPushEnabled = graphql(`
  mutation SetPushEnabled($enabled: Boolean!, $pollIntervalSecs: Int!) {
    setPushEnabled(enabled: $enabled, pollIntervalSecs: $pollIntervalSecs) {
      enabled
      pollIntervalSecs
      updatedAt
    }
  }
`);

const PostReviewQueue = graphql(`
  query PostReviewQueue {
    postsForReview(state: PENDING, first: 50) {
      nodes {
        id
        body
        createdAt
        author {
          id
          displayName
        }
        zone {
          id
          name
        }
      }
    }
  }
`);

const ApprovePost = graphql(`
  mutation ApprovePost($id: ID!) {
    approvePost(id: $id) {
      id
      state
    }
  }
`);

const RejectPost = graphql(`
  mutation RejectPost($id: ID!, $reason: String!) {
    rejectPost(id: $id, reason: $reason) {
      id
      state
    }
  }
`);

const PkWhitelistQuery = graphql(`
  query PkWhitelist {
    pkWhitelist {
      id
      displayName
    }
  }
`);

const AddToPkWhitelist = graphql(`
  mutation AddToPkWhitelist($userId: ID!) {
    addToPkWhitelist(userId: $userId)
  }
`);

const RemoveFromPkWhitelist = graphql(`
  mutation RemoveFromPkWhitelist($userId: ID!) {
    removeFromPkWhitelist(userId: $userId)
  }
`);

export function PushPanel() {
  const [settings, refetch] = useQuery({ query: PushSettingsQuery });
  const [saved, save] = useMutation(SetPushEnabled);
  const [pollSecs, setPollSecs] = useState('');
  if (settings.error) return <ErrorMessage error={settings.error} />;
  if (!settings.data) return <Loading what="push settings" />;
  const current = settings.data.pushSettings;
  const submit = async (event: FormEvent, enabled: boolean) => {
    event.preventDefault();
    const r = await save({ enabled, pollIntervalSecs: Number(pollSecs || current.pollIntervalSecs) });
    if (r.data) refetch({ requestPolicy: 'network-only' });
  };
  return (
    <section>
      <h2>Push of dynamics</h2>
      <p data-testid="push-state">
        Push is <strong>{current.enabled ? 'on' : 'off'}</strong>; clients poll every {current.pollIntervalSecs} s when it is off.
      </p>
      <form className="inline-form" onSubmit={(e) => void submit(e, !current.enabled)}>
        <label>
          Poll interval (s) <input aria-label="Poll interval" inputMode="numeric" value={pollSecs} placeholder={String(current.pollIntervalSecs)} onChange={(e) => setPollSecs(e.target.value)} />
        </label>
        <button type="submit" disabled={saved.fetching}>
          {current.enabled ? 'Turn push off' : 'Turn push on'}
        </button>
      </form>
      <ErrorMessage error={saved.error} />
    </section>
  );
}

export function PostReviewPanel() {
  const [queue, refetch] = useQuery({ query: PostReviewQueue, requestPolicy: 'network-only' });
  const [approved, approve] = useMutation(ApprovePost);
  const [rejected, reject] = useMutation(RejectPost);
  const [reason, setReason] = useState('');
  const act = useRefetchAfter(refetch);
  return (
    <section>
      <h2>Post review queue</h2>
      <ErrorMessage error={queue.error ?? approved.error ?? rejected.error} />
      {queue.fetching && !queue.data ? <Loading what="the review queue" /> : null}
      {queue.data && queue.data.postsForReview.nodes.length === 0 ? <Empty>No post waits for review.</Empty> : null}
      {queue.data && queue.data.postsForReview.nodes.length > 0 ? (
        <label>
          Reason for a rejection <input aria-label="Rejection reason" value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
      ) : null}
      <table>
        <tbody>
          {queue.data?.postsForReview.nodes.map((post) => (
            <tr key={post.id}>
              <td>{post.zone?.name}</td>
              <td>{post.author.displayName}</td>
              <td>{post.body.slice(0, 120)}</td>
              <td>
                <button type="button" onClick={() => void act(() => approve({ id: post.id }))}>
                  Approve
                </button>{' '}
                <button type="button" onClick={() => void act(() => reject({ id: post.id, reason }))}>
                  Reject
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function PkWhitelistPanel() {
  const [list, refetch] = useQuery({ query: PkWhitelistQuery, requestPolicy: 'network-only' });
  const [added, add] = useMutation(AddToPkWhitelist);
  const [removed, remove] = useMutation(RemoveFromPkWhitelist);
  const [userId, setUserId] = useState('');
  const act = useRefetchAfter(refetch);
  return (
    <section>
      <h2>PK whitelist</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => add({ userId }));
        }}
      >
        <input aria-label="User id" value={userId} onChange={(e) => setUserId(e.target.value)} placeholder="User id" />
        <button type="submit" disabled={added.fetching || userId.trim() === ''}>
          Add
        </button>
      </form>
      <ErrorMessage error={list.error ?? added.error ?? removed.error} />
      {list.data && list.data.pkWhitelist.length === 0 ? <Empty>Nobody is on the PK whitelist.</Empty> : null}
      <ul>
        {list.data?.pkWhitelist.map((user) => (
          <li key={user.id}>
            {user.displayName}{' '}
            <button type="button" onClick={() => void act(() => remove({ userId: user.id }))}>
              Remove
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
