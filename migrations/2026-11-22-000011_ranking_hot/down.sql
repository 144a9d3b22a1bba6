DROP TABLE ranking.recompute_runs, ranking.hot_weights, ranking.processed_events, ranking.stat_buckets, ranking.videos;
