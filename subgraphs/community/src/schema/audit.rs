//! `communityAudit`: the recompute check, for admins.

use super::CodedResultExt;
use crate::domain::audit;
use crate::store::audit::Difference;
use async_graphql::{Context, Object, SimpleObject};
use platform::auth::AdminOnly;
use platform::db::Db;

/// A counter whose stored value differs from its recomputed one.
#[derive(SimpleObject)]
pub struct CounterDifference {
    /// What it belongs to (a user id…).
    subject: String,
    /// Which counter.
    counter: String,
    /// The stored value.
    stored: i64,
    /// The value recomputed from the content tables.
    actual: i64,
}

impl From<Difference> for CounterDifference {
    fn from(d: Difference) -> Self {
        CounterDifference { subject: d.subject, counter: d.counter, stored: d.stored, actual: d.actual }
    }
}

/// Audit query.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Recomputes every community counter from the tables it counts and lists each difference
    /// (empty when all agree). Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn community_audit(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CounterDifference>> {
        let differences = audit::differences(ctx.data::<Db>()?).await.coded()?;
        Ok(differences.into_iter().map(Into::into).collect())
    }
}
