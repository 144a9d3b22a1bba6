//! Parsing shared by both modes: durations, operation files, variables,
//! bearer tokens and extra headers.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

/// Parses a human duration: a non-negative number followed by `ms`, `s`, `m`
/// or `h` (`500ms`, `10s`, `1.5s`, `2m`). A bare number is rejected because
/// `10` could mean seconds or milliseconds and guessing wrong makes a run
/// 1000× too long or too short.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    // `ms` is checked before `m` and `s` because it ends with both.
    let (number, unit_secs) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3600.0)
    } else {
        return Err(format!("`{input}`: expected a unit, e.g. 500ms, 10s, 2m, 1h"));
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("`{input}`: `{number}` is not a number"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("`{input}`: must be a finite, non-negative duration"));
    }
    Duration::try_from_secs_f64(value * unit_secs).map_err(|e| format!("`{input}`: {e}"))
}

/// Reads a GraphQL document from `path`.
pub fn read_operation(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading operation file {}", path.display()))?;
    ensure!(!text.trim().is_empty(), "operation file {} is empty", path.display());
    Ok(text)
}

/// Parses GraphQL variables given inline (`--variables`) or as a file
/// (`--variables-file`); `None` when neither is given. Variables must be a
/// JSON object, as the GraphQL-over-HTTP spec requires.
pub fn read_variables(inline: Option<&str>, file: Option<&Path>) -> Result<Option<Value>> {
    let (text, origin) = match (inline, file) {
        (Some(text), _) => (text.to_owned(), "--variables".to_owned()),
        (None, Some(path)) => (
            std::fs::read_to_string(path).with_context(|| format!("reading variables file {}", path.display()))?,
            path.display().to_string(),
        ),
        (None, None) => return Ok(None),
    };
    let value: Value = serde_json::from_str(&text).with_context(|| format!("parsing variables from {origin}"))?;
    ensure!(value.is_object(), "variables from {origin} must be a JSON object");
    Ok(Some(value))
}

/// Reads bearer tokens, one per line; blank lines and `#` comments are skipped,
/// and a leading `Bearer ` is tolerated so a file of header values works too.
pub fn read_tokens(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading tokens file {}", path.display()))?;
    let tokens = parse_tokens(&text);
    ensure!(!tokens.is_empty(), "tokens file {} holds no token", path.display());
    Ok(tokens)
}

fn parse_tokens(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.strip_prefix("Bearer ").unwrap_or(line).trim().to_owned())
        .collect()
}

/// Token for virtual user / subscriber `index`: round-robin over the file so
/// that more users than tokens still spread the load over every account.
pub fn token_for(tokens: &[String], index: usize) -> Option<&str> {
    if tokens.is_empty() { None } else { tokens.get(index % tokens.len()).map(String::as_str) }
}

/// Splits a `--header 'Name: value'` argument.
pub fn parse_header(raw: &str) -> Result<(String, String)> {
    let Some((name, value)) = raw.split_once(':') else {
        bail!("header `{raw}` must look like `Name: value`");
    };
    let name = name.trim();
    ensure!(!name.is_empty(), "header `{raw}` has an empty name");
    Ok((name.to_owned(), value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration(" 50ms "), Ok(Duration::from_millis(50)));
    }

    #[test]
    fn durations_without_a_valid_number_and_unit_are_rejected() {
        for bad in ["", "10", "s", "ms", "abc", "-1s", "10x", "1e400s", "NaNs", "10 sec"] {
            assert!(parse_duration(bad).is_err(), "`{bad}` should be rejected");
        }
    }

    #[test]
    fn tokens_skip_blanks_and_comments_and_strip_bearer() {
        let tokens = parse_tokens("# users\n  aaa \n\nBearer bbb\n");
        assert_eq!(tokens, ["aaa", "bbb"]);
        assert_eq!(token_for(&tokens, 0), Some("aaa"));
        assert_eq!(token_for(&tokens, 3), Some("bbb"));
        assert_eq!(token_for(&[], 3), None);
    }

    #[test]
    fn headers_split_on_the_first_colon() {
        let (name, value) = parse_header("X-Trace: a:b ").expect("valid header");
        assert_eq!((name.as_str(), value.as_str()), ("X-Trace", "a:b"));
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(": v").is_err());
    }

    #[test]
    fn variables_must_be_an_object() {
        let vars = read_variables(Some(r#"{"id":"1"}"#), None).expect("valid");
        assert_eq!(vars, Some(serde_json::json!({"id": "1"})));
        assert!(read_variables(Some("[1]"), None).is_err());
        assert!(read_variables(Some("{"), None).is_err());
        assert_eq!(read_variables(None, None).expect("none"), None);
    }
}
