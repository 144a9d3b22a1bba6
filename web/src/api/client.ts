// The GraphQL client: urql with a normalised cache (graphcache, by __typename + id), HTTP for
// queries and mutations and graphql-ws for subscriptions, both to the router only, each
// request carrying a fresh access token.
import { cacheExchange, type Cache } from '@urql/exchange-graphcache';
import { createClient as createWsClient } from 'graphql-ws';
import { Client, fetchExchange, subscriptionExchange } from 'urql';
import type { Session } from '../auth/session';
import type { AppConfig } from '../config';
import { graphql } from '../gql';
import type { VideoCountersFragment } from '../gql/graphql';

export const VideoCounters = graphql(`
  fragment VideoCounters on Video {
    id
    stat {
      views
      likes
      coins
      favourites
      shares
      comments
      danmaku
    }
    viewerState {
      liked
      coins
      favourited
      shared
      watched
    }
  }
`);

/** Objects without an id of their own: stored inside their parent, never normalised. */
const embedded = () => null;

type Change = (video: VideoCountersFragment) => VideoCountersFragment | null;

/** The optimistic result of a video interaction: the cached counters with `change` applied. */
function optimisticVideo(cache: Cache, id: string, change: Change) {
  const current = cache.readFragment(VideoCounters, { __typename: 'Video', id });
  if (!current?.viewerState) return null;
  const next = change(current);
  if (!next?.viewerState) return null;
  return {
    __typename: 'Video',
    ...next,
    stat: { __typename: 'VideoStat', ...next.stat },
    viewerState: { __typename: 'VideoViewerState', ...next.viewerState },
  };
}

const idOf = (args: Record<string, unknown>) => String(args.id);

function videoCache() {
  return cacheExchange({
    keys: {
      AuthPayload: embedded,
      HotRankingPage: embedded,
      HotRankingItem: embedded,
      PageInfo: embedded,
      RecommendationPage: embedded,
      VideoStat: embedded,
      VideoViewerState: embedded,
      VideoConnection: embedded,
      VideoEdge: embedded,
      CommentConnection: embedded,
      CommentEdge: embedded,
      ViewRecord: embedded,
      DownloadConnection: embedded,
      DownloadEdge: embedded,
      DownloadQuota: embedded,
      DownloadProgress: embedded,
      ParsedMedia: embedded,
      // A format id is only unique within its media (`mp4`, `hls-720`…).
      MediaFormat: embedded,
      PkSide: embedded,
      RoomConnection: embedded,
      RoomEdge: embedded,
      Wallet: embedded,
      GiftReceipt: embedded,
      PostListConnection: embedded,
      PostConnection: embedded,
      PostEdge: embedded,
      PostCommentConnection: embedded,
      PostCommentEdge: embedded,
      DynamicConnection: embedded,
      DynamicEdge: embedded,
      DynamicsSince: embedded,
      PushSettings: embedded,
      NotificationConnection: embedded,
      NotificationEdge: embedded,
      ConversationConnection: embedded,
      ConversationEdge: embedded,
      DirectMessageConnection: embedded,
      DirectMessageEdge: embedded,
      FollowResult: embedded,
      SendMessageResult: embedded,
      UnreadNotifications: embedded,
      FameEntry: embedded,
      WeekStarBoard: embedded,
      WeekStarEntry: embedded,
      WeekStarWeek: embedded,
      Region: (region) => String(region.id),
    },
    optimistic: {
      likeVideo: (args, cache) =>
        optimisticVideo(cache, idOf(args), (v) =>
          v.viewerState!.liked ? v : { ...v, stat: { ...v.stat, likes: v.stat.likes + 1 }, viewerState: { ...v.viewerState!, liked: true } },
        ),
      unlikeVideo: (args, cache) =>
        optimisticVideo(cache, idOf(args), (v) =>
          v.viewerState!.liked ? { ...v, stat: { ...v.stat, likes: v.stat.likes - 1 }, viewerState: { ...v.viewerState!, liked: false } } : v,
        ),
      favouriteVideo: (args, cache) =>
        optimisticVideo(cache, idOf(args), (v) =>
          v.viewerState!.favourited
            ? v
            : { ...v, stat: { ...v.stat, favourites: v.stat.favourites + 1 }, viewerState: { ...v.viewerState!, favourited: true } },
        ),
      unfavouriteVideo: (args, cache) =>
        optimisticVideo(cache, idOf(args), (v) =>
          v.viewerState!.favourited
            ? { ...v, stat: { ...v.stat, favourites: v.stat.favourites - 1 }, viewerState: { ...v.viewerState!, favourited: false } }
            : v,
        ),
      coinVideo: (args, cache) => {
        const coins = typeof args.coins === 'number' ? args.coins : 1;
        return optimisticVideo(cache, idOf(args), (v) =>
          v.viewerState!.coins + coins > 2
            ? v
            : { ...v, stat: { ...v.stat, coins: v.stat.coins + coins }, viewerState: { ...v.viewerState!, coins: v.viewerState!.coins + coins } },
        );
      },
    },
    updates: {
      Mutation: {
        // A new comment or reply: every cached comment list may now be different.
        postComment: (_result, _args, cache) => {
          for (const field of cache.inspectFields('Query')) {
            if (field.fieldName === 'comments' || field.fieldName === 'commentReplies') {
              cache.invalidate('Query', field.fieldName, field.arguments ?? undefined);
            }
          }
        },
      },
    },
  });
}

/** A client for one signed-in (or anonymous) user; the app makes a new one when that changes. */
export function createClient(config: AppConfig, session: Session): Client {
  const ws = createWsClient({
    url: config.wsUrl,
    lazy: true,
    // The router reads headers from the connection_init payload (router.config.yaml).
    connectionParams: async () => {
      const token = await session.accessToken();
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
  });
  return new Client({
    url: config.graphqlUrl,
    preferGetMethod: false,
    exchanges: [
      videoCache(),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
    fetch: async (input, init) => {
      const token = await session.accessToken();
      const headers = new Headers(init?.headers);
      if (token) headers.set('Authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    },
  });
}
