//! Password guessing, per target email. A run of failures locks the email for a doubling
//! time; while it is locked every try is refused before the password is checked, so a correct
//! password after 90 failures waits like a wrong one. Unknown emails are throttled exactly
//! like known ones: the answers do not tell which exist. (The API adds a per-email request
//! budget on top.)

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{Integer, Text, Timestamptz},
};
use serde::Serialize;

use crate::{Result, db::schema::login_throttles};

/// Failures in a row before the email is locked at all.
const FREE_FAILURES: i32 = 4;
/// The longest lock: 15 minutes.
const MAX_LOCK_SECS: i64 = 15 * 60;
/// Every this many failures in a row, the operators' log hears of it.
const WARN_EVERY: i32 = 10;

/// What failed since the user's last sign-in, told to them when they sign in.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct FailedSignIns {
    /// Failed attempts on this email since the last successful sign-in.
    pub count: i32,
    pub last_failed_at: Option<DateTime<Utc>>,
}

/// Seconds `email` stays locked at `now` (the state's clock), if it is.
pub fn locked_for(conn: &mut PgConnection, email: &str, now: DateTime<Utc>) -> Result<Option<u64>> {
    let until: Option<Option<DateTime<Utc>>> =
        login_throttles::table.find(email).select(login_throttles::locked_until).first(conn).optional()?;
    let seconds = until.flatten().map(|until| (until - now).num_seconds());
    Ok(seconds.filter(|&left| left > 0).map(|left| left.unsigned_abs()))
}

#[derive(QueryableByName)]
struct Failures {
    #[diesel(sql_type = Integer)]
    failures: i32,
}

/// Counts a failed try of `email` at `now` (the state's clock) and locks it when the run is
/// long enough. A run whose last failure is a day old starts over.
pub fn record_failure(conn: &mut PgConnection, email: &str, now: DateTime<Utc>) -> Result<i32> {
    let Failures { failures } = diesel::sql_query(
        "INSERT INTO login_throttles AS t (email, failures, first_failed_at, last_failed_at) \
         VALUES ($1, 1, $2, $2) \
         ON CONFLICT (email) DO UPDATE SET \
             failures = CASE WHEN t.last_failed_at < $2 - interval '1 day' THEN 1 ELSE t.failures + 1 END, \
             first_failed_at = CASE WHEN t.last_failed_at < $2 - interval '1 day' \
                                    THEN $2 ELSE t.first_failed_at END, \
             last_failed_at = $2 \
         RETURNING failures",
    )
    .bind::<Text, _>(email)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)?;
    if let Some(seconds) = lock_seconds(failures) {
        let until = now + chrono::Duration::seconds(seconds);
        diesel::update(login_throttles::table.find(email))
            .set(login_throttles::locked_until.eq(Some(until)))
            .execute(conn)?;
    }
    if failures % WARN_EVERY == 0 {
        tracing::warn!(email, failures, "repeated failed sign-ins on one email");
    }
    Ok(failures)
}

/// Ends `email`'s run of failures after a successful sign-in, returning what it was.
pub fn clear(conn: &mut PgConnection, email: &str) -> Result<FailedSignIns> {
    let run: Option<(i32, DateTime<Utc>)> = diesel::delete(login_throttles::table.find(email))
        .returning((login_throttles::failures, login_throttles::last_failed_at))
        .get_result(conn)
        .optional()?;
    Ok(run.map_or_else(FailedSignIns::default, |(count, last)| FailedSignIns {
        count,
        last_failed_at: Some(last),
    }))
}

/// The lock after the `failures`-th failure in a row: 1 s, 2 s, 4 s… up to 15 minutes.
fn lock_seconds(failures: i32) -> Option<i64> {
    let beyond = failures - FREE_FAILURES;
    (beyond > 0).then(|| (1_i64 << (beyond - 1).min(30)).min(MAX_LOCK_SECS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_doubles_after_the_free_failures_up_to_its_cap() {
        let locks: Vec<Option<i64>> = (1..=8).map(lock_seconds).collect();
        assert_eq!(locks, [None, None, None, None, Some(1), Some(2), Some(4), Some(8)]);
        assert_eq!(lock_seconds(14), Some(512));
        assert_eq!(lock_seconds(15), Some(MAX_LOCK_SECS));
        assert_eq!(lock_seconds(90), Some(MAX_LOCK_SECS));
        assert_eq!(lock_seconds(i32::MAX), Some(MAX_LOCK_SECS));
    }
}
