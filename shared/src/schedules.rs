//! Cron schedules: parsing (standard five-field expressions, or six/seven with seconds and
//! years), time zones, and the fire times that follow a moment ([`CronSchedule`]); an
//! account's saved schedules and the queries the scheduler fires them with ([`owned`]); the
//! schedules an integration brings ([`builtin`]).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

mod posix;

pub use posix::PosixCron;

/// A parsed schedule; errors name the field (`cron` or `timezone`) and say why.
///
/// Five fields (or a macro such as `@daily`) are crontab(5) ([`PosixCron`]: 0 and 7 are
/// Sunday, the day-of-month/day-of-week OR rule, Vixie cron's handling of DST changes). Six or
/// seven fields are the seconds form (`sec min hour dom month dow [year]`), read by the `cron`
/// crate with its Quartz day numbers (1 = Sunday).
#[derive(Clone, Debug)]
pub struct CronSchedule {
    rule: Rule,
    timezone: Tz,
}

#[derive(Clone, Debug)]
enum Rule {
    Crontab(PosixCron),
    Seconds(Box<cron::Schedule>),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ScheduleError {
    pub field: &'static str,
    pub reason: String,
}

impl CronSchedule {
    pub fn parse(expression: &str, timezone: &str) -> Result<Self, ScheduleError> {
        let refused = |reason: String| ScheduleError { field: "cron", reason };
        let fields = expression.split_whitespace().count();
        let rule = match fields {
            _ if expression.trim_start().starts_with('@') => {
                Rule::Crontab(PosixCron::parse(expression).map_err(refused)?)
            }
            5 => Rule::Crontab(PosixCron::parse(expression).map_err(refused)?),
            6 | 7 => Rule::Seconds(Box::new(
                cron::Schedule::from_str(expression.trim()).map_err(|error| refused(error.to_string()))?,
            )),
            _ => {
                return Err(refused(format!(
                    "expected 5 fields (minute hour day month weekday), or 6-7 with seconds first and an optional year; got {fields}"
                )));
            }
        };
        let timezone = Tz::from_str(timezone.trim()).map_err(|_| ScheduleError {
            field: "timezone",
            reason: format!("`{timezone}` is not an IANA time zone (e.g. UTC, Europe/Paris)"),
        })?;
        let parsed = Self { rule, timezone };
        if parsed.next_after(Utc::now()).is_none() {
            return Err(refused("the expression never fires again".into()));
        }
        Ok(parsed)
    }

    /// The first fire time strictly after `moment`.
    pub fn next_after(&self, moment: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.rule {
            Rule::Crontab(crontab) => crontab.next_after(moment, self.timezone),
            Rule::Seconds(schedule) => {
                schedule.after(&moment.with_timezone(&self.timezone)).next().map(|at| at.with_timezone(&Utc))
            }
        }
    }

    /// The next `count` fire times after `moment`.
    pub fn upcoming(&self, moment: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        std::iter::successors(self.next_after(moment), |at| self.next_after(*at)).take(count).collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, TimeZone, Timelike};

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

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("a time")
    }

    /// The weekdays (0 = Sunday) of the next `count` fires after Monday 2026-01-05 00:00 UTC.
    fn weekdays(expression: &str, count: usize) -> Vec<u32> {
        let schedule = CronSchedule::parse(expression, "UTC").expect(expression);
        schedule
            .upcoming(at(2026, 1, 5, 0, 0), count)
            .iter()
            .map(|t| t.weekday().num_days_from_sunday())
            .collect()
    }

    #[test]
    fn five_fields_number_the_week_as_crontab_does() {
        assert_eq!(weekdays("0 9 * * 1-5", 6), [1, 2, 3, 4, 5, 1], "Monday to Friday");
        assert_eq!(weekdays("0 9 * * MON-FRI", 6), [1, 2, 3, 4, 5, 1]);
        assert_eq!(weekdays("0 9 * * 0", 2), [0, 0], "0 is Sunday");
        assert_eq!(weekdays("0 9 * * 7", 2), [0, 0], "so is 7");
        assert_eq!(weekdays("0 9 * * SUN", 2), [0, 0]);
        assert_eq!(weekdays("0 9 * * sat,sun", 4), [6, 0, 6, 0]);
        assert_eq!(weekdays("0 9 * * 5-7", 3), [5, 6, 0], "a range may end on 7");
    }

    #[test]
    fn steps_ranges_and_macros() {
        let quarter = CronSchedule::parse("*/15 * * * *", "UTC").expect("steps");
        assert_eq!(
            quarter.upcoming(at(2026, 1, 5, 10, 7), 3),
            [at(2026, 1, 5, 10, 15), at(2026, 1, 5, 10, 30), at(2026, 1, 5, 10, 45)]
        );
        let office = CronSchedule::parse("0 8-18/4 * * *", "UTC").expect("range with a step");
        let hours: Vec<u32> = office.upcoming(at(2026, 1, 5, 0, 0), 4).iter().map(Timelike::hour).collect();
        assert_eq!(hours, [8, 12, 16, 8]);
        let daily = CronSchedule::parse("@daily", "UTC").expect("macro");
        assert_eq!(daily.next_after(at(2026, 1, 5, 10, 0)), Some(at(2026, 1, 6, 0, 0)));
    }

    #[test]
    fn day_of_month_or_day_of_week_when_both_are_restricted() {
        // The 13th, and every Friday (crontab's OR rule), not only Friday the 13th.
        let schedule = CronSchedule::parse("0 0 13 * FRI", "UTC").expect("both days");
        let days: Vec<u32> = schedule.upcoming(at(2026, 1, 5, 0, 0), 3).iter().map(Datelike::day).collect();
        assert_eq!(days, [9, 13, 16], "Fri 9th, Tue 13th, Fri 16th");
        // With a `*` day of week, only the day of month counts.
        let monthly = CronSchedule::parse("0 0 13 * *", "UTC").expect("day of month");
        assert_eq!(monthly.next_after(at(2026, 1, 5, 0, 0)), Some(at(2026, 1, 13, 0, 0)));
    }

    #[test]
    fn clock_changes_in_a_time_zone() {
        // Paris springs forward on 2026-03-29 (02:00 CET becomes 03:00 CEST) and falls back on
        // 2026-10-25 (03:00 CEST becomes 02:00 CET).
        let at_half_two = CronSchedule::parse("30 2 * * *", "Europe/Paris").expect("fixed hour");
        assert_eq!(
            at_half_two.upcoming(at(2026, 3, 28, 12, 0), 3),
            [at(2026, 3, 29, 1, 0), at(2026, 3, 30, 0, 30), at(2026, 3, 31, 0, 30)],
            "the skipped 02:30 runs once, when the clocks have jumped (03:00 CEST)"
        );
        assert_eq!(
            at_half_two.upcoming(at(2026, 10, 24, 12, 0), 2),
            [at(2026, 10, 25, 0, 30), at(2026, 10, 26, 1, 30)],
            "the repeated 02:30 runs the first time only"
        );
        let quarter = CronSchedule::parse("*/30 * * * *", "Europe/Paris").expect("every hour");
        assert_eq!(
            quarter.upcoming(at(2026, 10, 25, 0, 0), 4),
            [
                at(2026, 10, 25, 0, 30),
                at(2026, 10, 25, 1, 0),
                at(2026, 10, 25, 1, 30),
                at(2026, 10, 25, 2, 0)
            ],
            "a `*` hour runs in both copies of the repeated hour"
        );
        assert_eq!(
            quarter.upcoming(at(2026, 3, 29, 0, 30), 2),
            [at(2026, 3, 29, 1, 0), at(2026, 3, 29, 1, 30)],
            "and has no slots in the skipped one (01:00 UTC is 03:00 CEST)"
        );
        let nine_paris = CronSchedule::parse("0 9 * * 1-5", "Europe/Paris").expect("weekdays");
        assert_eq!(nine_paris.next_after(at(2026, 3, 27, 12, 0)), Some(at(2026, 3, 30, 7, 0)), "09:00 CEST");
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(CronSchedule::parse("* * *", "UTC").expect_err("too short").field, "cron");
        assert_eq!(CronSchedule::parse("61 * * * *", "UTC").expect_err("bad minute").field, "cron");
        assert_eq!(CronSchedule::parse("* * * * *", "Mars/Olympus").expect_err("bad zone").field, "timezone");
        assert!(CronSchedule::parse("0 0 0 1 1 * 2001", "UTC").is_err(), "only in the past");
        assert!(CronSchedule::parse("0 0 31 2 *", "UTC").is_err(), "February has no 31st");
        for (bad, why) in [
            ("0 9 * * 8", "outside 0-7"),
            ("0 9 * * FRI-MON", "runs backwards"),
            ("0 9 L * *", "Quartz"),
            ("*/0 * * * *", "at least 1"),
            ("@sometimes", "unknown macro"),
        ] {
            let error = CronSchedule::parse(bad, "UTC").expect_err(bad);
            assert!(error.reason.contains(why), "{bad}: {}", error.reason);
        }
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
