//! The PK link-mic state machine (rules only, no I/O).
//!
//! ```text
//!            accept (pk)            score deadline, scores differ      punishment deadline
//! invited ───────────────▶ scoring ───────────────────────────▶ punishment ──────────▶ ended
//!    │  │  accept (link)               │ score deadline, equal scores (draw)             ▲
//!    │  └────────────────▶ linked ─────┼──────────── a streamer ends the link ───────────┘
//!    ├── reject ─▶ rejected            └───────────────────────────────────────────────▶ ended
//!    └── 15 s without an answer ─▶ expired
//! any state that has not finished ── admin closes, or a room stops ──▶ closed
//! ```
//!
//! Plain link-mic (`link`) is the same machine without the score and punishment phases.

use chrono::{DateTime, Duration, Utc};

/// A link's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PkState {
    /// Waiting for the invitee's answer.
    Invited,
    /// PK in progress: gifts score.
    Scoring,
    /// The loser's punishment.
    Punishment,
    /// Plain link-mic in progress.
    Linked,
    /// Finished normally.
    Ended,
    /// The invitee said no.
    Rejected,
    /// Nobody answered in time.
    Expired,
    /// Closed by an admin, or because a room stopped.
    Closed,
}

impl PkState {
    /// Every state.
    pub const ALL: [PkState; 8] = [
        PkState::Invited,
        PkState::Scoring,
        PkState::Punishment,
        PkState::Linked,
        PkState::Ended,
        PkState::Rejected,
        PkState::Expired,
        PkState::Closed,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PkState::Invited => "invited",
            PkState::Scoring => "scoring",
            PkState::Punishment => "punishment",
            PkState::Linked => "linked",
            PkState::Ended => "ended",
            PkState::Rejected => "rejected",
            PkState::Expired => "expired",
            PkState::Closed => "closed",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<PkState> {
        PkState::ALL.into_iter().find(|state| state.as_str() == name)
    }

    /// Whether the link is over (nothing can happen to it any more).
    pub fn is_final(self) -> bool {
        matches!(self, PkState::Ended | PkState::Rejected | PkState::Expired | PkState::Closed)
    }
}

/// PK (scored) or plain link-mic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkMode {
    /// Score phase, then punishment.
    Pk,
    /// Just linked, until a streamer ends it.
    Link,
}

impl PkMode {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PkMode::Pk => "pk",
            PkMode::Link => "link",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<PkMode> {
        match name {
            "pk" => Some(PkMode::Pk),
            "link" => Some(PkMode::Link),
            _ => None,
        }
    }
}

/// What makes a link move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkCause {
    /// The invitee accepted.
    Accept,
    /// The invitee rejected.
    Reject,
    /// The invite's deadline passed.
    InviteExpired,
    /// The score phase's deadline passed.
    ScoreEnded,
    /// The punishment's deadline passed.
    PunishmentEnded,
    /// A streamer ended a plain link.
    EndedByStreamer,
    /// An admin closed it.
    ClosedByAdmin,
    /// One of the two rooms stopped.
    RoomStopped,
}

impl PkCause {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PkCause::Accept => "accept",
            PkCause::Reject => "reject",
            PkCause::InviteExpired => "invite_expired",
            PkCause::ScoreEnded => "score_ended",
            PkCause::PunishmentEnded => "punishment_ended",
            PkCause::EndedByStreamer => "ended_by_streamer",
            PkCause::ClosedByAdmin => "closed_by_admin",
            PkCause::RoomStopped => "room_stopped",
        }
    }
}

/// A transition the machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {mode:?} link in state {state:?} cannot take {cause:?}")]
pub struct IllegalTransition {
    /// The link's mode.
    pub mode: PkMode,
    /// Its state.
    pub state: PkState,
    /// What was attempted.
    pub cause: PkCause,
}

/// The pure transition function of a link.
pub struct PkStateMachine;

impl PkStateMachine {
    /// The state after `cause`, given the scores (inviter, invitee) at that moment.
    pub fn next(mode: PkMode, state: PkState, cause: PkCause, scores: (i64, i64)) -> Result<PkState, IllegalTransition> {
        use PkCause as C;
        use PkState as S;
        let next = match (mode, state, cause) {
            (_, s, C::ClosedByAdmin | C::RoomStopped) if !s.is_final() => S::Closed,
            (PkMode::Pk, S::Invited, C::Accept) => S::Scoring,
            (PkMode::Link, S::Invited, C::Accept) => S::Linked,
            (_, S::Invited, C::Reject) => S::Rejected,
            (_, S::Invited, C::InviteExpired) => S::Expired,
            (PkMode::Pk, S::Scoring, C::ScoreEnded) if scores.0 == scores.1 => S::Ended,
            (PkMode::Pk, S::Scoring, C::ScoreEnded) => S::Punishment,
            (PkMode::Pk, S::Punishment, C::PunishmentEnded) => S::Ended,
            (PkMode::Link, S::Linked, C::EndedByStreamer) => S::Ended,
            _ => return Err(IllegalTransition { mode, state, cause }),
        };
        Ok(next)
    }
}

/// Minor units of gift value per PK point: every 0.1 unit (10 minor units) is one point.
pub const MINOR_UNITS_PER_POINT: i64 = 10;

/// The points a gift of `total_value` minor units is worth (remainders below 0.1 unit score nothing).
pub fn points(total_value: i64) -> i64 {
    total_value.max(0) / MINOR_UNITS_PER_POINT
}

/// Who won, from (inviter, invitee) scores: `Some(true)` the inviter, `Some(false)` the
/// invitee, `None` a draw.
pub fn inviter_won(scores: (i64, i64)) -> Option<bool> {
    match scores.0.cmp(&scores.1) {
        std::cmp::Ordering::Greater => Some(true),
        std::cmp::Ordering::Less => Some(false),
        std::cmp::Ordering::Equal => None,
    }
}

/// Phase lengths, fixed for a link when it is created (from configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phases {
    /// Invite answer window.
    pub invite: Duration,
    /// Score phase.
    pub score: Duration,
    /// Punishment phase.
    pub punishment: Duration,
}

impl Phases {
    /// When the score phase that starts at `started` ends.
    pub fn score_ends(&self, started: DateTime<Utc>) -> DateTime<Utc> {
        started + self.score
    }

    /// When the punishment ends: measured from the score deadline, not from when the timer
    /// happened to fire, so a late firing does not lengthen the PK.
    pub fn punishment_ends(&self, score_ended: DateTime<Utc>) -> DateTime<Utc> {
        score_ended + self.punishment
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PkCause as C;
    use PkState as S;

    const CAUSES: [PkCause; 8] =
        [C::Accept, C::Reject, C::InviteExpired, C::ScoreEnded, C::PunishmentEnded, C::EndedByStreamer, C::ClosedByAdmin, C::RoomStopped];

    #[test]
    fn a_pk_goes_invited_scoring_punishment_ended() {
        let pk = PkMode::Pk;
        assert_eq!(PkStateMachine::next(pk, S::Invited, C::Accept, (0, 0)), Ok(S::Scoring));
        assert_eq!(PkStateMachine::next(pk, S::Scoring, C::ScoreEnded, (30, 12)), Ok(S::Punishment));
        assert_eq!(PkStateMachine::next(pk, S::Punishment, C::PunishmentEnded, (30, 12)), Ok(S::Ended));
    }

    #[test]
    fn equal_scores_are_a_draw_that_ends_without_punishment() {
        assert_eq!(PkStateMachine::next(PkMode::Pk, S::Scoring, C::ScoreEnded, (7, 7)), Ok(S::Ended));
        assert_eq!(inviter_won((7, 7)), None);
        assert_eq!(inviter_won((8, 7)), Some(true));
        assert_eq!(inviter_won((0, 1)), Some(false));
    }

    #[test]
    fn a_plain_link_has_no_score_or_punishment_phase() {
        let link = PkMode::Link;
        assert_eq!(PkStateMachine::next(link, S::Invited, C::Accept, (0, 0)), Ok(S::Linked));
        assert_eq!(PkStateMachine::next(link, S::Linked, C::EndedByStreamer, (0, 0)), Ok(S::Ended));
        assert!(PkStateMachine::next(link, S::Linked, C::ScoreEnded, (0, 0)).is_err());
        assert!(PkStateMachine::next(PkMode::Pk, S::Scoring, C::EndedByStreamer, (0, 0)).is_err(), "a PK runs its course");
    }

    #[test]
    fn an_invite_is_answered_or_expires_once() {
        for mode in [PkMode::Pk, PkMode::Link] {
            assert_eq!(PkStateMachine::next(mode, S::Invited, C::Reject, (0, 0)), Ok(S::Rejected));
            assert_eq!(PkStateMachine::next(mode, S::Invited, C::InviteExpired, (0, 0)), Ok(S::Expired));
            for answered in [S::Rejected, S::Expired, S::Scoring, S::Linked] {
                assert!(PkStateMachine::next(mode, answered, C::Accept, (0, 0)).is_err(), "{answered:?} cannot be accepted");
                assert!(PkStateMachine::next(mode, answered, C::InviteExpired, (0, 0)).is_err());
            }
        }
    }

    #[test]
    fn admins_close_anything_unfinished_and_nothing_leaves_a_final_state() {
        for mode in [PkMode::Pk, PkMode::Link] {
            for state in PkState::ALL {
                for cause in CAUSES {
                    let next = PkStateMachine::next(mode, state, cause, (1, 2));
                    if state.is_final() {
                        assert!(next.is_err(), "{mode:?} {state:?} + {cause:?} must be refused");
                    }
                    if !state.is_final() && matches!(cause, C::ClosedByAdmin | C::RoomStopped) {
                        assert_eq!(next, Ok(S::Closed));
                    }
                    if let Ok(to) = next {
                        assert_ne!(to, S::Invited, "nothing goes back to invited");
                    }
                }
            }
        }
    }

    #[test]
    fn every_tenth_of_a_unit_is_a_point() {
        assert_eq!(points(10), 1);
        assert_eq!(points(19), 1);
        assert_eq!(points(9), 0);
        assert_eq!(points(52_000), 5_200);
        assert_eq!(points(-5), 0);
    }

    #[test]
    fn the_punishment_is_measured_from_the_score_deadline() {
        let phases = Phases { invite: Duration::seconds(15), score: Duration::minutes(6), punishment: Duration::minutes(2) };
        let start = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let score_end = phases.score_ends(start);
        assert_eq!(score_end - start, Duration::minutes(6));
        assert_eq!(phases.punishment_ends(score_end) - start, Duration::minutes(8));
        for state in PkState::ALL {
            assert_eq!(PkState::parse(state.as_str()), Some(state));
        }
    }
}
