//! Five-field cron as crontab(5) reads it (POSIX, with Vixie cron's extensions): minute, hour,
//! day of month, month, day of week. Lists, ranges and steps (`1-5`, `*/15`, `8-18/2`),
//! month and day names (`JAN`, `MON-FRI`), 0 and 7 both Sunday, the `@daily`-style macros, and
//! the day rule: when both the day of month and the day of week are restricted (neither starts
//! with `*`), a day matches if *either* does (`0 0 1 * MON` is the 1st and every Monday).
//!
//! Wall-clock changes, as Vixie cron handles them: a job at a fixed hour whose time does not
//! exist that day (the clocks jump forward over it) runs once when the clocks have jumped; one
//! whose time happens twice (the clocks go back) runs the first time only. A job whose hour
//! is `*` follows the clock: it has no slots in the skipped hour and runs in both copies of
//! the repeated one.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// How far ahead a schedule is searched for its next fire time. Crontab never ANDs a date
/// with a weekday (both restricted means OR), so the rarest schedule is February 29th: once
/// in at most 8 years (1900 and 2100 are not leap years).
const SEARCH_DAYS: i64 = 366 * 8 + 2;

/// A parsed five-field expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosixCron {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    days_of_month: [bool; 32],
    months: [bool; 13],
    /// 0 = Sunday.
    days_of_week: [bool; 7],
    /// Both day fields restricted: either one matching is enough.
    either_day: bool,
    /// The hour field starts with `*`: slots follow the wall clock through DST changes.
    every_hour: bool,
}

const MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl PosixCron {
    /// Parses `expression` (five fields or a macro); the error says which field and why.
    pub fn parse(expression: &str) -> Result<Self, String> {
        let expanded = match expression.trim().to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 1 1 *".to_owned(),
            "@monthly" => "0 0 1 * *".to_owned(),
            "@weekly" => "0 0 * * 0".to_owned(),
            "@daily" | "@midnight" => "0 0 * * *".to_owned(),
            "@hourly" => "0 * * * *".to_owned(),
            macro_name if macro_name.starts_with('@') => {
                return Err(format!(
                    "unknown macro `{macro_name}`; use @yearly, @monthly, @weekly, @daily or @hourly"
                ));
            }
            _ => expression.trim().to_owned(),
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields[..] else {
            return Err(format!("expected 5 fields, got {}", fields.len()));
        };
        let minutes = Field::new("minute", 0, 59, &[]).parse(minute)?;
        let hours = Field::new("hour", 0, 23, &[]).parse(hour)?;
        let doms = Field::new("day of month", 1, 31, &[]).parse(dom)?;
        let month_numbers = Field::new("month", 1, 12, &MONTHS).parse(month)?;
        let dows = Field::new("day of week", 0, 7, &DAYS).parse(dow)?;
        let mut cron = PosixCron {
            minutes,
            hours,
            days_of_month: [false; 32],
            months: [false; 13],
            days_of_week: [false; 7],
            either_day: !starts_with_star(dom) && !starts_with_star(dow),
            every_hour: starts_with_star(hour),
        };
        doms.iter().for_each(|&d| cron.days_of_month[d as usize] = true);
        month_numbers.iter().for_each(|&m| cron.months[m as usize] = true);
        dows.iter().for_each(|&d| cron.days_of_week[(d % 7) as usize] = true);
        Ok(cron)
    }

    fn matches_day(&self, date: NaiveDate) -> bool {
        if !self.months[date.month() as usize] {
            return false;
        }
        let dom = self.days_of_month[date.day() as usize];
        let dow = self.days_of_week[date.weekday().num_days_from_sunday() as usize];
        if self.either_day { dom || dow } else { dom && dow }
    }

    /// The first fire time strictly after `moment`, read in `zone`.
    pub fn next_after(&self, moment: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        let local = moment.with_timezone(&zone).naive_local();
        // A day earlier: the instants of a local date can lie before its midnight's UTC.
        let first = local.date().pred_opt()?;
        (0..SEARCH_DAYS)
            .map(|offset| first + Duration::days(offset))
            .filter(|date| self.matches_day(*date))
            .find_map(|date| self.first_on(date, zone, moment, local))
    }

    /// The first fire time of a matching local date after `moment` (whose wall-clock time is
    /// `local`), by the wall-clock rules above. Only the slots within a few hours of the
    /// answer are looked at: no clock change moves an instant by more than two.
    fn first_on(
        &self,
        date: NaiveDate,
        zone: Tz,
        moment: DateTime<Utc>,
        local: NaiveDateTime,
    ) -> Option<DateTime<Utc>> {
        let mut best: Option<(DateTime<Utc>, NaiveDateTime)> = None;
        for &hour in &self.hours {
            for &minute in &self.minutes {
                let Some(slot) = date.and_hms_opt(hour, minute, 0) else { continue };
                if slot < local - MARGIN {
                    continue;
                }
                if best.is_some_and(|(_, best_slot)| slot > best_slot + MARGIN) {
                    return best.map(|(at, _)| at);
                }
                for at in self.instants_of(slot, zone).into_iter().flatten().filter(|at| *at > moment) {
                    if best.is_none_or(|(best_at, _)| at < best_at) {
                        best = Some((at, slot));
                    }
                }
            }
        }
        best.map(|(at, _)| at)
    }

    /// The instants a wall-clock slot fires at: none, one, or (a `*` hour in the repeated
    /// hour) two.
    fn instants_of(&self, slot: NaiveDateTime, zone: Tz) -> [Option<DateTime<Utc>>; 2] {
        match zone.from_local_datetime(&slot) {
            LocalResult::Single(at) => [Some(at.with_timezone(&Utc)), None],
            LocalResult::Ambiguous(first, second) => {
                [Some(first.with_timezone(&Utc)), self.every_hour.then(|| second.with_timezone(&Utc))]
            }
            LocalResult::None if !self.every_hour => [end_of_gap(slot, zone), None],
            LocalResult::None => [None, None],
        }
    }
}

/// More than any clock change shifts a wall-clock time (two hours, with room to spare).
const MARGIN: Duration = Duration::hours(3);

/// The first existing instant after a local time the clocks jumped over.
fn end_of_gap(local: NaiveDateTime, zone: Tz) -> Option<DateTime<Utc>> {
    let start = local.with_second(0)?;
    (1..=24 * 60).find_map(|minutes| {
        zone.from_local_datetime(&(start + Duration::minutes(minutes)))
            .earliest()
            .map(|at| at.with_timezone(&Utc))
    })
}

fn starts_with_star(field: &str) -> bool {
    field.starts_with('*') || field.starts_with('?')
}

/// One field's bounds and names.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    /// Names of the values from `min` on (`jan` is 1, `sun` is 0).
    names: &'static [&'static str],
}

impl Field {
    fn new(name: &'static str, min: u32, max: u32, names: &'static [&'static str]) -> Self {
        Field { name, min, max, names }
    }

    /// The values a field selects, ascending, without repeats.
    fn parse(&self, text: &str) -> Result<Vec<u32>, String> {
        let mut values = Vec::new();
        for item in text.split(',') {
            values.extend(self.item(item).map_err(|why| format!("{} field `{text}`: {why}", self.name))?);
        }
        values.sort_unstable();
        values.dedup();
        Ok(values)
    }

    fn item(&self, item: &str) -> Result<Vec<u32>, String> {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step.parse().map_err(|_| format!("`{step}` is not a step"))?;
                if step == 0 {
                    return Err("a step must be at least 1".into());
                }
                (range, step)
            }
            None => (item, 1),
        };
        let (low, high) = match range {
            "*" | "?" => (self.min, self.max),
            _ => match range.split_once('-') {
                Some((low, high)) => (self.value(low)?, self.value(high)?),
                // `5/15` is 5, 20, 35, 50: from the value to the end.
                None if item.contains('/') => (self.value(range)?, self.max),
                None => {
                    let value = self.value(range)?;
                    (value, value)
                }
            },
        };
        if low > high {
            return Err(format!("the range {low}-{high} runs backwards"));
        }
        Ok((low..=high).step_by(step as usize).collect())
    }

    fn value(&self, text: &str) -> Result<u32, String> {
        let lower = text.to_ascii_lowercase();
        if let Some(index) = self.names.iter().position(|name| *name == lower) {
            // Day names count from Sunday = 0; month names from January = 1.
            return Ok(index as u32 + if self.min == 0 { 0 } else { 1 });
        }
        let value: u32 = text.parse().map_err(|_| match text {
            "L" | "W" | "l" | "w" => format!("`{text}` is Quartz syntax, not crontab"),
            _ if text.contains('#') => format!("`{text}` is Quartz syntax, not crontab"),
            _ => format!("`{text}` is not a number{}", if self.names.is_empty() { "" } else { " or a name" }),
        })?;
        if value < self.min || value > self.max {
            return Err(format!("{value} is outside {}-{}", self.min, self.max));
        }
        Ok(value)
    }
}
