import { Link } from 'react-router-dom';
import { graphql } from '../gql';
import type { VideoCardFieldsFragment } from '../gql/graphql';
import { formatCount, formatDuration } from './common';

export const VideoCardFields = graphql(`
  fragment VideoCardFields on Video {
    id
    title
    coverUrl
    durationSecs
    publishedAt
    author {
      id
      displayName
    }
    stat {
      views
      likes
    }
  }
`);

export function VideoCard({ video, rank }: { video: VideoCardFieldsFragment; rank?: number }) {
  return (
    <Link to={`/video/${video.id}`} className="card" data-testid="video-card">
      <div className="cover">
        {video.coverUrl ? <img src={video.coverUrl} alt="" loading="lazy" /> : <span className="cover-blank" aria-hidden="true" />}
        {rank !== undefined ? <span className="rank">{rank}</span> : null}
        <span className="duration">{formatDuration(video.durationSecs)}</span>
      </div>
      <h3 className="title">{video.title}</h3>
      <p className="meta">
        {video.author?.displayName ?? 'unknown'} · {formatCount(video.stat.views)} views · {formatCount(video.stat.likes)} likes
      </p>
    </Link>
  );
}
