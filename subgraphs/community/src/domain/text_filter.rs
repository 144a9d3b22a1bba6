//! The text-moderation hook: every text a user publishes (posts, comments; dynamics and
//! messages as they arrive) is judged before it is written. [`KeywordFilter`] is the built-in
//! judge over the admins' word lists; another [`TextModerator`] can be put beside it.

use crate::store::review::Word;

/// What a moderator says about a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Publish it.
    Allow,
    /// Publish it only after review.
    Flag,
    /// Refuse it (`BAD_USER_INPUT`).
    Block,
}

/// A judge of texts (pure: it gets everything it needs when built).
pub trait TextModerator: Send + Sync {
    /// The verdict on `text`.
    fn judge(&self, text: &str) -> Verdict;
}

/// Blocks texts containing a blocked word and flags texts containing a flagged one, ignoring
/// case (a blocked word wins over a flagged one).
#[derive(Debug, Clone, Default)]
pub struct KeywordFilter {
    blocked: Vec<String>,
    flagged: Vec<String>,
}

impl KeywordFilter {
    /// The filter over these words.
    pub fn new(words: &[Word]) -> KeywordFilter {
        let of = |level: &str| words.iter().filter(|w| w.level == level).map(|w| w.word.to_lowercase()).collect();
        KeywordFilter { blocked: of("blocked"), flagged: of("flagged") }
    }
}

impl TextModerator for KeywordFilter {
    fn judge(&self, text: &str) -> Verdict {
        let text = text.to_lowercase();
        if self.blocked.iter().any(|word| text.contains(word.as_str())) {
            Verdict::Block
        } else if self.flagged.iter().any(|word| text.contains(word.as_str())) {
            Verdict::Flag
        } else {
            Verdict::Allow
        }
    }
}

/// A word for the lists: trimmed, lower case, 1–50 characters, or `None` for an empty one.
pub fn normalize_word(raw: &str) -> Option<String> {
    let word = raw.trim().to_lowercase();
    (!word.is_empty() && word.chars().count() <= 50).then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> KeywordFilter {
        let word = |word: &str, level: &str| Word { word: word.into(), level: level.into() };
        KeywordFilter::new(&[word("scam", "blocked"), word("Casino", "flagged"), word("赌博", "blocked")])
    }

    #[test]
    fn blocked_words_refuse_flagged_words_review_and_case_does_not_matter() {
        assert_eq!(filter().judge("a fine day"), Verdict::Allow);
        assert_eq!(filter().judge("best CASINO in town"), Verdict::Flag);
        assert_eq!(filter().judge("casino SCAM"), Verdict::Block, "blocked wins");
        assert_eq!(filter().judge("网上赌博"), Verdict::Block, "CJK, no word boundaries");
        assert_eq!(normalize_word("  Spam "), Some("spam".into()));
        assert_eq!(normalize_word("  "), None);
    }
}
