use serde::Deserialize;
use std::path::PathBuf;

/// Where uploaded files live and the rules for uploading them (the `content` subgraph's
/// video uploads).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `VIDGRAPH_STORAGE__ROOT`: the local storage directory, default `.vidgraph/storage`
    /// (relative to the working directory). Finished files go to `<root>/objects/`, uploads in
    /// progress to `<root>/tmp/`; both are created at start-up. Replicas of `content` must share
    /// it (one disk, or a network file system) so that any replica can take a PUT.
    pub root: PathBuf,
    /// `VIDGRAPH_STORAGE__PUBLIC_URL`: the base URL clients use to reach `content`'s upload
    /// route (`<public_url>/uploads/<id>?…`), such as `https://upload.example.com`; default
    /// unset. When unset, the base is `http://<Host>`, the `Host` header of the GraphQL request
    /// that asked for the URL: behind the router that is the subgraph address the router
    /// called, which is right on one machine and in tests but rarely reachable by clients in
    /// production, so set it there.
    pub public_url: Option<String>,
    /// `VIDGRAPH_STORAGE__MAX_UPLOAD_BYTES`: the largest file one upload may hold, default
    /// 2 GiB (2147483648).
    pub max_upload_bytes: u64,
    /// `VIDGRAPH_STORAGE__ALLOWED_CONTENT_TYPES`: media types an upload may declare, compared
    /// case-insensitively; default `[video/mp4, video/webm, video/x-matroska, video/quicktime]`
    /// (in the environment, write the list in that bracketed form).
    pub allowed_content_types: Vec<String>,
    /// `VIDGRAPH_STORAGE__UPLOAD_URL_TTL_SECS`: how long an upload URL works, default 3600. A
    /// pending upload is deleted once its URL has expired, and a partial file untouched for
    /// this long is treated as abandoned.
    pub upload_url_ttl_secs: u64,
    /// `VIDGRAPH_STORAGE__UNATTACHED_TTL_SECS`: how long a complete upload that was never
    /// attached to a video is kept, counted from its completion; default 86400 (24 h).
    pub unattached_ttl_secs: u64,
    /// `VIDGRAPH_STORAGE__SWEEP_INTERVAL_SECS`: how often the sweeper deletes expired uploads
    /// and abandoned partial files, default 60.
    pub sweep_interval_secs: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            root: PathBuf::from(".vidgraph/storage"),
            public_url: None,
            max_upload_bytes: 2 * 1024 * 1024 * 1024,
            allowed_content_types: ["video/mp4", "video/webm", "video/x-matroska", "video/quicktime"].map(str::to_owned).to_vec(),
            upload_url_ttl_secs: 3600,
            unattached_ttl_secs: 24 * 3600,
            sweep_interval_secs: 60,
        }
    }
}
