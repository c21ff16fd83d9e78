//! What an account sees of buying credits: the packages on sale and its own payments, each
//! with where it stands.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::{
    Result,
    db::schema::{credit_packages, payments},
    ids::AccountId,
    tenant::Window,
};

/// A credit package on sale, its price in minor units.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = credit_packages, check_for_backend(diesel::pg::Pg))]
pub struct Package {
    pub code: String,
    pub name: String,
    pub credits: i64,
    pub amount_minor: i64,
    pub currency: String,
}

/// The packages on sale, by currency and then cheapest first.
pub fn on_sale(conn: &mut PgConnection) -> Result<Vec<Package>> {
    Ok(credit_packages::table
        .filter(credit_packages::active.eq(true))
        .order((credit_packages::currency, credit_packages::amount_minor))
        .select(Package::as_select())
        .load(conn)?)
}

/// Where a payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Announced, its money not yet arrived.
    Pending,
    Paid,
    PartiallyRefunded,
    Refunded,
    /// Money held by an open or lost dispute.
    Disputed,
}

/// One payment of an account, amounts in minor units.
#[derive(Debug, Queryable)]
pub struct Record {
    pub id: i64,
    pub reference: String,
    pub paid: bool,
    pub amount_minor: i64,
    pub currency: String,
    /// The package it bought, if its amount matched one.
    pub package: Option<String>,
    /// Credits it has added, net of refunds and disputes.
    pub credits_net: i64,
    pub refunded_minor: i64,
    pub disputed_minor: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Record {
    pub fn status(&self) -> PaymentStatus {
        match () {
            _ if !self.paid => PaymentStatus::Pending,
            _ if self.disputed_minor > 0 => PaymentStatus::Disputed,
            _ if self.refunded_minor >= self.amount_minor => PaymentStatus::Refunded,
            _ if self.refunded_minor > 0 => PaymentStatus::PartiallyRefunded,
            _ => PaymentStatus::Paid,
        }
    }
}

/// One page of the account's payments, newest first, and how many it has.
pub fn of_account(conn: &mut PgConnection, account: AccountId, window: Window) -> Result<(Vec<Record>, i64)> {
    let count: i64 = payments::table.filter(payments::account_id.eq(account)).count().get_result(conn)?;
    let rows = payments::table
        .left_join(credit_packages::table)
        .filter(payments::account_id.eq(account))
        .order(payments::id.desc())
        .offset(window.offset)
        .limit(window.limit)
        .select((
            payments::id,
            payments::reference,
            payments::paid,
            payments::amount_minor,
            payments::currency,
            credit_packages::code.nullable(),
            payments::credits_net,
            payments::refunded_minor,
            payments::disputed_minor,
            payments::created_at,
            payments::updated_at,
        ))
        .load(conn)?;
    Ok((rows, count))
}
