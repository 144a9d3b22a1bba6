//! The direct media extractor: a plain HTTP(S) link to a media file. Parsing is a `HEAD` (a
//! `GET` whose body is never read when `HEAD` is refused): type, length and name. Downloading
//! streams the body to the partial file and resumes it with `Range` when the server allows.

use super::SafeClient;
use crate::domain::media::{FetchError, MediaFormat, MediaInfo};
use crate::store::files::PartialFile;
use reqwest::Url;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_RANGE, CONTENT_TYPE, HeaderMap};

/// What a probe found.
pub enum Probe {
    /// A media file.
    Media(MediaInfo),
    /// An HLS playlist (for the HLS extractor).
    Playlist,
}

/// Media types of HLS playlists.
pub fn is_playlist_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    matches!(essence.as_str(), "application/vnd.apple.mpegurl" | "application/x-mpegurl" | "audio/mpegurl" | "audio/x-mpegurl")
}

/// Whether a media type (its essence, lowercase) is one a download may be served as.
pub fn is_media_type(essence: &str) -> bool {
    essence.starts_with("video/")
        || essence.starts_with("audio/")
        || matches!(essence, "application/octet-stream" | "binary/octet-stream" | "application/mp4" | "application/x-matroska")
}

/// The usual extension of a media type.
pub fn extension_for(content_type: &str) -> Option<&'static str> {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    Some(match essence.as_str() {
        "video/mp4" | "application/mp4" => "mp4",
        "video/webm" => "webm",
        "video/x-matroska" | "application/x-matroska" => "mkv",
        "video/quicktime" => "mov",
        "video/mp2t" => "ts",
        "video/x-flv" => "flv",
        "audio/mpeg" => "mp3",
        "audio/mp4" => "m4a",
        "audio/ogg" | "video/ogg" => "ogg",
        _ => return None,
    })
}

/// The site of a URL, as shown and as metrics label it: the host without `www.`.
pub fn platform_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or("unknown").trim_start_matches("www.").to_ascii_lowercase();
    host.chars().take(100).collect()
}

/// The file name the server or the URL gives.
fn file_name(url: &Url, headers: &HeaderMap) -> Option<String> {
    let disposition = headers.get(CONTENT_DISPOSITION).and_then(|value| value.to_str().ok()).and_then(|value| {
        value.split(';').map(str::trim).find_map(|part| part.strip_prefix("filename=")).map(|name| name.trim_matches('"').to_owned())
    });
    disposition.filter(|name| !name.is_empty()).or_else(|| {
        url.path_segments().and_then(|mut segments| segments.next_back()).filter(|segment| !segment.is_empty()).map(str::to_owned)
    })
}

/// Probes `url`.
pub async fn probe(client: &SafeClient, url: &Url) -> Result<Probe, FetchError> {
    let response = match client.head(url).await.and_then(super::check_status) {
        Ok(response) => response,
        // Some servers refuse HEAD: ask with GET and read only the headers.
        Err(FetchError::Status(403 | 405 | 501)) => {
            tokio::time::timeout(client.limits().parse_timeout, client.get(url, None)).await.map_err(|_| FetchError::TimedOut)??
        }
        Err(error) => return Err(error),
    };
    let headers = response.headers();
    let content_type = headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("application/octet-stream").to_owned();
    if is_playlist_type(&content_type) {
        return Ok(Probe::Playlist);
    }
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if !is_media_type(&essence) {
        return Err(FetchError::Unsupported(format!("not a media file ({essence})")));
    }
    // A HEAD response has no body, so the length is read from the header, not the body.
    let size = headers
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .filter(|length| *length > 0);
    if let Some(size) = size
        && size > client.limits().max_file_bytes
    {
        return Err(FetchError::TooLarge { limit: client.limits().max_file_bytes });
    }
    let name = file_name(response.url(), headers).unwrap_or_else(|| platform_of(url));
    let (stem, name_extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() && extension.len() <= 8 => (stem.to_owned(), Some(extension.to_ascii_lowercase())),
        _ => (name.clone(), None),
    };
    let container = extension_for(&essence).map(str::to_owned).or(name_extension);
    let format = MediaFormat {
        id: "direct".into(),
        quality: None,
        container,
        codecs: None,
        size_bytes: size.and_then(|size| i64::try_from(size).ok()),
        bandwidth: None,
        content_type: Some(essence),
        url: url.to_string(),
    };
    Ok(Probe::Media(MediaInfo {
        url: url.to_string(),
        title: stem.chars().take(300).collect(),
        duration_secs: None,
        thumbnail: None,
        uploader: None,
        platform: platform_of(url),
        extractor: "direct".into(),
        formats: vec![format],
    }))
}

/// Where a `206`'s range starts.
fn range_start(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    value.strip_prefix("bytes ")?.split('-').next()?.trim().parse().ok()
}

/// Downloads `url` into `sink`, resuming from what it holds when the server answers the
/// `Range` request with the matching `206`; otherwise from the start. Returns the media type.
pub async fn download(client: &SafeClient, url: &Url, sink: &mut PartialFile) -> Result<Option<String>, FetchError> {
    let from = sink.len();
    let response = match client.get(url, (from > 0).then_some(from)).await {
        // The partial file is as long as the file (or longer): start again.
        Err(FetchError::Status(416)) if from > 0 => {
            sink.restart().await?;
            client.get(url, None).await?
        }
        other => other?,
    };
    let mut response = if from > 0 && !(response.status().as_u16() == 206 && range_start(response.headers()) == Some(from)) {
        sink.restart().await?;
        if response.status().as_u16() == 206 {
            // A range we did not ask for: ask for the whole file.
            drop(response);
            client.get(url, None).await?
        } else {
            response
        }
    } else {
        response
    };
    if from > 0 && sink.len() == from {
        tracing::info!(url = %url, resumed_at = from, "resuming a download");
    }
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).map(str::to_owned);
    if content_type.as_deref().is_some_and(is_playlist_type) {
        return Err(FetchError::Unsupported("the format is a playlist".into()));
    }
    let expected = response.content_length().map(|length| length + sink.len());
    if let Some(total) = expected {
        if total > client.limits().max_file_bytes {
            return Err(FetchError::TooLarge { limit: client.limits().max_file_bytes });
        }
        sink.set_total(Some(total));
    }
    while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
        sink.write(&chunk).await?;
    }
    if let Some(total) = expected
        && sink.len() != total
    {
        return Err(FetchError::Network(format!("the body ended after {} of {total} bytes", sink.len())));
    }
    Ok(content_type)
}
