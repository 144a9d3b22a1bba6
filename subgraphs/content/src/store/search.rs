//! Full-text search over published videos: the weighted `search_doc` tsvector (GIN) finds
//! whole words and, for CJK text (which has no spaces for the tsvector parser to split on),
//! every two-character string, since it also holds the bigrams of each CJK run; the trigram
//! index on `search_text` finds parts of words of three characters or more. A video matches
//! either way.
//!
//! Relevance ranks in two tiers (a title hit, then any other match), newest first within each.
//! That order lets a page be served without scoring every match: see [`relevance_ids`].

use super::schema::content::videos;
use super::videos::{STATE_PUBLISHED, Video};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Int4, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOrder {
    /// Best match first: videos whose title matches, then the other matches (in tags or
    /// description); newest first within each tier.
    Relevance,
    /// Newest first.
    Newest,
    /// Most viewed first.
    MostViewed,
}

/// How many of the newest published videos (of the region, when filtered) a walk for one tier
/// of a relevance page reads at most: 30 per row of the page (a tier in about 3 % of the
/// videos fills it), at least [`MIN_WALK`]. Past it, the walk gives way to reading the whole
/// tier.
fn walk_cap(rows: i64) -> i64 {
    (30 * rows).max(MIN_WALK)
}

/// The least a walk reads (a first page of a word in 1 % of the videos fills within it).
pub const MIN_WALK: i64 = 2000;

/// A query with fewer matches than this is ranked whole at once: it costs less than a walk
/// that would not fill the page.
pub const FEW_MATCHES: i64 = 300;

/// One page of matches for `text` (already trimmed, non-empty): `limit` rows from `offset`.
pub async fn search(
    conn: &mut AsyncPgConnection,
    text: &str,
    region_id: Option<i32>,
    order: SearchOrder,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<Video>> {
    let ids = match order {
        SearchOrder::Relevance => relevance_ids(conn, text, region_id, offset, limit).await?.ids,
        SearchOrder::Newest | SearchOrder::MostViewed => {
            let query = SearchQuery::new(text);
            let (join, order_by) = match order {
                SearchOrder::MostViewed => ("JOIN content.video_stats s ON s.video_id = v.id", "s.views DESC, v.id DESC"),
                _ => ("", "v.published_at DESC, v.id DESC"),
            };
            let in_region = if region_id.is_some() { "AND v.region_id = $3" } else { "" };
            let statement = format!(
                "SELECT v.id FROM content.videos v {join} WHERE v.state = 'published' {in_region} AND {matches} \
                 ORDER BY {order_by} OFFSET $4 LIMIT $5",
                matches = query.matches()
            );
            run(conn, &statement, &query, region_id, Bounds { offset, limit, walk: 0 }).await?
        }
    };
    load_in_order(conn, &ids).await
}

/// A query's text in the forms the statements bind.
struct SearchQuery {
    /// Lower-cased: what `websearch_to_tsquery` parses.
    lowered: String,
    /// `%text%`, wildcards escaped.
    pattern: String,
    /// The text is two CJK characters: its bigram lexeme matches exactly the texts that contain
    /// it, so the LIKE (which no index can serve at two characters) is left out.
    bigram_only: bool,
}

impl SearchQuery {
    fn new(text: &str) -> SearchQuery {
        let lowered = text.to_lowercase();
        let pattern = format!("%{}%", escape_like(&lowered));
        let bigram_only = lowered.chars().count() == 2 && lowered.chars().all(is_cjk);
        SearchQuery { lowered, pattern, bigram_only }
    }

    /// The match: a word (or CJK bigram) of the document, or a part of its text. `$1` is the
    /// lowered text, `$2` the pattern.
    fn matches(&self) -> &'static str {
        if self.bigram_only {
            "v.search_doc @@ websearch_to_tsquery('simple', $1)"
        } else {
            "(v.search_doc @@ websearch_to_tsquery('simple', $1) OR v.search_text LIKE $2)"
        }
    }

    /// [`TITLE_HIT`] in the form the title indexes serve (migration 2026-12-02-000501):
    /// `content.search_field(title, 'A')` holds exactly the lexemes `TITLE_HIT` filters for.
    fn title_hit_indexed(&self) -> &'static str {
        if self.bigram_only {
            "content.search_field(v.title, 'A') @@ websearch_to_tsquery('simple', $1)"
        } else {
            "(content.search_field(v.title, 'A') @@ websearch_to_tsquery('simple', $1) OR lower(v.title) LIKE $2)"
        }
    }
}

/// Matches what `content.cjk_bigrams` (migration 2026-12-02-000500) makes bigrams of: Han,
/// kana and Hangul.
fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{ac00}'..='\u{d7af}' | '\u{f900}'..='\u{faff}')
}

/// A title hit (a title word or bigram, or part of the title), evaluated on a row the walk
/// reads: `ts_filter` keeps the title's lexemes (weight A) of the stored document.
const TITLE_HIT: &str = "(ts_filter(v.search_doc, '{a}') @@ websearch_to_tsquery('simple', $1) OR lower(v.title) LIKE $2)";

/// Which plans served a relevance page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelevancePlan {
    /// Fewer than [`FEW_MATCHES`] matches, all ranked.
    FewMatches,
    /// Title hits among the newest videos filled the page.
    NewestTitleHits,
    /// Every title hit, found with the title indexes, filled it.
    AllTitleHits,
    /// Every title hit, then other matches among the newest videos.
    NewestOtherHits,
    /// Every title hit, then every other match.
    AllMatches,
}

/// The ids of one relevance page, and the plan that found them.
#[derive(Debug)]
pub struct RelevancePage {
    /// In rank order.
    pub ids: Vec<Uuid>,
    /// How they were found.
    pub plan: RelevancePlan,
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

/// One relevance page (title hits first, then the other matches; newest first within each),
/// read without ranking every match.
///
/// Ranking every match costs in proportion to the matches: a common word matches 4 % of a
/// million videos, and reading and sorting those 40,000 rows took 260 ms. Instead, each tier
/// is read newest first, and a tier's rows among the newest videos (up to [`walk_cap`]), read by
/// walking the publication index until the page is full, are exact: every row of the tier
/// outside them is older and ranks after them. So:
/// 0. a query with fewer than [`FEW_MATCHES`] matches is ranked whole (a walk would read its
///    whole cap for nothing);
/// 1. walk for title hits; a common title word fills the page here;
/// 2. else read every title hit (the title indexes; there are few, or the walk would have
///    filled the page, unless they are all old);
/// 3. if they end before the page does, walk for the other matches (a word common in tags or
///    descriptions fills the rest here);
/// 4. else read every other match (few, for the same reason).
pub async fn relevance_ids(
    conn: &mut AsyncPgConnection,
    text: &str,
    region_id: Option<i32>,
    offset: i64,
    limit: i64,
) -> QueryResult<RelevancePage> {
    let query = SearchQuery::new(text);
    // `$3` is bound either way; PostgreSQL takes an unused parameter whose type is given.
    let in_region = if region_id.is_some() { "AND v.region_id = $3" } else { "" };
    let bounds = Bounds { offset, limit, walk: walk_cap(offset + limit) };
    // Few matches (the GIN indexes find them): rank them all, no walk.
    let few = format!(
        "SELECT v.id FROM content.videos v WHERE v.state = 'published' {in_region} AND {matches} LIMIT $6",
        matches = query.matches()
    );
    let probe = Bounds { walk: FEW_MATCHES, ..bounds };
    if (run(conn, &few, &query, region_id, probe).await?.len() as i64) < FEW_MATCHES {
        let all = format!(
            "WITH hits AS MATERIALIZED (SELECT v.id, v.published_at, {TITLE_HIT} AS title_hit FROM content.videos v \
                WHERE v.state = 'published' {in_region} AND {matches}) \
             SELECT id FROM hits ORDER BY title_hit DESC, published_at DESC, id DESC OFFSET $4 LIMIT $5",
            matches = query.matches()
        );
        return Ok(RelevancePage { ids: run(conn, &all, &query, region_id, bounds).await?, plan: RelevancePlan::FewMatches });
    }
    let newest = format!(
        "(SELECT id, title, tags, search_doc, search_text, published_at FROM content.videos v \
          WHERE state = 'published' {in_region} ORDER BY published_at DESC, id DESC LIMIT $6) v"
    );
    let walk_titles = format!("SELECT v.id FROM {newest} WHERE {TITLE_HIT} ORDER BY v.published_at DESC, v.id DESC OFFSET $4 LIMIT $5");
    let ids = run(conn, &walk_titles, &query, region_id, bounds).await?;
    if ids.len() as i64 == limit {
        return Ok(RelevancePage { ids, plan: RelevancePlan::NewestTitleHits });
    }
    // Materialised: all title hits through their indexes, never a walk of the whole
    // publication index in search of them.
    let all_titles = format!(
        "WITH hits AS MATERIALIZED (SELECT v.id, v.published_at FROM content.videos v \
            WHERE v.state = 'published' {in_region} AND {title_hit}) \
         SELECT id FROM hits ORDER BY published_at DESC, id DESC LIMIT $4 + $5",
        title_hit = query.title_hit_indexed()
    );
    let titles = run(conn, &all_titles, &query, region_id, bounds).await?;
    let title_count = titles.len() as i64;
    let mut ids: Vec<Uuid> = titles.into_iter().skip(offset as usize).collect();
    if title_count == offset + limit {
        return Ok(RelevancePage { ids, plan: RelevancePlan::AllTitleHits });
    }
    // The rest of the page: other matches from `offset - title_count` on.
    let (rest_offset, rest_limit) = ((offset - title_count).max(0), limit - ids.len() as i64);
    let rest_bounds = Bounds { offset: rest_offset, limit: rest_limit, walk: walk_cap(rest_offset + rest_limit) };
    let other = format!("{matches} AND NOT {TITLE_HIT}", matches = query.matches());
    let walk_others = format!("SELECT v.id FROM {newest} WHERE {other} ORDER BY v.published_at DESC, v.id DESC OFFSET $4 LIMIT $5");
    let rest = run(conn, &walk_others, &query, region_id, rest_bounds).await?;
    if rest.len() as i64 == rest_limit {
        ids.extend(rest);
        return Ok(RelevancePage { ids, plan: RelevancePlan::NewestOtherHits });
    }
    let all_others = format!(
        "WITH hits AS MATERIALIZED (SELECT v.id, v.published_at FROM content.videos v \
            WHERE v.state = 'published' {in_region} AND {other}) \
         SELECT id FROM hits ORDER BY published_at DESC, id DESC OFFSET $4 LIMIT $5"
    );
    ids.extend(run(conn, &all_others, &query, region_id, rest_bounds).await?);
    Ok(RelevancePage { ids, plan: RelevancePlan::AllMatches })
}

/// A statement's `$4` offset, `$5` limit and `$6` row cap.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    offset: i64,
    limit: i64,
    walk: i64,
}

/// Runs a search statement for the ids of a page (`$1` lowered text, `$2` pattern, `$3`
/// region, `$4` offset, `$5` limit, `$6` the walk's cap; each uses those it needs).
async fn run(
    conn: &mut AsyncPgConnection,
    statement: &str,
    query: &SearchQuery,
    region_id: Option<i32>,
    bounds: Bounds,
) -> QueryResult<Vec<Uuid>> {
    let hits: Vec<Hit> = diesel::sql_query(statement)
        .bind::<Text, _>(&query.lowered)
        .bind::<Text, _>(&query.pattern)
        .bind::<Nullable<Int4>, _>(region_id)
        .bind::<BigInt, _>(bounds.offset)
        .bind::<BigInt, _>(bounds.limit)
        .bind::<BigInt, _>(bounds.walk)
        .load(conn)
        .await?;
    Ok(hits.into_iter().map(|hit| hit.id).collect())
}

/// The published videos of `ids`, in that order (one removed since is left out).
async fn load_in_order(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Video>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<Video> = videos::table
        .filter(videos::id.eq_any(ids))
        .filter(videos::state.eq(STATE_PUBLISHED))
        .select(Video::as_select())
        .load(conn)
        .await?;
    rows.sort_by_key(|video| ids.iter().position(|id| *id == video.id));
    Ok(rows)
}

/// Makes `%`, `_` and `\` in user text match themselves in a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_in_user_text_are_escaped() {
        assert_eq!(super::escape_like("100%_a\\b"), "100\\%\\_a\\\\b");
    }

    #[test]
    fn only_two_cjk_characters_drop_the_like() {
        assert!(super::SearchQuery::new("原神").bigram_only);
        assert!(super::SearchQuery::new("ラー").bigram_only);
        assert!(!super::SearchQuery::new("红烧肉").bigram_only, "three characters: the trigram index serves the LIKE");
        assert!(!super::SearchQuery::new("原a").bigram_only);
        assert!(!super::SearchQuery::new("rs").bigram_only);
    }
}
