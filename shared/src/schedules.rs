//! Cron schedules: parsing (standard five-field expressions, or six/seven with seconds and
//! years), time zones, and the fire times that follow a moment ([`CronSchedule`]); an
//! account's saved schedules and the queries the scheduler fires them with ([`owned`]); the
//! schedules an integration brings ([`builtin`]).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// A parsed schedule; errors name the field (`cron` or `timezone`) and say why.
#[derive(Clone, Debug)]
pub struct CronSchedule {
    schedule: cron::Schedule,
    timezone: Tz,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ScheduleError {
    pub field: &'static str,
    pub reason: String,
}

impl CronSchedule {
    pub fn parse(expression: &str, timezone: &str) -> Result<Self, ScheduleError> {
        let fields = expression.split_whitespace().count();
        let normalised = match fields {
            // Standard cron has no seconds field: fire at second 0.
            5 => format!("0 {}", expression.trim()),
            6 | 7 => expression.trim().to_owned(),
            _ => {
                return Err(ScheduleError {
                    field: "cron",
                    reason: format!(
                        "expected 5 fields (minute hour day month weekday), or 6-7 with seconds first and an optional year; got {fields}"
                    ),
                });
            }
        };
        let schedule = cron::Schedule::from_str(&normalised)
            .map_err(|error| ScheduleError { field: "cron", reason: error.to_string() })?;
        let timezone = Tz::from_str(timezone.trim()).map_err(|_| ScheduleError {
            field: "timezone",
            reason: format!("`{timezone}` is not an IANA time zone (e.g. UTC, Europe/Paris)"),
        })?;
        let parsed = Self { schedule, timezone };
        if parsed.next_after(Utc::now()).is_none() {
            return Err(ScheduleError { field: "cron", reason: "the expression never fires again".into() });
        }
        Ok(parsed)
    }

    /// The first fire time strictly after `moment`.
    pub fn next_after(&self, moment: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.after(&moment.with_timezone(&self.timezone)).next().map(|at| at.with_timezone(&Utc))
    }

    /// The next `count` fire times after `moment`.
    pub fn upcoming(&self, moment: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        self.schedule
            .after(&moment.with_timezone(&self.timezone))
            .take(count)
            .map(|at| at.with_timezone(&Utc))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn accepts_five_six_and_seven_fields_in_a_time_zone() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 10, 7, 30).single().expect("valid");
        let every_quarter = CronSchedule::parse("*/15 * * * *", "UTC").expect("5 fields");
        assert_eq!(every_quarter.next_after(at), Utc.with_ymd_and_hms(2026, 1, 1, 10, 15, 0).single());
        let every_ten_seconds = CronSchedule::parse("*/10 * * * * *", "UTC").expect("6 fields");
        assert_eq!(every_ten_seconds.next_after(at), Utc.with_ymd_and_hms(2026, 1, 1, 10, 7, 40).single());
        // 09:00 in Paris is 08:00 UTC in winter.
        let paris = CronSchedule::parse("0 0 9 * * * *", "Europe/Paris").expect("7 fields");
        assert_eq!(paris.next_after(at), Utc.with_ymd_and_hms(2026, 1, 2, 8, 0, 0).single());
        assert_eq!(paris.upcoming(at, 5).len(), 5);
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(CronSchedule::parse("* * *", "UTC").expect_err("too short").field, "cron");
        assert_eq!(CronSchedule::parse("61 * * * *", "UTC").expect_err("bad minute").field, "cron");
        assert_eq!(CronSchedule::parse("* * * * *", "Mars/Olympus").expect_err("bad zone").field, "timezone");
        assert!(CronSchedule::parse("0 0 0 1 1 * 2001", "UTC").is_err(), "only in the past");
    }
}

/// An account's schedules on the tenant CRUD kit, and the scheduler's side: the due rows,
/// claimed so that each slot fires once, and the fire times that follow.
pub mod owned {
    use chrono::{DateTime, Utc};
    use diesel::{pg::Pg, prelude::*};
    use serde_json::Value;

    use crate::{
        Result,
        db::{
            models::Schedule,
            schema::{schedule_fires, schedules},
        },
        owned_table,
        tenant::ListFilter,
    };

    /// Every writable column: what a create inserts and what an update sets (a disabled
    /// schedule has no next fire time, hence `None` is written as null).
    #[derive(Debug, Clone, Insertable, AsChangeset)]
    #[diesel(table_name = schedules, treat_none_as_null = true)]
    pub struct ScheduleFields {
        pub name: String,
        pub cron: String,
        pub timezone: String,
        pub kind: String,
        pub payload: Value,
        pub enabled: bool,
        pub next_fire_at: Option<DateTime<Utc>>,
    }

    impl Default for ScheduleFields {
        fn default() -> Self {
            ScheduleFields {
                name: String::new(),
                cron: String::new(),
                timezone: "UTC".to_owned(),
                kind: String::new(),
                payload: Value::Object(Default::default()),
                enabled: true,
                next_fire_at: None,
            }
        }
    }

    impl From<Schedule> for ScheduleFields {
        fn from(schedule: Schedule) -> Self {
            ScheduleFields {
                name: schedule.name,
                cron: schedule.cron,
                timezone: schedule.timezone,
                kind: schedule.kind,
                payload: schedule.payload,
                enabled: schedule.enabled,
                next_fire_at: schedule.next_fire_at,
            }
        }
    }

    /// A new schedule: its fields and who made it.
    #[derive(Debug, Insertable)]
    #[diesel(table_name = schedules)]
    pub struct NewSchedule {
        #[diesel(embed)]
        pub fields: ScheduleFields,
        pub created_by: Option<i64>,
    }

    /// A list of the account's schedules, by id.
    #[derive(Debug, Default)]
    pub struct ScheduleFilter {
        pub enabled: Option<bool>,
        pub kind: Option<String>,
        /// An ILIKE pattern on the name ([`crate::tenant::contains`]).
        pub name_pattern: Option<String>,
    }

    type Query = schedules::BoxedQuery<'static, Pg>;

    impl ListFilter<Query> for ScheduleFilter {
        fn narrow(&self, mut query: Query) -> Query {
            if let Some(enabled) = self.enabled {
                query = query.filter(schedules::enabled.eq(enabled));
            }
            if let Some(kind) = &self.kind {
                query = query.filter(schedules::kind.eq(kind.clone()));
            }
            if let Some(pattern) = &self.name_pattern {
                query = query.filter(schedules::name.ilike(pattern.clone()));
            }
            query
        }

        fn order(&self, query: Query) -> Query {
            query.order(schedules::id)
        }
    }

    owned_table! {
        Schedule { table: schedules, what: "schedule", insert: NewSchedule, update: ScheduleFields, filter: ScheduleFilter }
    }

    /// Up to `limit` enabled schedules due at `now`, locked; another scheduler's locked rows
    /// are skipped, not waited for. Call in the transaction that fires them.
    pub fn lock_due(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> Result<Vec<Schedule>> {
        Ok(schedules::table
            .filter(schedules::enabled.eq(true))
            .filter(schedules::next_fire_at.le(now))
            .order(schedules::next_fire_at)
            .limit(limit)
            .for_update()
            .skip_locked()
            .select(Schedule::as_select())
            .load(conn)?)
    }

    /// Claims the slot `fire_at` of a schedule: true for the one caller that may fire it.
    pub fn claim_slot(conn: &mut PgConnection, schedule_id: i64, fire_at: DateTime<Utc>) -> Result<bool> {
        Ok(diesel::insert_into(schedule_fires::table)
            .values((schedule_fires::schedule_id.eq(schedule_id), schedule_fires::fire_at.eq(fire_at)))
            .on_conflict_do_nothing()
            .execute(conn)?
            == 1)
    }

    /// Records the task a claimed slot enqueued.
    pub fn record_task(
        conn: &mut PgConnection,
        schedule_id: i64,
        fire_at: DateTime<Utc>,
        task_id: uuid::Uuid,
    ) -> Result<()> {
        diesel::update(schedule_fires::table.find((schedule_id, fire_at)))
            .set(schedule_fires::task_id.eq(task_id))
            .execute(conn)?;
        Ok(())
    }

    /// Stamps the slot fired and sets the next one; a schedule with no next slot is disabled.
    pub fn advance(
        conn: &mut PgConnection,
        schedule_id: i64,
        fired_at: DateTime<Utc>,
        next: Option<DateTime<Utc>>,
    ) -> Result<()> {
        diesel::update(schedules::table.find(schedule_id))
            .set((
                schedules::last_fire_at.eq(fired_at),
                schedules::next_fire_at.eq(next),
                schedules::enabled.eq(next.is_some()),
                schedules::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// The built-in schedules an integration brings, kept in step with it.
pub mod builtin {
    use diesel::prelude::*;
    use serde_json::json;

    use super::CronSchedule;
    use crate::{Result, db::schema::schedules};

    /// Odoo sync every 15 minutes for an account with an active Odoo connection.
    pub const ODOO_SYNC_NAME: &str = "Odoo sync (built-in)";
    pub const ODOO_SYNC_CRON: &str = "0 */15 * * * *";

    /// Social insights every day at 03:00 UTC for an account with connected social accounts.
    pub const SOCIAL_INSIGHTS_NAME: &str = "Social insights (built-in)";
    pub const SOCIAL_INSIGHTS_CRON: &str = "0 0 3 * * *";

    /// Creates the account's built-in Odoo sync schedule, or switches it on or off with the
    /// connection. Call it in the transaction that saves the connection.
    pub fn keep_odoo_sync(conn: &mut PgConnection, account_id: i64, connected: bool) -> Result<()> {
        keep(
            conn,
            account_id,
            ODOO_SYNC_NAME,
            ODOO_SYNC_CRON,
            <crate::tasks::OdooSync as crate::tasks::TaskKind>::NAME,
            connected,
        )
    }

    /// The daily insights pull, on while the account has a connected social account.
    pub fn keep_social_insights(conn: &mut PgConnection, account_id: i64, connected: bool) -> Result<()> {
        keep(
            conn,
            account_id,
            SOCIAL_INSIGHTS_NAME,
            SOCIAL_INSIGHTS_CRON,
            <crate::tasks::PullInsights as crate::tasks::TaskKind>::NAME,
            connected,
        )
    }

    /// Creates the named schedule when `enabled` and missing, else switches it on or off.
    fn keep(
        conn: &mut PgConnection,
        account_id: i64,
        name: &str,
        cron: &str,
        kind: &str,
        enabled: bool,
    ) -> Result<()> {
        let next = CronSchedule::parse(cron, "UTC")
            .ok()
            .and_then(|schedule| schedule.next_after(chrono::Utc::now()))
            .filter(|_| enabled);
        let existing: Option<i64> = schedules::table
            .filter(schedules::account_id.eq(account_id))
            .filter(schedules::name.eq(name))
            .select(schedules::id)
            .first(conn)
            .optional()?;
        match existing {
            Some(id) => {
                diesel::update(schedules::table.find(id))
                    .set((
                        schedules::enabled.eq(enabled),
                        schedules::next_fire_at.eq(next),
                        schedules::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)?;
            }
            None if enabled => {
                diesel::insert_into(schedules::table)
                    .values((
                        schedules::account_id.eq(account_id),
                        schedules::name.eq(name),
                        schedules::cron.eq(cron),
                        schedules::timezone.eq("UTC"),
                        schedules::kind.eq(kind),
                        schedules::payload.eq(json!({})),
                        schedules::enabled.eq(true),
                        schedules::next_fire_at.eq(next),
                    ))
                    .execute(conn)?;
            }
            None => {}
        }
        Ok(())
    }
}
