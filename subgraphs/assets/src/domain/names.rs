//! File names from titles (a rule): no path traversal, no control or reserved characters, a
//! bounded length, and unique per task (the task id is part of the name).

use uuid::Uuid;

/// Most characters of the title kept in a file name.
pub const MAX_STEM_CHARS: usize = 80;

/// Names Windows refuses whatever the extension (kept out so archives copy anywhere).
const RESERVED: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9", "lpt1", "lpt2", "lpt3", "lpt4",
    "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// The file name of task `task_id` from its `title` and extension: `<clean title>-<12 hex>.<ext>`.
/// The result is one path component: never empty, never `.`/`..`, no separator, no control
/// character, at most [`MAX_STEM_CHARS`] characters of title.
pub fn file_name(title: &str, extension: &str, task_id: Uuid) -> String {
    let mut stem = String::with_capacity(title.len().min(MAX_STEM_CHARS * 4));
    let mut last_was_gap = true;
    for c in title.chars() {
        let keep = !c.is_control() && !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '\u{202e}' | '\u{200b}');
        if keep && !c.is_whitespace() {
            stem.push(c);
            last_was_gap = false;
        } else if !last_was_gap {
            stem.push(if c.is_whitespace() { ' ' } else { '_' });
            last_was_gap = true;
        }
        if stem.chars().count() >= MAX_STEM_CHARS {
            break;
        }
    }
    // No dot runs (`..`), no leading dots (hidden files), no trailing dots or spaces.
    while stem.contains("..") {
        stem = stem.replace("..", ".");
    }
    let stem = stem.trim_matches(|c: char| c == '.' || c == ' ' || c == '_').to_owned();
    let stem = if stem.is_empty() { "download".to_owned() } else { stem };
    let stem = if RESERVED.contains(&stem.to_ascii_lowercase().as_str()) { format!("_{stem}") } else { stem };
    let extension: String = extension.chars().filter(char::is_ascii_alphanumeric).take(8).collect::<String>().to_ascii_lowercase();
    let extension = if extension.is_empty() { "bin".to_owned() } else { extension };
    // The random tail of the id (a v7 id starts with its timestamp, shared by ids of one moment).
    let simple = task_id.simple().to_string();
    let short = &simple[20..];
    format!("{stem}-{short}.{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_one_safe_component(name: &str) -> bool {
        let path = std::path::Path::new(name);
        path.components().count() == 1
            && matches!(path.components().next(), Some(std::path::Component::Normal(_)))
            && !name.starts_with('.')
            && !name.chars().any(|c| c.is_control() || c == '/' || c == '\\')
    }

    #[test]
    fn traversal_titles_become_one_harmless_component() {
        let id = Uuid::now_v7();
        for title in ["../../etc/passwd", "..", ".", "/", "\\..\\..\\windows\\system32", "a/../../b", "....//....//", "\0\n\r\t"] {
            let name = file_name(title, "mp4", id);
            assert!(is_one_safe_component(&name), "{title:?} → {name:?}");
            assert!(!name.contains(".."), "{title:?} → {name:?}");
        }
        assert_eq!(file_name("../../etc/passwd", "mp4", id), format!("etc_passwd-{}.mp4", &id.simple().to_string()[20..]));
    }

    #[test]
    fn names_are_bounded_unique_per_task_and_keep_readable_titles() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_ne!(file_name("Same title", "mp4", a), file_name("Same title", "mp4", b));
        assert!(file_name("My   holiday   video", "MP4", a).starts_with("My holiday video-"));
        assert!(file_name("My   holiday   video", "MP4", a).ends_with(".mp4"));
        let long = file_name(&"é".repeat(1000), "mp4", a);
        assert!(long.chars().count() <= MAX_STEM_CHARS + 1 + 12 + 4, "{}", long.chars().count());
        assert!(file_name("", "", a).starts_with("download-"));
        assert!(file_name("CON", "mp4", a).starts_with("_CON-"));
        assert!(file_name("clip", "../sh", a).ends_with(".sh"));
        assert!(file_name("clip\u{202e}4pm.exe", "mp4", a).ends_with(".mp4"));
    }
}
