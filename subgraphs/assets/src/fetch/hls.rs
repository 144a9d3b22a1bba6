//! The HLS extractor: a master playlist's variants are the formats; a media playlist is one
//! format. A download fetches the media playlist, then its segments — each through the same
//! guarded client, so every segment URL meets the URL policy — several at once within a
//! bound, and appends them in order to one file. Encrypted and live playlists are refused.

use super::SafeClient;
use crate::domain::media::{FetchError, MediaFormat, MediaInfo};
use crate::store::files::PartialFile;
use futures::{StreamExt, TryStreamExt};
use reqwest::Url;

/// Most segments a media playlist may list.
const MAX_SEGMENTS: usize = 20_000;
/// Largest single segment: segments are held in memory until their turn to be appended (at
/// most `parallel_segments` of them), so one huge segment must not take the process down.
pub const MAX_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Whether the URL names a playlist by its path.
pub fn looks_like_playlist(url: &Url) -> bool {
    url.path().to_ascii_lowercase().ends_with(".m3u8")
}

/// One variant of a master playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The media playlist URI, as written.
    pub uri: String,
    /// `BANDWIDTH`.
    pub bandwidth: Option<u64>,
    /// `RESOLUTION` (width, height).
    pub resolution: Option<(u32, u32)>,
    /// `CODECS`.
    pub codecs: Option<String>,
}

/// A media playlist.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MediaPlaylist {
    /// Segment URIs in order, as written.
    pub segments: Vec<String>,
    /// The `EXT-X-MAP` initialisation segment.
    pub init: Option<String>,
    /// Sum of the `EXTINF` durations.
    pub duration_secs: f64,
    /// An `EXT-X-KEY` other than `METHOD=NONE`.
    pub encrypted: bool,
    /// `EXT-X-ENDLIST` (not live).
    pub ended: bool,
}

/// A parsed playlist.
#[derive(Debug, Clone, PartialEq)]
pub enum Playlist {
    /// Variants.
    Master(Vec<Variant>),
    /// Segments.
    Media(MediaPlaylist),
}

/// The attributes of a tag (`KEY=value,KEY="quoted, value"`).
fn attributes(list: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (mut key, mut value, mut in_key, mut quoted) = (String::new(), String::new(), true, false);
    for c in list.chars().chain(std::iter::once(',')) {
        match c {
            '"' => quoted = !quoted,
            '=' if in_key => in_key = false,
            ',' if !quoted => {
                if !key.trim().is_empty() {
                    out.push((key.trim().to_ascii_uppercase(), value.trim().to_owned()));
                }
                (key, value, in_key) = (String::new(), String::new(), true);
            }
            c if in_key => key.push(c),
            c => value.push(c),
        }
    }
    out
}

fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// Parses a playlist (a rule: no I/O).
pub fn parse_playlist(text: &str) -> Result<Playlist, FetchError> {
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    if lines.next().map(|line| line.trim_start_matches('\u{feff}')) != Some("#EXTM3U") {
        return Err(FetchError::Unsupported("not an HLS playlist".into()));
    }
    let (mut variants, mut media) = (Vec::new(), MediaPlaylist::default());
    let mut pending_variant: Option<Variant> = None;
    for line in lines {
        if let Some(list) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            let attrs = attributes(list);
            pending_variant = Some(Variant {
                uri: String::new(),
                bandwidth: attribute(&attrs, "BANDWIDTH").and_then(|value| value.parse().ok()),
                resolution: attribute(&attrs, "RESOLUTION").and_then(|value| {
                    let (width, height) = value.split_once(['x', 'X'])?;
                    Some((width.parse().ok()?, height.parse().ok()?))
                }),
                codecs: attribute(&attrs, "CODECS").map(str::to_owned),
            });
        } else if let Some(list) = line.strip_prefix("#EXT-X-KEY:") {
            media.encrypted |= attribute(&attributes(list), "METHOD").is_some_and(|method| !method.eq_ignore_ascii_case("NONE"));
        } else if let Some(list) = line.strip_prefix("#EXT-X-MAP:") {
            media.init = attribute(&attributes(list), "URI").map(str::to_owned);
        } else if let Some(info) = line.strip_prefix("#EXTINF:") {
            media.duration_secs += info.split(',').next().and_then(|value| value.trim().parse::<f64>().ok()).unwrap_or(0.0);
        } else if line == "#EXT-X-ENDLIST" {
            media.ended = true;
        } else if line.starts_with('#') {
            continue;
        } else if let Some(mut variant) = pending_variant.take() {
            variant.uri = line.to_owned();
            variants.push(variant);
        } else {
            if media.segments.len() == MAX_SEGMENTS {
                return Err(FetchError::Unsupported(format!("more than {MAX_SEGMENTS} segments")));
            }
            media.segments.push(line.to_owned());
        }
    }
    if !variants.is_empty() {
        return Ok(Playlist::Master(variants));
    }
    if media.segments.is_empty() {
        return Err(FetchError::Unsupported("an empty playlist".into()));
    }
    Ok(Playlist::Media(media))
}

fn resolve(base: &Url, uri: &str) -> Result<Url, FetchError> {
    base.join(uri).map_err(|_| FetchError::Unsupported(format!("a bad URI in the playlist: {uri}")))
}

fn title_of(url: &Url) -> String {
    url.path_segments()
        .and_then(|mut segments| segments.rfind(|segment| !segment.is_empty()))
        .map(|last| last.trim_end_matches(".m3u8").to_owned())
        .filter(|title| !title.is_empty())
        .unwrap_or_else(|| super::direct::platform_of(url))
}

/// Reads the playlist at `url`: the variants of a master playlist as formats (`hls-<n>`), or
/// a media playlist as the one format `hls`.
pub async fn parse(client: &SafeClient, url: &Url) -> Result<MediaInfo, FetchError> {
    let (final_url, body) = client.get_small(url, client.limits().max_playlist_bytes).await?;
    let text = std::str::from_utf8(&body).map_err(|_| FetchError::Unsupported("a playlist that is not UTF-8".into()))?;
    let (formats, duration_secs) = match parse_playlist(text)? {
        Playlist::Master(variants) => {
            let formats = variants
                .iter()
                .enumerate()
                .map(|(index, variant)| {
                    Ok(MediaFormat {
                        id: format!("hls-{index}"),
                        quality: variant.resolution.map(|(_, height)| format!("{height}p")),
                        container: Some("ts".into()),
                        codecs: variant.codecs.clone(),
                        size_bytes: None,
                        bandwidth: variant.bandwidth,
                        content_type: Some("video/mp2t".into()),
                        url: resolve(&final_url, &variant.uri)?.to_string(),
                    })
                })
                .collect::<Result<Vec<_>, FetchError>>()?;
            (formats, None)
        }
        Playlist::Media(media) => {
            if media.encrypted {
                return Err(FetchError::Unsupported("encrypted HLS".into()));
            }
            let format = MediaFormat {
                id: "hls".into(),
                quality: None,
                container: Some(if media.init.is_some() { "mp4" } else { "ts" }.into()),
                codecs: None,
                size_bytes: None,
                bandwidth: None,
                content_type: Some(if media.init.is_some() { "video/mp4" } else { "video/mp2t" }.into()),
                url: url.to_string(),
            };
            (vec![format], Some(media.duration_secs))
        }
    };
    Ok(MediaInfo {
        url: url.to_string(),
        title: title_of(url),
        duration_secs,
        thumbnail: None,
        uploader: None,
        platform: super::direct::platform_of(url),
        extractor: "hls".into(),
        formats,
    })
}

/// Downloads the media playlist at `url` into `sink` (from the start: segments are joined in
/// order, `parallel` fetched at once). Returns the media type.
pub async fn download(client: &SafeClient, url: &Url, sink: &mut PartialFile) -> Result<Option<String>, FetchError> {
    let (final_url, body) = client.get_small(url, client.limits().max_playlist_bytes).await?;
    let text = std::str::from_utf8(&body).map_err(|_| FetchError::Unsupported("a playlist that is not UTF-8".into()))?;
    let media = match parse_playlist(text)? {
        Playlist::Media(media) => media,
        Playlist::Master(_) => return Err(FetchError::Unsupported("pick one of the playlist's variants".into())),
    };
    if media.encrypted {
        return Err(FetchError::Unsupported("encrypted HLS".into()));
    }
    if !media.ended {
        return Err(FetchError::Unsupported("a live stream (the playlist has no end)".into()));
    }
    sink.restart().await?;
    let mut uris = Vec::with_capacity(media.segments.len() + 1);
    if let Some(init) = &media.init {
        uris.push(resolve(&final_url, init)?);
    }
    for segment in &media.segments {
        uris.push(resolve(&final_url, segment)?);
    }
    let count = uris.len();
    let max = client.limits().max_file_bytes.min(MAX_SEGMENT_BYTES);
    let mut segments = futures::stream::iter(uris)
        .map(|uri| async move { fetch_segment(client, &uri, max).await })
        .buffered(client.limits().parallel_segments);
    let mut done = 0_u64;
    while let Some(bytes) = segments.try_next().await? {
        sink.write(&bytes).await?;
        done += 1;
        // The whole size is unknown: estimate it from the segments so far.
        sink.set_total(Some(sink.len() / done * count as u64));
    }
    sink.set_total(Some(sink.len()));
    Ok(Some(if media.init.is_some() { "video/mp4" } else { "video/mp2t" }.to_owned()))
}

async fn fetch_segment(client: &SafeClient, url: &Url, max: u64) -> Result<bytes::Bytes, FetchError> {
    let mut response = client.get(url, None).await?;
    if response.content_length().is_some_and(|length| length > max) {
        return Err(FetchError::TooLarge { limit: max });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(FetchError::TooLarge { limit: max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_master_playlist_lists_its_variants_with_quoted_attributes() {
        let text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS=\"avc1.4d401e,mp4a.40.2\"\nlow/index.m3u8\n\
                    #EXT-X-STREAM-INF:BANDWIDTH=2500000,RESOLUTION=1280x720\nhttps://cdn.example.com/high.m3u8\n";
        let Playlist::Master(variants) = parse_playlist(text).expect("parses") else { panic!("a master playlist") };
        assert_eq!(variants.len(), 2);
        assert_eq!(variants[0].codecs.as_deref(), Some("avc1.4d401e,mp4a.40.2"));
        assert_eq!(variants[0].resolution, Some((640, 360)));
        assert_eq!(variants[1].bandwidth, Some(2_500_000));
        assert_eq!(variants[1].uri, "https://cdn.example.com/high.m3u8");
    }

    #[test]
    fn a_media_playlist_lists_segments_and_says_whether_it_ended_or_is_encrypted() {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nseg0.ts\n#EXTINF:3.5,\nseg1.ts\n#EXT-X-ENDLIST\n";
        let Playlist::Media(media) = parse_playlist(text).expect("parses") else { panic!("a media playlist") };
        assert_eq!(media.segments, ["seg0.ts", "seg1.ts"]);
        assert!((media.duration_secs - 7.5).abs() < 1e-9);
        assert!(media.ended && !media.encrypted);
        let encrypted = "#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n#EXTINF:4,\na.ts\n";
        let Playlist::Media(media) = parse_playlist(encrypted).expect("parses") else { panic!("media") };
        assert!(media.encrypted && !media.ended);
        assert!(parse_playlist("<html>").is_err());
        assert!(parse_playlist("#EXTM3U\n").is_err());
    }
}
