//! `reportPost`, `reportPostComment`, the admin report queue (`reports`) and `resolveReport`.

use super::user::User;
use super::{CodedResultExt, parse_id};
use crate::domain::CommunityError;
use crate::domain::paging::{decode_position, encode_position, page_size};
use crate::domain::reports::{Reports, Resolution};
use crate::store::likes::Target;
use crate::store::reports::{Report, ReportReason};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::auth::{AdminOnly, SignedIn, viewer};

/// How a report was (or is to be) resolved.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ReportAction {
    /// Nothing wrong.
    Dismiss,
    /// The item is removed.
    Remove,
    /// The item is removed and its author muted (`muteUntil`).
    RemoveAndMute,
    /// The item is removed and its author banned.
    RemoveAndBan,
}

/// One reporter's reason.
#[derive(SimpleObject)]
pub struct ReportReasonObject {
    /// Who reported.
    reporter: User,
    /// Why.
    reason: String,
    /// When.
    reported_at: DateTime<Utc>,
}

/// A queue entry: every report of one item while it is open.
#[derive(SimpleObject)]
pub struct ReportEntry {
    /// Id.
    id: ID,
    /// `post` or `comment`.
    target_kind: String,
    /// The reported item.
    target_id: ID,
    /// Its author.
    target_author: User,
    /// Its text when it was first reported (a later edit does not change it).
    excerpt: String,
    /// How many users reported it.
    report_count: i32,
    /// Their reasons (the first 20).
    reasons: Vec<ReportReasonObject>,
    /// First report.
    first_reported_at: DateTime<Utc>,
    /// Latest report.
    last_reported_at: DateTime<Utc>,
    /// Open (`false`) or resolved.
    resolved: bool,
    /// Who resolved it.
    resolved_by: Option<User>,
    /// When.
    resolved_at: Option<DateTime<Utc>>,
    /// How: `dismiss`, `remove`, `remove_and_mute`, `remove_and_ban`.
    resolution: Option<String>,
    /// The resolving admin's note.
    resolution_note: Option<String>,
}

fn entry(report: Report, reasons: &[ReportReason]) -> ReportEntry {
    ReportEntry {
        id: ID(report.id.to_string()),
        target_kind: report.target_kind,
        target_id: ID(report.target_id.to_string()),
        target_author: User { id: report.target_author },
        excerpt: report.excerpt,
        report_count: report.report_count,
        reasons: reasons
            .iter()
            .filter(|r| r.report_id == report.id)
            .map(|r| ReportReasonObject { reporter: User { id: r.reporter_id }, reason: r.reason.clone(), reported_at: r.created_at })
            .collect(),
        first_reported_at: report.first_reported_at,
        last_reported_at: report.last_reported_at,
        resolved: report.status == "resolved",
        resolved_by: report.resolved_by.map(|id| User { id }),
        resolved_at: report.resolved_at,
        resolution: report.resolution,
        resolution_note: report.resolution_note,
    }
}

async fn with_reasons(ctx: &Context<'_>, report: Report) -> async_graphql::Result<ReportEntry> {
    let reasons = ctx.data::<Reports>()?.reasons(&[report.id]).await.coded()?;
    Ok(entry(report, &reasons))
}

/// The report queue (admins).
#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// Report entries, open ones unless `resolved`, latest report first. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn reports(
        &self,
        ctx: &Context<'_>,
        resolved: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, ReportEntry>> {
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let service = ctx.data::<Reports>()?;
        let mut rows = service.list(!resolved.unwrap_or(false), after, limit + 1).await.coded()?;
        let has_next = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
        let reasons = service.reasons(&ids).await.coded()?;
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|report| {
            let cursor = encode_position((report.last_reported_at.timestamp_micros(), report.id));
            Edge::new(cursor, entry(report, &reasons))
        }));
        Ok(connection)
    }
}

/// Reporting and resolving.
#[derive(Default)]
pub struct ReportMutation;

#[Object]
impl ReportMutation {
    /// Reports a post with a reason (once per user; not one's own).
    #[graphql(guard = "SignedIn")]
    async fn report_post(&self, ctx: &Context<'_>, id: ID, reason: String) -> async_graphql::Result<bool> {
        let reporter = viewer(ctx).require_user().coded()?;
        ctx.data::<Reports>()?.report(reporter, Target::Post(parse_id(&id, "id")?), &reason).await.coded()?;
        Ok(true)
    }

    /// Reports a comment with a reason (once per user; not one's own).
    #[graphql(guard = "SignedIn")]
    async fn report_post_comment(&self, ctx: &Context<'_>, id: ID, reason: String) -> async_graphql::Result<bool> {
        let reporter = viewer(ctx).require_user().coded()?;
        ctx.data::<Reports>()?.report(reporter, Target::Comment(parse_id(&id, "id")?), &reason).await.coded()?;
        Ok(true)
    }

    /// Resolves an open report entry: dismiss it, or remove the item (a `note` is required)
    /// and optionally mute (`muteUntil`) or ban its author. `CONFLICT` when it is resolved
    /// already. Admin only; logged.
    #[graphql(guard = "AdminOnly")]
    async fn resolve_report(
        &self,
        ctx: &Context<'_>,
        id: ID,
        action: ReportAction,
        note: Option<String>,
        mute_until: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<ReportEntry> {
        let admin = viewer(ctx).require_admin().coded()?;
        let resolution = match (action, mute_until) {
            (ReportAction::Dismiss, None) => Resolution::Dismiss,
            (ReportAction::Remove, None) => Resolution::Remove,
            (ReportAction::RemoveAndMute, Some(until)) => Resolution::RemoveAndMute(until),
            (ReportAction::RemoveAndBan, None) => Resolution::RemoveAndBan,
            _ => return Err(CommunityError::invalid("`muteUntil` goes with REMOVE_AND_MUTE, and only with it.")).coded(),
        };
        let report = ctx.data::<Reports>()?.resolve(admin, parse_id(&id, "id")?, resolution, note.as_deref()).await.coded()?;
        with_reasons(ctx, report).await
    }
}
