import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { CombinedError } from 'urql';
import type { VideoCardFieldsFragment } from '../gql/graphql';
import { Empty, ErrorMessage, Loading } from './common';
import { VideoCard } from './VideoCard';

/** One page of a feed as its query returns it. */
export interface FeedPage {
  fetching: boolean;
  error: CombinedError | undefined;
  videos: VideoCardFieldsFragment[];
  endCursor: string | null;
  hasNextPage: boolean;
}

/** Loads one page at `after` with its own query (so earlier pages stay cached and shown). */
export type UsePage = (after: string | null) => FeedPage;

/**
 * A feed that loads its next page when its end scrolls into view: each page is a component
 * with its own query, and the last one watches a sentinel.
 */
export function InfiniteFeed({ usePage, empty, resetKey }: { usePage: UsePage; empty: ReactNode; resetKey: string }) {
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  useEffect(() => setCursors([null]), [resetKey]);
  return (
    <div className="grid" data-testid="feed">
      {cursors.map((after, index) => (
        <Page
          key={`${resetKey}:${after ?? ''}`}
          after={after}
          usePage={usePage}
          empty={index === 0 ? empty : null}
          onMore={index === cursors.length - 1 ? (next) => setCursors((all) => (all.includes(next) ? all : [...all, next])) : null}
        />
      ))}
    </div>
  );
}

function Page({ after, usePage, empty, onMore }: { after: string | null; usePage: UsePage; empty: ReactNode; onMore: ((cursor: string) => void) | null }) {
  const page = usePage(after);
  const sentinel = useRef<HTMLDivElement>(null);
  const next = page.hasNextPage ? page.endCursor : null;
  useEffect(() => {
    const element = sentinel.current;
    if (!element || !onMore || !next) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) onMore(next);
    }, { rootMargin: '400px' });
    observer.observe(element);
    return () => observer.disconnect();
  }, [onMore, next]);
  if (page.error) return <ErrorMessage error={page.error} />;
  if (page.fetching && page.videos.length === 0) return <Loading what="videos" />;
  if (page.videos.length === 0) return empty ? <Empty>{empty}</Empty> : null;
  return (
    <>
      {page.videos.map((video) => (
        <VideoCard key={video.id} video={video} />
      ))}
      {onMore && next ? <div ref={sentinel} className="sentinel" aria-hidden="true" /> : null}
    </>
  );
}
