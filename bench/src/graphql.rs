//! GraphQL over HTTP: request bodies and how a response is judged.

use serde::Deserialize;
use serde_json::{Map, Value};

/// Builds the GraphQL-over-HTTP request body `{query, variables?, operationName?}`.
pub fn graphql_body(query: &str, variables: Option<&Value>, operation_name: Option<&str>) -> Value {
    let mut body = Map::new();
    body.insert("query".into(), Value::String(query.to_owned()));
    if let Some(variables) = variables {
        body.insert("variables".into(), variables.clone());
    }
    if let Some(name) = operation_name {
        body.insert("operationName".into(), Value::String(name.to_owned()));
    }
    Value::Object(body)
}

/// Why one request counted as an error.
#[derive(Debug, PartialEq)]
pub struct Failure {
    /// Stable kind used as the tally key (`http_500`, `graphql:FORBIDDEN`, …).
    pub kind: String,
    /// Body or error text, for the first-error line.
    pub detail: String,
}

impl Failure {
    /// A failure of `kind` with a human-readable `detail`.
    pub fn new(kind: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { kind: kind.into(), detail: detail.into() }
    }
}

/// Sends a prepared GraphQL POST and judges the answer with [`classify`].
pub async fn execute(request: reqwest::RequestBuilder) -> Result<(), Failure> {
    let response = request.send().await.map_err(transport_failure)?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(transport_failure)?;
    classify(status, &body)
}

/// Turns a reqwest error into a failure whose detail carries the whole cause chain.
pub fn transport_failure(error: reqwest::Error) -> Failure {
    let kind = if error.is_connect() {
        "connect"
    } else if error.is_timeout() {
        "timeout"
    } else {
        "transport"
    };
    // The Display of a reqwest error hides its cause ("error sending request");
    // the source chain says what actually went wrong.
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    Failure { kind: kind.to_owned(), detail }
}

/// Only the part of a GraphQL response that decides success. Deserialising
/// into this (rather than a `serde_json::Value`) still validates the whole
/// body as JSON but allocates nothing for `data`, keeping the client cheap
/// when it shares the machine with the server under test.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Option<Vec<GraphQlError>>,
}

#[derive(Deserialize)]
struct GraphQlError {
    #[serde(default)]
    extensions: Option<Extensions>,
}

#[derive(Deserialize)]
struct Extensions {
    #[serde(default)]
    code: Option<String>,
}

/// Decides whether a response is a success: a 2xx status, a JSON object
/// body, and no (or an empty) `errors` array. GraphQL errors are keyed by
/// their `extensions.code`, the part of an error the router never masks.
pub fn classify(status: u16, body: &[u8]) -> Result<(), Failure> {
    let detail = || String::from_utf8_lossy(body).into_owned();
    if !(200..300).contains(&status) {
        return Err(Failure { kind: format!("http_{status}"), detail: detail() });
    }
    let envelope: Envelope = serde_json::from_slice(body).map_err(|_| Failure { kind: "invalid_json".to_owned(), detail: detail() })?;
    match envelope.errors.as_deref() {
        None | Some([]) => Ok(()),
        Some([first, ..]) => {
            let code = first.extensions.as_ref().and_then(|e| e.code.as_deref()).unwrap_or("NO_CODE");
            Err(Failure { kind: format!("graphql:{code}"), detail: detail() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(status: u16, body: &str) -> Option<String> {
        classify(status, body.as_bytes()).err().map(|f| f.kind)
    }

    #[test]
    fn data_without_errors_is_a_success() {
        assert_eq!(kind(200, r#"{"data":{"me":null}}"#), None);
        assert_eq!(kind(200, r#"{"data":{},"errors":[]}"#), None);
    }

    #[test]
    fn non_2xx_status_is_an_error_whatever_the_body() {
        assert_eq!(kind(500, r#"{"data":{}}"#).as_deref(), Some("http_500"));
        assert_eq!(kind(404, "not found").as_deref(), Some("http_404"));
    }

    #[test]
    fn a_body_that_is_not_a_json_object_is_an_error() {
        assert_eq!(kind(200, "<html>").as_deref(), Some("invalid_json"));
        assert_eq!(kind(200, "[1,2]").as_deref(), Some("invalid_json"));
        assert_eq!(kind(200, "").as_deref(), Some("invalid_json"));
    }

    #[test]
    fn graphql_errors_are_keyed_by_their_code() {
        let body = r#"{"data":null,"errors":[{"message":"x","extensions":{"code":"UNAUTHENTICATED"}}]}"#;
        assert_eq!(kind(200, body).as_deref(), Some("graphql:UNAUTHENTICATED"));
        assert_eq!(kind(200, r#"{"errors":[{"message":"x"}]}"#).as_deref(), Some("graphql:NO_CODE"));
    }

    #[test]
    fn body_omits_absent_variables_and_operation_name() {
        let body = graphql_body("{ me { id } }", None, None);
        assert_eq!(body, serde_json::json!({"query": "{ me { id } }"}));
        let vars = serde_json::json!({"a": 1});
        let body = graphql_body("q", Some(&vars), Some("Me"));
        assert_eq!(body, serde_json::json!({"query": "q", "variables": {"a": 1}, "operationName": "Me"}));
    }
}
