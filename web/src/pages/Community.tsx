// The community: zones and their posts (today's hot first), a post's comment thread with
// quote replies, hall of fame, a user's page with follow and their dynamics, the
// following-dynamics feed (pushed on `dynamicPublished`, polled on `dynamicsSince` when push
// is off), notifications and direct messages.
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useClient, useMutation, useQuery, useSubscription } from 'urql';
import { Empty, ErrorMessage, Loading } from '../components/common';
import { graphql } from '../gql';
import type { DynamicFieldsFragment, PostCommentFieldsFragment } from '../gql/graphql';
import { useUser } from '../session-context';

const ZonesQuery = graphql(`
  query Zones {
    zones {
      id
      name
      description
      postCount
      followerCount
    }
  }
`);

graphql(`
  fragment PostFields on Post {
    id
    body
    likeScore
    commentCount
    createdAt
    pinnedAt
    author {
      id
      displayName
    }
  }
`);

const ZonePostsQuery = graphql(`
  query ZonePosts($zoneId: ID!) {
    zone(id: $zoneId) {
      id
      name
      description
    }
    posts(zoneId: $zoneId, first: 50) {
      pinned {
        ...PostFields
      }
      nodes {
        ...PostFields
      }
    }
  }
`);

const HallOfFameQuery = graphql(`
  query ZoneHallOfFame($zoneId: ID!) {
    zoneHallOfFame(zoneId: $zoneId) {
      rank
      points
      postCount
      replyCount
      user {
        id
        displayName
      }
    }
  }
`);

const CreatePost = graphql(`
  mutation CreatePost($input: CreatePostInput!) {
    createPost(input: $input) {
      id
      state
    }
  }
`);

graphql(`
  fragment PostCommentFields on PostComment {
    id
    threadId
    quoteId
    body
    replyCount
    createdAt
    author {
      id
      displayName
    }
  }
`);

const PostQuery = graphql(`
  query PostThread($id: ID!) {
    post(id: $id) {
      ...PostFields
      zone {
        id
        name
      }
    }
    postComments(postId: $id, first: 100) {
      nodes {
        ...PostCommentFields
      }
    }
  }
`);

const RepliesQuery = graphql(`
  query PostCommentReplies($commentId: ID!) {
    postCommentReplies(commentId: $commentId, first: 100) {
      nodes {
        ...PostCommentFields
      }
    }
  }
`);

const CreateComment = graphql(`
  mutation CreatePostComment($input: CreateCommentInput!) {
    createPostComment(input: $input) {
      id
      state
    }
  }
`);

const UserQuery = graphql(`
  query CommunityUser($id: ID!) {
    user(id: $id) {
      id
      displayName
      bio
      followerCount
      followingCount
      likesReceived
      isFollowedByViewer
    }
    dynamics(userId: $id, first: 50) {
      nodes {
        ...DynamicFields
      }
    }
  }
`);

const FollowUser = graphql(`
  mutation FollowUser($userId: ID!) {
    followUser(userId: $userId) {
      following
      user {
        id
        isFollowedByViewer
        followerCount
      }
    }
  }
`);

const UnfollowUser = graphql(`
  mutation UnfollowUser($userId: ID!) {
    unfollowUser(userId: $userId) {
      following
      user {
        id
        isFollowedByViewer
        followerCount
      }
    }
  }
`);

graphql(`
  fragment DynamicFields on Dynamic {
    id
    kind
    body
    published
    createdAt
    likeScore
    commentCount
    author {
      id
      displayName
    }
  }
`);

const FollowingDynamicsQuery = graphql(`
  query FollowingDynamics {
    pushSettings {
      enabled
      pollIntervalSecs
    }
    followingDynamics(first: 50) {
      nodes {
        ...DynamicFields
      }
    }
  }
`);

const DynamicPublished = graphql(`
  subscription DynamicPublished {
    dynamicPublished {
      ...DynamicFields
    }
  }
`);

const DynamicsSinceQuery = graphql(`
  query DynamicsSince($cursor: String) {
    dynamicsSince(cursor: $cursor, first: 100) {
      cursor
      hasMore
      dynamics {
        ...DynamicFields
      }
    }
  }
`);

const CreateDynamic = graphql(`
  mutation CreateDynamic($body: String!) {
    createDynamic(body: $body) {
      ...DynamicFields
    }
  }
`);

export const UnreadCountsQuery = graphql(`
  query UnreadCounts {
    notifications(first: 1) {
      unreadCount
    }
    conversations(first: 100) {
      nodes {
        id
        unreadCount
      }
    }
  }
`);

const NotificationsQuery = graphql(`
  query Notifications {
    notifications(first: 50) {
      unreadCount
      nodes {
        id
        kind
        subjectKind
        subjectId
        read
        otherActorCount
        updatedAt
        actors {
          id
          displayName
        }
      }
    }
  }
`);

const MarkNotificationsRead = graphql(`
  mutation MarkNotificationsRead($upTo: ID!) {
    markNotificationsRead(upTo: $upTo) {
      unreadCount
    }
  }
`);

const ConversationsQuery = graphql(`
  query Conversations {
    conversations(first: 50) {
      nodes {
        id
        unreadCount
        otherUser {
          id
          displayName
        }
        lastMessage {
          id
          text
          createdAt
        }
      }
    }
  }
`);

const MessagesQuery = graphql(`
  query MessagesWith($userId: ID!) {
    user(id: $userId) {
      id
      displayName
    }
    messages(withUserId: $userId, first: 100) {
      nodes {
        id
        conversationId
        text
        createdAt
        sender {
          id
          displayName
        }
      }
    }
  }
`);

const SendMessage = graphql(`
  mutation SendMessage($toUserId: ID!, $text: String!, $idempotencyKey: String!) {
    sendMessage(toUserId: $toUserId, text: $text, idempotencyKey: $idempotencyKey) {
      replayed
      message {
        id
      }
    }
  }
`);

const MarkConversationRead = graphql(`
  mutation MarkConversationRead($conversationId: ID!) {
    markConversationRead(conversationId: $conversationId) {
      id
      unreadCount
    }
  }
`);

/** How often the header's unread badges are read again (notifications are not pushed). */
const UNREAD_REFRESH_MS = 15_000;

const time = (iso: string) => new Date(iso).toLocaleString();

function SignInFirst({ to }: { to: string }) {
  return (
    <p className="muted">
      <Link to="/sign-in">Sign in</Link> to {to}.
    </p>
  );
}

export function Zones() {
  const [zones] = useQuery({ query: ZonesQuery });
  return (
    <section>
      <h1>Community</h1>
      <p>
        <Link to="/dynamics">Dynamics of those you follow</Link>
      </p>
      <ErrorMessage error={zones.error} />
      {zones.fetching ? <Loading what="zones" /> : null}
      {zones.data && zones.data.zones.length === 0 ? <Empty>There are no zones yet.</Empty> : null}
      <ul className="zone-list">
        {zones.data?.zones.map((zone) => (
          <li key={zone.id}>
            <Link to={`/community/zone/${zone.id}`}>{zone.name}</Link>{' '}
            <span className="muted">
              · {zone.description} · {zone.postCount} posts · {zone.followerCount} followers
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ZonePage() {
  const { id = '' } = useParams();
  const user = useUser();
  const [tab, setTab] = useState<'posts' | 'fame'>('posts');
  const [result, refetch] = useQuery({ query: ZonePostsQuery, variables: { zoneId: id } });
  if (result.error) return <ErrorMessage error={result.error} />;
  const zone = result.data?.zone;
  if (!zone) return result.fetching ? <Loading what="the zone" /> : <Empty>This zone does not exist.</Empty>;
  const pinned = result.data?.posts.pinned ?? [];
  const pinnedIds = new Set(pinned.map((p) => p.id));
  const rest = (result.data?.posts.nodes ?? []).filter((p) => !pinnedIds.has(p.id));
  return (
    <section>
      <h1>{zone.name}</h1>
      <p className="meta">{zone.description}</p>
      <div className="tabs" role="tablist" aria-label="Zone">
        <button type="button" role="tab" aria-selected={tab === 'posts'} onClick={() => setTab('posts')}>
          Posts
        </button>
        <button type="button" role="tab" aria-selected={tab === 'fame'} onClick={() => setTab('fame')}>
          Hall of fame
        </button>
      </div>
      {tab === 'fame' ? (
        <HallOfFame zoneId={zone.id} />
      ) : (
        <>
          {user ? <NewPost zoneId={zone.id} onPosted={() => refetch({ requestPolicy: 'network-only' })} /> : <SignInFirst to="post" />}
          {pinned.length + rest.length === 0 ? <Empty>No posts in this zone yet.</Empty> : null}
          <ul className="post-list" data-testid="post-list">
            {[...pinned, ...rest].map((post) => (
              <li key={post.id} className={post.pinnedAt ? 'pinned' : undefined}>
                {post.pinnedAt ? <span className="badge">Today's hot</span> : null} <Link to={`/community/post/${post.id}`}>{post.body.slice(0, 120) || '(images)'}</Link>
                <span className="muted">
                  {' '}
                  · <Link to={`/user/${post.author.id}`}>{post.author.displayName}</Link> · {post.likeScore} likes · {post.commentCount} comments · {time(post.createdAt)}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function HallOfFame({ zoneId }: { zoneId: string }) {
  const [fame] = useQuery({ query: HallOfFameQuery, variables: { zoneId } });
  if (fame.error) return <ErrorMessage error={fame.error} />;
  if (!fame.data) return <Loading what="the hall of fame" />;
  if (fame.data.zoneHallOfFame.length === 0) return <Empty>Nobody has points in this zone yet.</Empty>;
  return (
    <table data-testid="hall-of-fame">
      <thead>
        <tr>
          <th>#</th>
          <th>User</th>
          <th>Points</th>
          <th>Posts</th>
          <th>Replies</th>
        </tr>
      </thead>
      <tbody>
        {fame.data.zoneHallOfFame.map((entry) => (
          <tr key={entry.user.id}>
            <td>{entry.rank}</td>
            <td>
              <Link to={`/user/${entry.user.id}`}>{entry.user.displayName}</Link>
            </td>
            <td>{entry.points}</td>
            <td>{entry.postCount}</td>
            <td>{entry.replyCount}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function NewPost({ zoneId, onPosted }: { zoneId: string; onPosted: () => void }) {
  const [body, setBody] = useState('');
  const [result, createPost] = useMutation(CreatePost);
  const [notice, setNotice] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const posted = await createPost({ input: { zoneId, body } });
    if (posted.data) {
      setBody('');
      setNotice(posted.data.createPost.state === 'PUBLISHED' ? null : 'Your post waits for a moderator.');
      onPosted();
    }
  };
  return (
    <form className="compose" onSubmit={(e) => void submit(e)}>
      <textarea aria-label="New post" value={body} onChange={(e) => setBody(e.target.value)} placeholder="Write a post" />
      <button type="submit" disabled={result.fetching || body.trim() === ''}>
        Post
      </button>
      {notice ? <p className="muted">{notice}</p> : null}
      <ErrorMessage error={result.error} />
    </form>
  );
}

export function PostPage() {
  const { id = '' } = useParams();
  const user = useUser();
  const [result, refetch] = useQuery({ query: PostQuery, variables: { id } });
  const [quoting, setQuoting] = useState<PostCommentFieldsFragment | null>(null);
  if (result.error) return <ErrorMessage error={result.error} />;
  const post = result.data?.post;
  if (!post) return result.fetching ? <Loading what="the post" /> : <Empty>This post does not exist or was deleted.</Empty>;
  const comments = result.data?.postComments.nodes ?? [];
  const reload = () => refetch({ requestPolicy: 'network-only' });
  return (
    <article className="post">
      <p className="meta">
        {post.zone ? <Link to={`/community/zone/${post.zone.id}`}>{post.zone.name}</Link> : null} · <Link to={`/user/${post.author.id}`}>{post.author.displayName}</Link> ·{' '}
        {time(post.createdAt)}
      </p>
      <p className="post-body">{post.body}</p>
      <p className="muted">
        {post.likeScore} likes · {post.commentCount} comments
      </p>
      <h2>Comments</h2>
      {comments.length === 0 ? <Empty>No comments yet.</Empty> : null}
      <ul className="comments">
        {comments.map((comment) => (
          <CommentThread key={comment.id} comment={comment} all={comments} onQuote={setQuoting} canReply={user !== null} />
        ))}
      </ul>
      {user ? <NewComment postId={post.id} quoting={quoting} onDone={() => { setQuoting(null); reload(); }} /> : <SignInFirst to="comment" />}
    </article>
  );
}

function Quoted({ id, among }: { id: string | null | undefined; among: PostCommentFieldsFragment[] }) {
  if (!id) return null;
  const quoted = among.find((c) => c.id === id);
  return <blockquote>{quoted ? `${quoted.author.displayName}: ${quoted.body}` : 'A comment further up the thread'}</blockquote>;
}

function CommentThread({
  comment,
  all,
  onQuote,
  canReply,
}: {
  comment: PostCommentFieldsFragment;
  all: PostCommentFieldsFragment[];
  onQuote: (c: PostCommentFieldsFragment) => void;
  canReply: boolean;
}) {
  const [open, setOpen] = useState(false);
  const [replies] = useQuery({ query: RepliesQuery, variables: { commentId: comment.id }, pause: !open });
  const thread = [...all, ...(replies.data?.postCommentReplies.nodes ?? [])];
  return (
    <li>
      <Quoted id={comment.quoteId} among={thread} />
      <p>
        <strong>{comment.author.displayName}</strong> {comment.body}
      </p>
      <p className="muted">
        {time(comment.createdAt)}
        {canReply ? (
          <>
            {' '}
            · <button type="button" className="link" onClick={() => onQuote(comment)}>Quote reply</button>
          </>
        ) : null}
        {comment.replyCount > 0 ? (
          <>
            {' '}
            · <button type="button" className="link" onClick={() => setOpen(!open)}>{open ? 'Hide' : `${comment.replyCount} replies`}</button>
          </>
        ) : null}
      </p>
      <ErrorMessage error={replies.error} />
      {open && replies.fetching ? <Loading what="replies" /> : null}
      {open ? (
        <ul className="replies">
          {replies.data?.postCommentReplies.nodes.map((reply) => (
            <li key={reply.id}>
              <Quoted id={reply.quoteId} among={thread} />
              <p>
                <strong>{reply.author.displayName}</strong> {reply.body}
              </p>
              {canReply ? (
                <button type="button" className="link" onClick={() => onQuote(reply)}>
                  Quote reply
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function NewComment({ postId, quoting, onDone }: { postId: string; quoting: PostCommentFieldsFragment | null; onDone: () => void }) {
  const [body, setBody] = useState('');
  const [result, create] = useMutation(CreateComment);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // A quote replies in the quoted comment's thread (a top-level comment is its own thread).
    const input = quoting ? { postId, body, replyTo: quoting.threadId ?? quoting.id, quote: quoting.id } : { postId, body };
    const created = await create({ input });
    if (created.data) {
      setBody('');
      onDone();
    }
  };
  return (
    <form className="compose" onSubmit={(e) => void submit(e)}>
      {quoting ? <blockquote>Quoting {quoting.author.displayName}: {quoting.body}</blockquote> : null}
      <textarea aria-label="New comment" value={body} onChange={(e) => setBody(e.target.value)} placeholder="Write a comment" />
      <button type="submit" disabled={result.fetching || body.trim() === ''}>
        Comment
      </button>
      <ErrorMessage error={result.error} />
    </form>
  );
}

function DynamicItem({ dynamic }: { dynamic: DynamicFieldsFragment }) {
  return (
    <li data-testid="dynamic">
      <p>
        <Link to={`/user/${dynamic.author.id}`}>{dynamic.author.displayName}</Link> <span className="muted">· {time(dynamic.createdAt)}</span>
        {dynamic.published ? null : <span className="badge">held for review</span>}
      </p>
      <p className="dynamic-body">{dynamic.body}</p>
      <p className="muted">
        {dynamic.likeScore} likes · {dynamic.commentCount} comments
      </p>
    </li>
  );
}

export function UserPage() {
  const { id = '' } = useParams();
  const viewer = useUser();
  const [result, refetch] = useQuery({ query: UserQuery, variables: { id } });
  const [follow, followUser] = useMutation(FollowUser);
  const [unfollow, unfollowUser] = useMutation(UnfollowUser);
  if (result.error) return <ErrorMessage error={result.error} />;
  const user = result.data?.user;
  if (!user) return result.fetching ? <Loading what="the user" /> : <Empty>This user does not exist.</Empty>;
  const dynamics = result.data?.dynamics.nodes ?? [];
  const self = viewer?.id === user.id;
  return (
    <section>
      <h1>{user.displayName}</h1>
      <p className="meta">
        {user.bio} · <span data-testid="follower-count">{user.followerCount}</span> followers · {user.followingCount} following · {user.likesReceived} likes received
      </p>
      {viewer && !self ? (
        <p>
          {user.isFollowedByViewer ? (
            <button type="button" onClick={() => void unfollowUser({ userId: user.id })} disabled={unfollow.fetching}>
              Unfollow
            </button>
          ) : (
            <button type="button" onClick={() => void followUser({ userId: user.id })} disabled={follow.fetching}>
              Follow
            </button>
          )}{' '}
          <Link to={`/messages/${user.id}`}>Message</Link>
        </p>
      ) : null}
      {!viewer ? <SignInFirst to="follow or message them" /> : null}
      <ErrorMessage error={follow.error ?? unfollow.error} />
      {self ? <NewDynamic onPublished={() => refetch({ requestPolicy: 'network-only' })} /> : null}
      <h2>Dynamics</h2>
      {dynamics.length === 0 ? <Empty>No dynamics yet.</Empty> : null}
      <ul className="dynamics">
        {dynamics.map((d) => (
          <DynamicItem key={d.id} dynamic={d} />
        ))}
      </ul>
    </section>
  );
}

function NewDynamic({ onPublished }: { onPublished: () => void }) {
  const [body, setBody] = useState('');
  const [result, create] = useMutation(CreateDynamic);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if ((await create({ body })).data) {
      setBody('');
      onPublished();
    }
  };
  return (
    <form className="compose" onSubmit={(e) => void submit(e)}>
      <textarea aria-label="New dynamic" value={body} onChange={(e) => setBody(e.target.value)} placeholder="What's new?" />
      <button type="submit" disabled={result.fetching || body.trim() === ''}>
        Publish dynamic
      </button>
      <ErrorMessage error={result.error} />
    </form>
  );
}

/** Newest first, each dynamic once (a pushed or polled one may already be in the list). */
function mergeDynamics(arrived: DynamicFieldsFragment[], list: DynamicFieldsFragment[]) {
  const seen = new Set<string>();
  return [...arrived, ...list].filter((d) => (seen.has(d.id) ? false : (seen.add(d.id), true)));
}

export function FollowingDynamics() {
  const user = useUser();
  if (!user) return <SignInFirst to="see the dynamics of those you follow" />;
  return <FollowingDynamicsFeed />;
}

function FollowingDynamicsFeed() {
  const client = useClient();
  // The poll cursor is taken before the feed is read, so nothing written in between is lost.
  const [startCursor, setStartCursor] = useState<string | null>(null);
  const [startError, setStartError] = useState<Parameters<typeof ErrorMessage>[0]['error']>(undefined);
  useEffect(() => {
    let live = true;
    void client
      .query(DynamicsSinceQuery, { cursor: null }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((r) => {
        if (!live) return;
        if (r.data) setStartCursor(r.data.dynamicsSince.cursor);
        else setStartError(r.error);
      });
    return () => {
      live = false;
    };
  }, [client]);
  const [feed] = useQuery({ query: FollowingDynamicsQuery, pause: startCursor === null, requestPolicy: 'network-only' });
  const [arrived, setArrived] = useState<DynamicFieldsFragment[]>([]);
  const push = feed.data?.pushSettings;
  const [pushed] = useSubscription({ query: DynamicPublished, pause: !push?.enabled }, (previous: DynamicFieldsFragment[] | undefined, data) => [
    data.dynamicPublished,
    ...(previous ?? []),
  ]);
  useEffect(() => {
    if (!push || push.enabled || startCursor === null) return;
    let cursor = startCursor;
    let live = true;
    const poll = async () => {
      const r = await client.query(DynamicsSinceQuery, { cursor }, { requestPolicy: 'network-only' }).toPromise();
      if (!live || !r.data) return;
      cursor = r.data.dynamicsSince.cursor;
      const fresh = [...r.data.dynamicsSince.dynamics].reverse();
      if (fresh.length > 0) setArrived((previous) => mergeDynamics(fresh, previous));
    };
    const timer = setInterval(() => void poll(), push.pollIntervalSecs * 1000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [client, push, startCursor]);
  const dynamics = mergeDynamics([...(pushed.data ?? []), ...arrived], feed.data?.followingDynamics.nodes ?? []);
  return (
    <section>
      <h1>Dynamics</h1>
      <ErrorMessage error={startError ?? feed.error ?? pushed.error} />
      {push ? (
        <p className="muted" data-testid="dynamics-mode">
          {push.enabled ? 'New dynamics appear as they are published.' : `Push is off: checking for new dynamics every ${push.pollIntervalSecs} s.`}
        </p>
      ) : null}
      {!feed.data && !startError ? <Loading what="dynamics" /> : null}
      {feed.data && dynamics.length === 0 ? <Empty>Nobody you follow has published a dynamic yet.</Empty> : null}
      <ul className="dynamics" data-testid="following-dynamics">
        {dynamics.map((d) => (
          <DynamicItem key={d.id} dynamic={d} />
        ))}
      </ul>
    </section>
  );
}

/** The header's unread badges: notifications and direct messages. */
export function UnreadBadges() {
  const [result, refetch] = useQuery({ query: UnreadCountsQuery, requestPolicy: 'cache-and-network' });
  useEffect(() => {
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), UNREAD_REFRESH_MS);
    return () => clearInterval(timer);
  }, [refetch]);
  const notifications = result.data?.notifications.unreadCount ?? 0;
  const messages = (result.data?.conversations.nodes ?? []).reduce((sum, c) => sum + c.unreadCount, 0);
  return (
    <>
      <Link to="/notifications">
        Notifications{notifications > 0 ? <span className="badge" data-testid="unread-notifications">{notifications}</span> : null}
      </Link>
      <Link to="/messages">
        Messages{messages > 0 ? <span className="badge" data-testid="unread-messages">{messages}</span> : null}
      </Link>
    </>
  );
}

export function Notifications() {
  const user = useUser();
  const [result] = useQuery({ query: NotificationsQuery, pause: !user });
  const [marked, markRead] = useMutation(MarkNotificationsRead);
  if (!user) return <SignInFirst to="see your notifications" />;
  if (result.error) return <ErrorMessage error={result.error} />;
  if (!result.data) return <Loading what="notifications" />;
  const { nodes, unreadCount } = result.data.notifications;
  return (
    <section>
      <h1>Notifications</h1>
      {unreadCount > 0 && nodes[0] ? (
        <button type="button" onClick={() => void markRead({ upTo: nodes[0]!.id }, { additionalTypenames: ['Notification'] })} disabled={marked.fetching}>
          Mark all read
        </button>
      ) : null}
      <ErrorMessage error={marked.error} />
      {nodes.length === 0 ? <Empty>No notifications yet.</Empty> : null}
      <ul className="notifications">
        {nodes.map((n) => (
          <li key={n.id} className={n.read ? 'read' : 'unread'}>
            {n.actors.map((a) => a.displayName).join(', ')}
            {n.otherActorCount > 0 ? ` and ${n.otherActorCount} more` : ''} {n.kind === 'LIKE' ? 'liked' : n.kind === 'REPLY' ? 'replied to' : 'followed'}{' '}
            {n.kind === 'FOLLOW' ? 'you' : `your ${n.subjectKind.toLowerCase().replace('_', ' ')}`} <span className="muted">· {time(n.updatedAt)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Conversations() {
  const user = useUser();
  const [result] = useQuery({ query: ConversationsQuery, pause: !user, requestPolicy: 'cache-and-network' });
  if (!user) return <SignInFirst to="read your messages" />;
  if (result.error) return <ErrorMessage error={result.error} />;
  if (!result.data) return <Loading what="conversations" />;
  const conversations = result.data.conversations.nodes;
  return (
    <section>
      <h1>Messages</h1>
      {conversations.length === 0 ? <Empty>No conversations yet: open someone's page and message them.</Empty> : null}
      <ul className="conversations">
        {conversations.map((c) => (
          <li key={c.id}>
            <Link to={`/messages/${c.otherUser.id}`}>{c.otherUser.displayName}</Link>
            {c.unreadCount > 0 ? <span className="badge">{c.unreadCount}</span> : null} <span className="muted">· {c.lastMessage.text.slice(0, 80)} · {time(c.lastMessage.createdAt)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ConversationPage() {
  const { userId = '' } = useParams();
  const user = useUser();
  const [result, refetch] = useQuery({ query: MessagesQuery, variables: { userId }, pause: !user, requestPolicy: 'cache-and-network' });
  const [sent, send] = useMutation(SendMessage);
  const [, markRead] = useMutation(MarkConversationRead);
  const [text, setText] = useState('');
  const conversationId = result.data?.messages.nodes[0]?.conversationId;
  useEffect(() => {
    if (conversationId) void markRead({ conversationId });
  }, [conversationId, markRead]);
  if (!user) return <SignInFirst to="send messages" />;
  if (result.error) return <ErrorMessage error={result.error} />;
  if (!result.data) return <Loading what="messages" />;
  const other = result.data.user;
  if (!other) return <Empty>This user does not exist.</Empty>;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const r = await send({ toUserId: other.id, text, idempotencyKey: crypto.randomUUID() });
    if (r.data) {
      setText('');
      refetch({ requestPolicy: 'network-only' });
    }
  };
  const messages = [...result.data.messages.nodes].reverse();
  return (
    <section>
      <h1>
        Messages with <Link to={`/user/${other.id}`}>{other.displayName}</Link>
      </h1>
      {messages.length === 0 ? <Empty>No messages yet.</Empty> : null}
      <ul className="messages">
        {messages.map((m) => (
          <li key={m.id} className={m.sender.id === user.id ? 'mine' : undefined}>
            <strong>{m.sender.displayName}</strong> {m.text} <span className="muted">· {time(m.createdAt)}</span>
          </li>
        ))}
      </ul>
      <form className="compose" onSubmit={(e) => void submit(e)}>
        <textarea aria-label="New message" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit" disabled={sent.fetching || text.trim() === ''}>
          Send
        </button>
        <ErrorMessage error={sent.error} />
      </form>
    </section>
  );
}
