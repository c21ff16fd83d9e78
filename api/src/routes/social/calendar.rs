//! `GET /social/calendar/`: the account's posts by day (UTC).

use actix_web::{HttpResponse, get, web};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::social::{self, Post};
use utoipa::{IntoParams, ToSchema};

use super::super::billing::day_bounds;
use crate::{
    error::ApiError,
    extract::{ApiQuery, AuthUser},
    response::{self, Data},
    state::AppState,
};

/// The most posts a calendar shows.
const CALENDAR_LIMIT: i64 = 5_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CalendarQuery {
    /// The first day (UTC); today by default.
    from: Option<NaiveDate>,
    /// The last day (UTC); 31 days after `from` by default.
    to: Option<NaiveDate>,
}

/// The posts of one day of the calendar.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialCalendarDay)]
struct CalendarDay {
    date: NaiveDate,
    posts: Vec<Post>,
}

/// `GET /calendar`'s answer: the days that have posts, in order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SocialCalendar)]
struct Calendar {
    from: NaiveDate,
    to: NaiveDate,
    days: Vec<CalendarDay>,
}

/// Posts by day (UTC) between `from` and `to` (31 days from today by default).
#[utoipa::path(
    tag = "social",
    params(CalendarQuery),
    responses((status = 200, body = Data<Calendar>)),
)]
#[get("/calendar")]
pub(super) async fn calendar(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<CalendarQuery>,
) -> Result<HttpResponse, ApiError> {
    let today = Utc::now().date_naive();
    let from = query.0.from.unwrap_or(today);
    let to = query.0.to.unwrap_or(from + chrono::Days::new(31));
    let (Some(start), Some(end)) = day_bounds(Some(from), Some(to)) else {
        return Err(ApiError::field("to", "Give both from and to."));
    };
    let account = auth.account();
    let rows = state
        .db(move |conn| social::posts::scheduled_between(conn, account, start, end, CALENDAR_LIMIT))
        .await?;
    let mut days: std::collections::BTreeMap<NaiveDate, Vec<Post>> = std::collections::BTreeMap::new();
    for row in rows {
        days.entry(row.scheduled_at.date_naive()).or_default().push(row);
    }
    let days: Vec<CalendarDay> =
        days.into_iter().map(|(date, day_posts)| CalendarDay { date, posts: day_posts }).collect();
    Ok(response::ok(Calendar { from, to, days }))
}
