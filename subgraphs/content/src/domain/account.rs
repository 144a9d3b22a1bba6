//! Account fields, parsed once at the edge (parse, don't validate).

use super::ContentError;

fn invalid(message: impl Into<String>) -> ContentError {
    ContentError::InvalidInput(message.into())
}

/// A syntactically valid e-mail address, lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Trims, lowercases and checks the shape `local@domain.tld` (≤ 254 chars).
    pub fn parse(raw: &str) -> Result<Email, ContentError> {
        let email = raw.trim().to_lowercase();
        let well_formed = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@')
            })
            && !email.chars().any(char::is_whitespace);
        if well_formed { Ok(Email(email)) } else { Err(invalid("Enter a valid e-mail address.")) }
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// 3–32 characters: letters, digits, `_`, `-`; starts with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Checks the rule above.
    pub fn parse(raw: &str) -> Result<Username, ContentError> {
        let name = raw.trim();
        let length = name.chars().count();
        let allowed = name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        let starts_well = name.chars().next().is_some_and(char::is_alphanumeric);
        if (3..=32).contains(&length) && allowed && starts_well {
            Ok(Username(name.to_owned()))
        } else {
            Err(invalid("A username has 3 to 32 letters, digits, '_' or '-', and starts with a letter or digit."))
        }
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A display name: 1–40 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Checks the rule above.
    pub fn parse(raw: &str) -> Result<DisplayName, ContentError> {
        let name = raw.trim();
        if (1..=40).contains(&name.chars().count()) && !name.chars().any(char::is_control) {
            Ok(DisplayName(name.to_owned()))
        } else {
            Err(invalid("A display name has 1 to 40 characters."))
        }
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A profile bio: at most 500 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bio(String);

impl Bio {
    /// Checks the rule above.
    pub fn parse(raw: &str) -> Result<Bio, ContentError> {
        let bio = raw.trim();
        if bio.chars().count() <= 500 { Ok(Bio(bio.to_owned())) } else { Err(invalid("A bio has at most 500 characters.")) }
    }
}

impl AsRef<str> for Bio {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An `http(s)` URL of at most 2048 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    /// Checks the rule above.
    pub fn parse(raw: &str) -> Result<AvatarUrl, ContentError> {
        web_url(raw, "An avatar URL").map(AvatarUrl)
    }
}

impl AsRef<str> for AvatarUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Checks that `raw` is an http(s) URL of at most 2048 characters without spaces; `what` names
/// the field in the error.
pub(crate) fn web_url(raw: &str, what: &str) -> Result<String, ContentError> {
    let url = raw.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if scheme_ok && url.len() <= 2048 && !url.chars().any(char::is_whitespace) {
        Ok(url.to_owned())
    } else {
        Err(invalid(format!("{what} is an http(s) URL of at most 2048 characters.")))
    }
}

/// A profile change; `None` leaves a field as it is, `Some(None)` clears the avatar.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    /// New display name.
    pub display_name: Option<DisplayName>,
    /// New bio.
    pub bio: Option<Bio>,
    /// New avatar, or cleared.
    pub avatar_url: Option<Option<AvatarUrl>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("  Ada@Example.COM ").expect("valid").as_ref(), "ada@example.com");
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a da@example.com", "ada@.com", "ada@example.com."] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn usernames_follow_the_rule() {
        assert!(Username::parse("ada_99").is_ok());
        assert!(Username::parse("小明同学").is_ok());
        for bad in ["ab", "_ada", "ada lovelace", "a".repeat(33).as_str(), "ada!"] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn profile_fields_have_bounds() {
        assert!(DisplayName::parse("  ").is_err());
        assert!(DisplayName::parse(&"x".repeat(41)).is_err());
        assert!(Bio::parse(&"x".repeat(500)).is_ok());
        assert!(Bio::parse(&"x".repeat(501)).is_err());
        assert!(AvatarUrl::parse("javascript:alert(1)").is_err());
        assert!(AvatarUrl::parse("https://cdn.example.com/a.png").is_ok());
    }
}
