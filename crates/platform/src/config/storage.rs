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
    /// and abandoned partial files (and prunes what only grows, see `content`'s housekeeping),
    /// default 60.
    pub sweep_interval_secs: u64,
    /// `VIDGRAPH_STORAGE__PUT_TIMEOUT_SECS`: the longest one PUT may take from its first byte to
    /// its last, default 3600; a PUT still streaming then is cut (and its partial file
    /// removed). It is also how long a PUT holds its slot against other writers when the
    /// process dies mid-way.
    pub put_timeout_secs: u64,
    /// `VIDGRAPH_STORAGE__PUT_IDLE_TIMEOUT_SECS`: the longest a PUT may send nothing, default 30;
    /// a stalled PUT is then cut like one past `put_timeout_secs`.
    pub put_idle_timeout_secs: u64,
    /// `VIDGRAPH_STORAGE__MAX_PENDING_UPLOADS_PER_USER`: upload slots one user may have waiting
    /// for their file at once, default 5; `createVideoUpload` answers `QUOTA_EXCEEDED` past it.
    pub max_pending_uploads_per_user: u32,
    /// `VIDGRAPH_STORAGE__MAX_UPLOAD_BYTES_PER_DAY`: bytes one user may upload in 24 hours,
    /// default 20 GiB (21474836480). A waiting slot reserves its cap (`sizeBytes`, else
    /// `max_upload_bytes`), a finished one counts its size; `createVideoUpload` answers
    /// `QUOTA_EXCEEDED` when the new slot's cap would not fit.
    pub max_upload_bytes_per_day: u64,
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
            put_timeout_secs: 3600,
            put_idle_timeout_secs: 30,
            max_pending_uploads_per_user: 5,
            max_upload_bytes_per_day: 20 * 1024 * 1024 * 1024,
        }
    }
}
