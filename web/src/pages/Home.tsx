import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { useQuery } from 'urql';
import { Empty, ErrorMessage, Loading } from '../components/common';
import { InfiniteFeed, type FeedPage } from '../components/InfiniteFeed';
import { VideoCard } from '../components/VideoCard';
import { graphql } from '../gql';
import type { HotTimeRange, VideoSearchSort } from '../gql/graphql';
import { useUser } from '../session-context';

const RegionsQuery = graphql(`
  query Regions {
    regions {
      id
      slug
      name
    }
  }
`);

const HotRankingQuery = graphql(`
  query HotRanking($regionId: Int, $timeRange: HotTimeRange, $page: Int, $pageSize: Int) {
    hotRanking(regionId: $regionId, timeRange: $timeRange, page: $page, pageSize: $pageSize) {
      total
      page
      pageSize
      items {
        rank
        hotValue
        video {
          ...VideoCardFields
        }
      }
    }
  }
`);

const NewestQuery = graphql(`
  query NewestVideos($first: Int, $after: String, $regionId: Int) {
    videos(first: $first, after: $after, regionId: $regionId) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...VideoCardFields
      }
    }
  }
`);

const FollowingQuery = graphql(`
  query FollowingFeed($first: Int, $after: String) {
    followingFeed(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...VideoCardFields
      }
    }
  }
`);

const RecommendedQuery = graphql(`
  query Recommended($first: Int, $after: String) {
    recommendedVideos(first: $first, after: $after) {
      hasNextPage
      endCursor
      videos {
        ...VideoCardFields
      }
    }
  }
`);

const SearchQuery = graphql(`
  query SearchVideos($query: String!, $sort: VideoSearchSort, $first: Int, $after: String) {
    searchVideos(query: $query, sort: $sort, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...VideoCardFields
      }
    }
  }
`);

const PAGE_SIZE = 20;
const RANKING_PAGE_SIZE = 10;
const TIME_RANGES: Array<[HotTimeRange, string]> = [
  ['DAY', 'Day'],
  ['WEEK', 'Week'],
  ['MONTH', 'Month'],
  ['ALL', 'All time'],
];
const SORTS: Array<[VideoSearchSort, string]> = [
  ['RELEVANCE', 'Relevance'],
  ['NEWEST', 'Newest'],
  ['MOST_VIEWED', 'Most viewed'],
];

export function Home() {
  const user = useUser();
  const [params, setParams] = useSearchParams();
  const search = params.get('q') ?? '';
  const [draft, setDraft] = useState(search);
  const [regions] = useQuery({ query: RegionsQuery });
  const regionParam = params.get('region');
  const regionId = regionParam ? Number(regionParam) : null;
  const set = (key: string, value: string | null) =>
    setParams((old) => {
      const next = new URLSearchParams(old);
      if (value === null || value === '') next.delete(key);
      else next.set(key, value);
      return next;
    });

  return (
    <div className="home">
      <form
        className="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          set('q', draft.trim());
        }}
      >
        <input type="search" name="q" placeholder="Search videos" value={draft} onChange={(e) => setDraft(e.target.value)} aria-label="Search videos" />
        <button type="submit">Search</button>
      </form>

      {search ? (
        <SearchResults query={search} sort={(params.get('sort') as VideoSearchSort | null) ?? 'RELEVANCE'} onSort={(sort) => set('sort', sort)} />
      ) : (
        <>
          <div className="regions" role="tablist" aria-label="Region">
            <button type="button" role="tab" aria-selected={regionId === null} onClick={() => set('region', null)}>
              All regions
            </button>
            {regions.data?.regions.map((region) => (
              <button type="button" role="tab" key={region.id} aria-selected={regionId === region.id} onClick={() => set('region', String(region.id))}>
                {region.name}
              </button>
            ))}
          </div>
          <ErrorMessage error={regions.error} />
          <HotRanking regionId={regionId} />
          {user ? <Recommended /> : null}
          {user ? <Following /> : null}
          <section>
            <h2>Newest</h2>
            <InfiniteFeed
              resetKey={`newest:${regionId ?? ''}`}
              empty="No videos yet."
              usePage={(after) => {
                const [result] = useQuery({ query: NewestQuery, variables: { first: PAGE_SIZE, after, regionId } });
                const page = result.data?.videos;
                return { fetching: result.fetching, error: result.error, videos: page?.nodes ?? [], endCursor: page?.pageInfo.endCursor ?? null, hasNextPage: page?.pageInfo.hasNextPage ?? false };
              }}
            />
          </section>
        </>
      )}
    </div>
  );
}

function HotRanking({ regionId }: { regionId: number | null }) {
  const [timeRange, setTimeRange] = useState<HotTimeRange>('DAY');
  const [page, setPage] = useState(1);
  const [result] = useQuery({ query: HotRankingQuery, variables: { regionId, timeRange, page, pageSize: RANKING_PAGE_SIZE } });
  const ranking = result.data?.hotRanking;
  const pages = ranking ? Math.max(1, Math.ceil(ranking.total / ranking.pageSize)) : 1;
  return (
    <section className="ranking" data-testid="hot-ranking">
      <h2>Hot</h2>
      <div className="tabs" role="tablist" aria-label="Time range">
        {TIME_RANGES.map(([range, label]) => (
          <button
            type="button"
            role="tab"
            key={range}
            aria-selected={timeRange === range}
            onClick={() => {
              setTimeRange(range);
              setPage(1);
            }}
          >
            {label}
          </button>
        ))}
      </div>
      <ErrorMessage error={result.error} />
      {result.fetching && !ranking ? <Loading what="the ranking" /> : null}
      {ranking && ranking.items.length === 0 ? <Empty>Nothing is hot here yet.</Empty> : null}
      <div className="grid">
        {ranking?.items.map((item) => (
          <VideoCard key={item.video.id} video={item.video} rank={item.rank} />
        ))}
      </div>
      {ranking && pages > 1 ? (
        <nav className="pager" aria-label="Ranking pages">
          <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            Previous
          </button>
          <span>
            Page {page} of {pages}
          </span>
          <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>
            Next
          </button>
        </nav>
      ) : null}
    </section>
  );
}

function Recommended() {
  return (
    <section>
      <h2>Recommended for you</h2>
      <InfiniteFeed
        resetKey="recommended"
        empty="Nothing to recommend yet: watch a few videos."
        usePage={(after): FeedPage => {
          const [result] = useQuery({ query: RecommendedQuery, variables: { first: 8, after } });
          const page = result.data?.recommendedVideos;
          return { fetching: result.fetching, error: result.error, videos: page?.videos ?? [], endCursor: page?.endCursor ?? null, hasNextPage: false };
        }}
      />
    </section>
  );
}

function Following() {
  return (
    <section>
      <h2>Following</h2>
      <InfiniteFeed
        resetKey="following"
        empty="Follow someone to see their videos here."
        usePage={(after) => {
          const [result] = useQuery({ query: FollowingQuery, variables: { first: PAGE_SIZE, after } });
          const page = result.data?.followingFeed;
          return { fetching: result.fetching, error: result.error, videos: page?.nodes ?? [], endCursor: page?.pageInfo.endCursor ?? null, hasNextPage: page?.pageInfo.hasNextPage ?? false };
        }}
      />
    </section>
  );
}

function SearchResults({ query, sort, onSort }: { query: string; sort: VideoSearchSort; onSort: (sort: VideoSearchSort) => void }) {
  return (
    <section>
      <h2>Results for “{query}”</h2>
      <div className="tabs" role="tablist" aria-label="Sort">
        {SORTS.map(([value, label]) => (
          <button type="button" role="tab" key={value} aria-selected={sort === value} onClick={() => onSort(value)}>
            {label}
          </button>
        ))}
      </div>
      <InfiniteFeed
        resetKey={`search:${query}:${sort}`}
        empty="No video matches."
        usePage={(after) => {
          const [result] = useQuery({ query: SearchQuery, variables: { query, sort, first: PAGE_SIZE, after } });
          const page = result.data?.searchVideos;
          return { fetching: result.fetching, error: result.error, videos: page?.nodes ?? [], endCursor: page?.pageInfo.endCursor ?? null, hasNextPage: page?.pageInfo.hasNextPage ?? false };
        }}
      />
    </section>
  );
}
