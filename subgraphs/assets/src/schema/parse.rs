//! `parseUrl`: what a URL holds and which formats a download can pick.

use super::GqlResultExt;
use crate::domain::downloads::DownloadCentre;
use crate::domain::media::{MediaFormat, MediaInfo};
use async_graphql::{Context, Object, SimpleObject};
use platform::auth::{SignedIn, viewer};
use platform::error::CodedResultExt;

/// One downloadable format of a parsed URL.
#[derive(SimpleObject)]
#[graphql(name = "MediaFormat")]
pub struct MediaFormatObject {
    /// Give it to `startDownload` as `formatId`.
    pub id: String,
    /// Quality label (`720p`…), when known.
    pub quality: Option<String>,
    /// Container (`mp4`, `ts`…), when known.
    pub container: Option<String>,
    /// Codecs, when known.
    pub codecs: Option<String>,
    /// Size in bytes, when known.
    pub size_bytes: Option<i64>,
    /// Bits per second, when known.
    pub bandwidth: Option<i64>,
    /// Media type of the file, when known.
    pub content_type: Option<String>,
}

impl From<MediaFormat> for MediaFormatObject {
    fn from(format: MediaFormat) -> Self {
        MediaFormatObject {
            id: format.id,
            quality: format.quality,
            container: format.container,
            codecs: format.codecs,
            size_bytes: format.size_bytes,
            bandwidth: format.bandwidth.and_then(|value| i64::try_from(value).ok()),
            content_type: format.content_type,
        }
    }
}

/// What a URL holds.
#[derive(SimpleObject)]
#[graphql(name = "ParsedMedia")]
pub struct ParsedMedia {
    /// The URL as normalized (the cache key).
    pub url: String,
    /// Title.
    pub title: String,
    /// Length in seconds, when known.
    pub duration_secs: Option<f64>,
    /// Thumbnail URL, when known.
    pub thumbnail: Option<String>,
    /// Who published it, when known.
    pub uploader: Option<String>,
    /// The site.
    pub platform: String,
    /// The extractor that understood it (`direct`, `hls`).
    pub extractor: String,
    /// The formats, best known first is not promised: pick by `quality`/`bandwidth`.
    pub formats: Vec<MediaFormatObject>,
}

impl From<MediaInfo> for ParsedMedia {
    fn from(info: MediaInfo) -> Self {
        ParsedMedia {
            url: info.url,
            title: info.title,
            duration_secs: info.duration_secs,
            thumbnail: info.thumbnail,
            uploader: info.uploader,
            platform: info.platform,
            extractor: info.extractor,
            formats: info.formats.into_iter().map(Into::into).collect(),
        }
    }
}

/// The parse query.
#[derive(Default)]
pub struct ParseQuery;

#[Object]
impl ParseQuery {
    /// The metadata and formats of a video URL (http/https to a public address; results are
    /// cached for an hour). Signed-in users only, 60 a minute (`RATE_LIMITED` past it). A URL that cannot be downloaded answers
    /// `BAD_USER_INPUT` with `extensions.reason` (`URL_POLICY`, `NOT_FOUND`, `UNSUPPORTED`…).
    #[graphql(guard = "SignedIn")]
    async fn parse_url(&self, ctx: &Context<'_>, url: String) -> async_graphql::Result<ParsedMedia> {
        let user = viewer(ctx).require_user().coded()?;
        let centre = ctx.data::<DownloadCentre>()?;
        Ok(centre.parse_for(user.id, &url).await.gql()?.into())
    }
}
