//! The admin surface of the dead letters, shared by the subgraphs that own consumers: GraphQL
//! types and the two operations their thin resolvers call (`<subgraph>DeadLetters` and
//! `redrive<Subgraph>DeadLetters`). Admin only: `UNAUTHENTICATED` without a token, `FORBIDDEN`
//! for a user. Each subgraph passes the consumers it owns, and sees and re-drives only theirs.

use super::dead_letters::{self, DeadLetters, Redrive};
use crate::auth::viewer;
use crate::error::{CodedError, ErrorCode, to_graphql_error};
use async_graphql::{Context, ID, SimpleObject};
use chrono::{DateTime, Utc};

/// A message a consumer set aside because it can never be applied.
#[derive(SimpleObject)]
#[graphql(name = "DeadLetter", shareable)]
pub struct DeadLetterObject {
    /// Its id (its place in the dead-letter stream): what `redrive…DeadLetters` takes.
    pub id: ID,
    /// The consumer that set it aside.
    pub consumer: String,
    /// The stream it came from.
    pub stream: String,
    /// The subject it was published on, and is re-driven to.
    pub subject: String,
    /// Its sequence in the original stream.
    pub stream_sequence: i64,
    /// Deliveries before it was set aside.
    pub deliveries: i64,
    /// Why it can never be applied.
    pub reason: String,
    /// When it was set aside.
    pub dead_at: DateTime<Utc>,
    /// The payload as text.
    pub payload: String,
}

/// One dead letter and its cursor.
#[derive(SimpleObject)]
#[graphql(shareable)]
pub struct DeadLetterEdge {
    /// Pass as `after` to read the dead letters after this one.
    pub cursor: String,
    /// The dead letter.
    pub node: DeadLetterObject,
}

/// A page of dead letters, oldest first.
#[derive(SimpleObject)]
#[graphql(shareable)]
pub struct DeadLetterConnection {
    /// The dead letters of this page.
    pub edges: Vec<DeadLetterEdge>,
    /// Whether more follow `endCursor`.
    pub has_next_page: bool,
    /// The cursor of the last edge.
    pub end_cursor: Option<String>,
}

/// What re-driving one id did.
#[derive(SimpleObject)]
#[graphql(shareable)]
pub struct RedriveOutcome {
    /// The dead letter's id.
    pub id: ID,
    /// Published to its original subject again (and removed from the dead letters); `false`
    /// when there is no such dead letter of this subgraph's consumers.
    pub redriven: bool,
    /// The subject it went to.
    pub subject: Option<String>,
}

/// Errors of the dead-letter operations.
#[derive(Debug, thiserror::Error)]
enum AdminError {
    #[error("{0}")]
    BadInput(String),
    #[error("dead letters unavailable")]
    Nats(#[source] anyhow::Error),
}

impl CodedError for AdminError {
    fn code(&self) -> ErrorCode {
        match self {
            AdminError::BadInput(_) => ErrorCode::BadUserInput,
            AdminError::Nats(_) => ErrorCode::Internal,
        }
    }
}

fn dead_letters<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a DeadLetters> {
    ctx.data::<DeadLetters>()
}

/// Lists the dead letters of `consumer` (one of `owned`), `first` (1–100, default 20) after
/// the cursor `after`. Admin only.
pub async fn list(
    ctx: &Context<'_>,
    owned: &[&str],
    consumer: String,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<DeadLetterConnection> {
    viewer(ctx).require_admin().map_err(|e| to_graphql_error(&e))?;
    if !owned.contains(&consumer.as_str()) {
        return Err(to_graphql_error(&AdminError::BadInput(format!(
            "Unknown consumer {consumer:?}; this subgraph has {}.",
            owned.join(", ")
        ))));
    }
    let first = first.unwrap_or(20);
    let Some(first) = usize::try_from(first).ok().filter(|n| (1..=dead_letters::MAX_PAGE).contains(n)) else {
        return Err(to_graphql_error(&AdminError::BadInput(format!("`first` must be between 1 and {}.", dead_letters::MAX_PAGE))));
    };
    let after = match after {
        Some(cursor) => Some(parse_id(&cursor)?),
        None => None,
    };
    let (letters, has_next_page) =
        dead_letters(ctx)?.list(Some(&consumer), first, after).await.map_err(|e| to_graphql_error(&AdminError::Nats(e)))?;
    let edges: Vec<DeadLetterEdge> = letters
        .into_iter()
        .map(|letter| DeadLetterEdge {
            cursor: letter.id.to_string(),
            node: DeadLetterObject {
                id: ID(letter.id.to_string()),
                consumer: letter.consumer,
                stream: letter.stream,
                subject: letter.subject,
                stream_sequence: i64::try_from(letter.stream_sequence).unwrap_or(i64::MAX),
                deliveries: letter.deliveries,
                reason: letter.reason,
                dead_at: letter.dead_at,
                payload: letter.payload,
            },
        })
        .collect();
    let end_cursor = edges.last().map(|edge| edge.cursor.clone());
    Ok(DeadLetterConnection { edges, has_next_page, end_cursor })
}

/// Re-drives the dead letters `ids` of the consumers in `owned` (at most 100). Admin only.
pub async fn redrive(ctx: &Context<'_>, owned: &[&str], ids: Vec<ID>) -> async_graphql::Result<Vec<RedriveOutcome>> {
    viewer(ctx).require_admin().map_err(|e| to_graphql_error(&e))?;
    if ids.len() > dead_letters::MAX_PAGE {
        return Err(to_graphql_error(&AdminError::BadInput(format!("At most {} ids at once.", dead_letters::MAX_PAGE))));
    }
    let parsed: Vec<u64> = ids.iter().map(|id| parse_id(id)).collect::<async_graphql::Result<_>>()?;
    let letters = dead_letters(ctx)?;
    let mut outcomes = Vec::with_capacity(parsed.len());
    for (id, raw) in parsed.into_iter().zip(ids) {
        let outcome = letters.redrive(id, owned).await.map_err(|e| to_graphql_error(&AdminError::Nats(e)))?;
        outcomes.push(match outcome {
            Redrive::Redriven { subject } => RedriveOutcome { id: raw, redriven: true, subject: Some(subject) },
            Redrive::NotFound => RedriveOutcome { id: raw, redriven: false, subject: None },
        });
    }
    Ok(outcomes)
}

fn parse_id(raw: &str) -> async_graphql::Result<u64> {
    raw.parse::<u64>().map_err(|_| to_graphql_error(&AdminError::BadInput(format!("{raw:?} is not a dead-letter id."))))
}
