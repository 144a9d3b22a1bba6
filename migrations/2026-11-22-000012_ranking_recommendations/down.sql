DROP INDEX ranking.videos_fresh_idx, ranking.videos_region_published_idx, ranking.videos_author_published_idx;
DROP TABLE ranking.viewer_watched, ranking.viewer_regions, ranking.viewer_authors;
