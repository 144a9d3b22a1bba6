import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useMutation, useQuery } from 'urql';
import { Empty, ErrorMessage, Loading, formatCount } from '../components/common';
import { graphql } from '../gql';
import type { CommentFieldsFragment, CommentOrder } from '../gql/graphql';
import { VodPlayer } from '../video/Player';
import { useUser } from '../session-context';

const VideoQuery = graphql(`
  query VideoPage($id: ID!) {
    video(id: $id) {
      id
      title
      description
      tags
      publishedAt
      sourceUrl
      durationSecs
      author {
        id
        displayName
        username
      }
      region {
        id
        name
      }
      ...VideoCounters
    }
  }
`);

const LikeVideo = graphql(`
  mutation LikeVideo($id: ID!) {
    likeVideo(id: $id) {
      ...VideoCounters
    }
  }
`);
const UnlikeVideo = graphql(`
  mutation UnlikeVideo($id: ID!) {
    unlikeVideo(id: $id) {
      ...VideoCounters
    }
  }
`);
const CoinVideo = graphql(`
  mutation CoinVideo($id: ID!, $coins: Int) {
    coinVideo(id: $id, coins: $coins) {
      ...VideoCounters
    }
  }
`);
const FavouriteVideo = graphql(`
  mutation FavouriteVideo($id: ID!) {
    favouriteVideo(id: $id) {
      ...VideoCounters
    }
  }
`);
const UnfavouriteVideo = graphql(`
  mutation UnfavouriteVideo($id: ID!) {
    unfavouriteVideo(id: $id) {
      ...VideoCounters
    }
  }
`);

graphql(`
  fragment CommentFields on Comment {
    id
    body
    createdAt
    likeCount
    replyCount
    rootId
    author {
      id
      displayName
    }
  }
`);

const CommentsQuery = graphql(`
  query VideoComments($videoId: ID!, $first: Int, $after: String, $order: CommentOrder) {
    comments(videoId: $videoId, first: $first, after: $after, order: $order) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...CommentFields
        replyPreview {
          ...CommentFields
        }
      }
    }
  }
`);

const RepliesQuery = graphql(`
  query CommentReplies($commentId: ID!, $first: Int) {
    commentReplies(commentId: $commentId, first: $first) {
      nodes {
        ...CommentFields
      }
    }
  }
`);

const PostComment = graphql(`
  mutation PostComment($input: PostCommentInput!) {
    postComment(input: $input) {
      ...CommentFields
      video {
        id
        stat {
          comments
        }
      }
    }
  }
`);

const MAX_COINS = 2;

export function VideoPage() {
  const { id = '' } = useParams();
  const user = useUser();
  const [result] = useQuery({ query: VideoQuery, variables: { id } });
  const [like, runLike] = useMutation(LikeVideo);
  const [unlike, runUnlike] = useMutation(UnlikeVideo);
  const [coin, runCoin] = useMutation(CoinVideo);
  const [favourite, runFavourite] = useMutation(FavouriteVideo);
  const [unfavourite, runUnfavourite] = useMutation(UnfavouriteVideo);

  if (result.error) return <ErrorMessage error={result.error} />;
  const video = result.data?.video;
  if (!video) return result.fetching ? <Loading what="the video" /> : <Empty>This video does not exist or was removed.</Empty>;
  const viewer = video.viewerState;
  const interactionError = like.error ?? unlike.error ?? coin.error ?? favourite.error ?? unfavourite.error;

  return (
    <article className="video">
      {video.sourceUrl ? (
        <VodPlayer videoId={video.id} sourceUrl={video.sourceUrl} canSend={user !== null} />
      ) : (
        <div className="player">
          <div className="no-media">No playable media for this video.</div>
        </div>
      )}
      <h1 data-testid="video-title">{video.title}</h1>
      <p className="meta">
        {video.author ? <span>{video.author.displayName}</span> : null}
        {video.region ? <span> · {video.region.name}</span> : null}
        {video.publishedAt ? <span> · {new Date(video.publishedAt).toLocaleDateString()}</span> : null}
        <span> · {formatCount(video.stat.views)} views</span>
      </p>
      <div className="actions">
        <button
          type="button"
          data-testid="like"
          aria-pressed={viewer?.liked ?? false}
          disabled={!viewer}
          onClick={() => void (viewer?.liked ? runUnlike({ id }) : runLike({ id }))}
        >
          {viewer?.liked ? 'Liked' : 'Like'} <span data-testid="likes">{video.stat.likes}</span>
        </button>
        <button type="button" data-testid="coin" disabled={!viewer || viewer.coins >= MAX_COINS} onClick={() => void runCoin({ id, coins: 1 })}>
          Coin <span data-testid="coins">{video.stat.coins}</span>
          {viewer ? <span className="muted"> ({viewer.coins}/{MAX_COINS})</span> : null}
        </button>
        <button
          type="button"
          data-testid="favourite"
          aria-pressed={viewer?.favourited ?? false}
          disabled={!viewer}
          onClick={() => void (viewer?.favourited ? runUnfavourite({ id }) : runFavourite({ id }))}
        >
          {viewer?.favourited ? 'Favourited' : 'Favourite'} <span data-testid="favourites">{video.stat.favourites}</span>
        </button>
        {!user ? (
          <span className="muted">
            <Link to="/sign-in">Sign in</Link> to like, coin or favourite.
          </span>
        ) : null}
      </div>
      <ErrorMessage error={interactionError} />
      {video.description ? <p className="description">{video.description}</p> : null}
      {video.tags.length > 0 ? (
        <p className="tags">
          {video.tags.map((tag) => (
            <span key={tag} className="tag">
              #{tag}
            </span>
          ))}
        </p>
      ) : null}
      <Comments videoId={video.id} count={video.stat.comments} signedIn={user !== null} />
    </article>
  );
}

function Comments({ videoId, count, signedIn }: { videoId: string; count: number; signedIn: boolean }) {
  const [order, setOrder] = useState<CommentOrder>('NEWEST');
  const [result] = useQuery({ query: CommentsQuery, variables: { videoId, first: 20, order } });
  const comments = result.data?.comments.nodes ?? [];
  return (
    <section className="comments">
      <h2>
        Comments <span data-testid="comment-count">{count}</span>
      </h2>
      <div className="tabs" role="tablist" aria-label="Comment order">
        <button type="button" role="tab" aria-selected={order === 'NEWEST'} onClick={() => setOrder('NEWEST')}>
          Newest
        </button>
        <button type="button" role="tab" aria-selected={order === 'HOTTEST'} onClick={() => setOrder('HOTTEST')}>
          Hottest
        </button>
      </div>
      {signedIn ? <CommentForm videoId={videoId} replyTo={null} /> : <p className="muted"><Link to="/sign-in">Sign in</Link> to comment.</p>}
      <ErrorMessage error={result.error} />
      {result.fetching && comments.length === 0 ? <Loading what="comments" /> : null}
      {!result.fetching && !result.error && comments.length === 0 ? <Empty>No comments yet.</Empty> : null}
      <ul className="comment-list">
        {comments.map((comment) => (
          <li key={comment.id} data-testid="comment">
            <CommentBody comment={comment} />
            <Replies root={comment} preview={comment.replyPreview} videoId={videoId} signedIn={signedIn} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function CommentBody({ comment }: { comment: CommentFieldsFragment }) {
  return (
    <div className="comment">
      <strong>{comment.author?.displayName ?? 'deleted user'}</strong>
      <span className="muted"> · {new Date(comment.createdAt).toLocaleString()}</span>
      <p data-testid="comment-body">{comment.body}</p>
    </div>
  );
}

function Replies({ root, preview, videoId, signedIn }: { root: CommentFieldsFragment; preview: CommentFieldsFragment[]; videoId: string; signedIn: boolean }) {
  const [all, setAll] = useState(false);
  const [replying, setReplying] = useState(false);
  const [result] = useQuery({ query: RepliesQuery, variables: { commentId: root.id, first: 100 }, pause: !all });
  const replies = all ? (result.data?.commentReplies.nodes ?? preview) : preview;
  return (
    <div className="replies">
      <ul>
        {replies.map((reply) => (
          <li key={reply.id}>
            <CommentBody comment={reply} />
          </li>
        ))}
      </ul>
      <ErrorMessage error={result.error} />
      {!all && root.replyCount > preview.length ? (
        <button type="button" className="link" onClick={() => setAll(true)}>
          Show all {root.replyCount} replies
        </button>
      ) : null}
      {signedIn ? (
        replying ? (
          <CommentForm videoId={videoId} replyTo={root.id} onDone={() => setReplying(false)} />
        ) : (
          <button type="button" className="link" onClick={() => setReplying(true)}>
            Reply
          </button>
        )
      ) : null}
    </div>
  );
}

function CommentForm({ videoId, replyTo, onDone }: { videoId: string; replyTo: string | null; onDone?: () => void }) {
  const [body, setBody] = useState('');
  const [result, post] = useMutation(PostComment);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const reply = await post({ input: { videoId, body, replyTo } });
    if (reply.data) {
      setBody('');
      onDone?.();
    }
  };
  return (
    <form className="comment-form" onSubmit={(e) => void submit(e)}>
      <textarea
        name="comment"
        placeholder={replyTo ? 'Write a reply' : 'Write a comment'}
        value={body}
        onChange={(e) => setBody(e.target.value)}
        aria-label={replyTo ? 'Reply' : 'Comment'}
        rows={2}
      />
      <ErrorMessage error={result.error} />
      <button type="submit" disabled={result.fetching || body.trim() === ''}>
        {result.fetching ? 'Posting…' : replyTo ? 'Reply' : 'Post comment'}
      </button>
    </form>
  );
}
