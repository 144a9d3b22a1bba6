//! Pure rules of zones, posts, comments, likes and points (no I/O).

use super::CommunityError;
use platform::auth::{AuthUser, Role};
use uuid::Uuid;

/// Points a live post earns its author in its zone.
pub const POST_POINTS: i64 = 10;
/// Points a live comment or reply earns its author in the post's zone.
pub const COMMENT_POINTS: i64 = 1;
/// What a user's like adds to an item's score and its author's likes received.
pub const USER_LIKE_WEIGHT: i32 = 1;
/// What an admin's like adds.
pub const ADMIN_LIKE_WEIGHT: i32 = 5;

/// Pinned posts ("today's hot") a zone shows at most.
pub const MAX_PINS_PER_ZONE: usize = 4;
/// Most posts pinned on the home list (site-wide).
pub const MAX_HOME_PINS: usize = 4;

/// The weight of a like by `liker`.
pub fn like_weight(liker: &AuthUser) -> i32 {
    if liker.role == Role::Admin { ADMIN_LIKE_WEIGHT } else { USER_LIKE_WEIGHT }
}

/// Counts characters, not bytes: limits are what a user sees.
fn char_len(text: &str) -> usize {
    text.chars().count()
}

/// Control characters other than line breaks and tabs are refused in any text.
fn has_bad_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// A trimmed text of at most `max` characters (`min` 0 or 1), or bad input naming `what`.
fn text(raw: &str, what: &str, min: usize, max: usize) -> Result<String, CommunityError> {
    let text = raw.trim();
    if char_len(text) < min || char_len(text) > max || has_bad_controls(text) {
        let range = if min == 0 { format!("at most {max} characters") } else { format!("{min} to {max} characters") };
        return Err(CommunityError::invalid(format!("{what} is {range}.")));
    }
    Ok(text.to_owned())
}

/// A zone's name: 1–40 characters on one line.
pub fn zone_name(raw: &str) -> Result<String, CommunityError> {
    let name = text(raw, "A zone name", 1, 40)?;
    if name.contains(['\n', '\t']) {
        return Err(CommunityError::invalid("A zone name is one line."));
    }
    Ok(name)
}

/// A zone's description: at most 500 characters.
pub fn zone_description(raw: &str) -> Result<String, CommunityError> {
    text(raw, "A zone description", 0, 500)
}

/// Longest post text.
pub const MAX_POST_CHARS: usize = 5000;
/// Most images of a post.
pub const MAX_IMAGES: usize = 9;
/// Longest image URL.
pub const MAX_URL_CHARS: usize = 500;
/// Longest comment.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// What a post shows: text, images, a video, or a mix; never nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostContent {
    /// The text (may be empty when there are images or a video).
    pub body: String,
    /// Image URLs (`http`/`https`), at most [`MAX_IMAGES`].
    pub image_urls: Vec<String>,
    /// A `Video` of `content`, by id.
    pub video_id: Option<Uuid>,
}

impl PostContent {
    /// Checks the rules above.
    pub fn parse(body: &str, image_urls: &[String], video_id: Option<Uuid>) -> Result<PostContent, CommunityError> {
        let body = text(body, "A post's text", 0, MAX_POST_CHARS)?;
        if image_urls.len() > MAX_IMAGES {
            return Err(CommunityError::invalid(format!("A post has at most {MAX_IMAGES} images.")));
        }
        let image_urls = image_urls.iter().map(|url| image_url(url)).collect::<Result<Vec<_>, _>>()?;
        if body.is_empty() && image_urls.is_empty() && video_id.is_none() {
            return Err(CommunityError::invalid("A post needs text, images or a video."));
        }
        Ok(PostContent { body, image_urls, video_id })
    }
}

/// An image URL: `http://` or `https://`, no spaces, at most [`MAX_URL_CHARS`].
fn image_url(raw: &str) -> Result<String, CommunityError> {
    let url = raw.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    let host_ok = url.split_once("://").is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    if !scheme_ok || !host_ok || char_len(url) > MAX_URL_CHARS || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CommunityError::invalid(format!("An image is an http(s) URL of at most {MAX_URL_CHARS} characters.")));
    }
    Ok(url.to_owned())
}

/// A comment's text: 1 to [`MAX_COMMENT_CHARS`] characters.
pub fn comment_body(raw: &str) -> Result<String, CommunityError> {
    text(raw, "A comment", 1, MAX_COMMENT_CHARS)
}

/// A rejection needs a reason (1–200 characters); an approval may have one.
pub fn review_reason(approve: bool, reason: Option<&str>) -> Result<Option<String>, CommunityError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match reason {
        None if !approve => Err(CommunityError::invalid("A rejection gives a reason.")),
        Some(r) if r.chars().count() > 200 => Err(CommunityError::invalid("A reason is at most 200 characters.")),
        other => Ok(other.map(str::to_owned)),
    }
}

/// Who may delete an item of `author`, and the reason recorded: the author (no reason
/// needed), or a moderator of its zone (a site admin, or an admin of the zone: `moderator`),
/// who must give one (1–200 characters) for someone else's item.
pub fn delete_reason(actor: &AuthUser, moderator: bool, author: Uuid, reason: Option<&str>) -> Result<Option<String>, CommunityError> {
    let reason = reason.map(str::trim).filter(|reason| !reason.is_empty());
    if actor.id == author {
        return reason.map(|reason| text(reason, "A reason", 1, 200)).transpose();
    }
    if !moderator {
        return Err(CommunityError::Forbidden("Only the author or an admin can delete this.".into()));
    }
    let reason = reason.ok_or_else(|| CommunityError::invalid("An admin deleting someone else's content gives a reason."))?;
    Ok(Some(text(reason, "A reason", 1, 200)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> AuthUser {
        AuthUser { id: Uuid::now_v7(), role: Role::User }
    }

    #[test]
    fn an_admin_like_weighs_five_and_a_user_like_one() {
        assert_eq!(like_weight(&user()), 1);
        assert_eq!(like_weight(&AuthUser { role: Role::Admin, ..user() }), 5);
    }

    #[test]
    fn a_post_is_never_empty_and_its_parts_are_bounded() {
        assert!(PostContent::parse("  ", &[], None).is_err(), "empty post");
        assert!(PostContent::parse(&"字".repeat(MAX_POST_CHARS + 1), &[], None).is_err(), "oversized text");
        assert_eq!(PostContent::parse(&"字".repeat(MAX_POST_CHARS), &[], None).expect("max").body.chars().count(), MAX_POST_CHARS);
        assert!(PostContent::parse("", &["https://img.example.com/a.png".into()], None).is_ok(), "images only");
        assert!(PostContent::parse("", &[], Some(Uuid::now_v7())).is_ok(), "a video only");
        for bad in ["javascript:alert(1)", "https://", "https:///x", "https://a b", "ftp://x"] {
            assert!(PostContent::parse("x", &[bad.into()], None).is_err(), "{bad}");
        }
        let ten = vec!["https://img.example.com/a.png".to_owned(); MAX_IMAGES + 1];
        assert!(PostContent::parse("x", &ten, None).is_err());
        assert!(PostContent::parse("bell\u{7}", &[], None).is_err());
    }

    #[test]
    fn zone_names_are_one_short_line() {
        assert_eq!(zone_name("  Games ").expect("name"), "Games");
        for bad in ["", "   ", "a\nb", &"x".repeat(41)] {
            assert!(zone_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_the_author_or_an_admin_with_a_reason_deletes() {
        let author = user();
        assert_eq!(delete_reason(&author, false, author.id, None).expect("author"), None);
        assert!(matches!(delete_reason(&user(), false, author.id, Some("spam")), Err(CommunityError::Forbidden(_))));
        let moderator = user();
        assert!(matches!(delete_reason(&moderator, true, author.id, None), Err(CommunityError::InvalidInput(_))));
        assert!(matches!(delete_reason(&moderator, true, author.id, Some("  ")), Err(CommunityError::InvalidInput(_))));
        assert_eq!(delete_reason(&moderator, true, author.id, Some(" spam ")).expect("moderator"), Some("spam".into()));
    }
}
