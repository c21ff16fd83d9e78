//! Credits. The balance lives on the account; every change writes a `credit_transactions` row
//! and every AI operation a `credit_usage_logs` row, in the caller's database transaction. A
//! task's charge is keyed by (task, operation), so a redelivered task never pays twice.
//!
//! What each operation costs (the README's table is this one):
//!
//! | operation    | unit                          | credits |
//! |--------------|-------------------------------|---------|
//! | `clustering` | 10 keywords clustered (begun) | 1       |
//! | `ideas`      | idea generated                | 2       |
//! | `content`    | 100 words written (begun)     | 1       |
//! | `images`     | image generated               | 5       |
//! | `seo`        | page audited                  | 1       |
//! | `social`     | post variant composed         | 1       |

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    Error, Result,
    ai::TokenUsage,
    db::{
        schema::{accounts, credit_transactions, credit_usage_logs},
        text_enum::text_enum,
    },
};

pub mod ledger;

text_enum! {
    /// Why a balance changed (a `credit_transactions` row).
    pub enum TransactionType {
        Purchase = "purchase",
        /// A plan's monthly credits (and the first month's at sign-up).
        Subscription = "subscription",
        /// Paid credits taken back after a refund or a dispute.
        Refund = "refund",
        /// An AI operation's charge.
        Deduction = "deduction",
        Adjustment = "adjustment",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Clustering,
    Ideas,
    Content,
    Images,
    Seo,
    Social,
}

impl Operation {
    pub const ALL: [Operation; 6] = [
        Operation::Clustering,
        Operation::Ideas,
        Operation::Content,
        Operation::Images,
        Operation::Seo,
        Operation::Social,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Clustering => "clustering",
            Operation::Ideas => "ideas",
            Operation::Content => "content",
            Operation::Images => "images",
            Operation::Seo => "seo",
            Operation::Social => "social",
        }
    }

    pub fn parse(value: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.as_str() == value)
    }

    /// Credits for `units` of this operation (keywords, ideas, words, images, pages, posts).
    pub fn cost(self, units: u64) -> i64 {
        let credits = match self {
            Operation::Clustering => units.div_ceil(10),
            Operation::Ideas => units * 2,
            Operation::Content => units.div_ceil(100),
            Operation::Images => units * 5,
            Operation::Seo | Operation::Social => units,
        };
        i64::try_from(credits).unwrap_or(i64::MAX)
    }
}

/// One operation's charge, written with the task's results.
#[derive(Clone, Debug)]
pub struct Charge {
    pub account_id: i64,
    pub operation: Operation,
    pub units: u64,
    pub task_id: Option<Uuid>,
    pub model: String,
    pub usage: TokenUsage,
    pub related: Option<(&'static str, String)>,
    /// What the provider said the work cost (Runware reports each picture's price); `None`:
    /// estimated from the model and the tokens.
    pub cost_usd: Option<rust_decimal::Decimal>,
}

impl Charge {
    pub fn credits(&self) -> i64 {
        self.operation.cost(self.units)
    }
}

pub fn balance(conn: &mut PgConnection, account_id: i64) -> Result<i64> {
    Ok(accounts::table.find(account_id).select(accounts::credits).first(conn)?)
}

/// Fails with `Error::InsufficientCredits` when the account cannot pay `credits` now.
pub fn ensure_affordable(conn: &mut PgConnection, account_id: i64, credits: i64) -> Result<()> {
    let available = balance(conn, account_id)?;
    if available < credits {
        return Err(Error::InsufficientCredits { needed: credits, available });
    }
    Ok(())
}

/// Deducts a charge. Call it inside the transaction that stores the operation's results.
/// Returns false when this task already paid for this operation (a redelivery).
pub fn charge(conn: &mut PgConnection, charge: &Charge) -> Result<bool> {
    let credits = charge.credits();
    let (related_type, related_id) = charge.related.clone().unzip();
    let inserted = diesel::insert_into(credit_usage_logs::table)
        .values((
            credit_usage_logs::account_id.eq(charge.account_id),
            credit_usage_logs::operation_type.eq(charge.operation.as_str()),
            credit_usage_logs::credits_used.eq(credits),
            credit_usage_logs::cost_usd
                .eq(charge.cost_usd.unwrap_or_else(|| estimated_cost_usd(&charge.model, charge.usage))),
            credit_usage_logs::model_used.eq(&charge.model),
            credit_usage_logs::tokens_input.eq(to_i32(charge.usage.prompt_tokens)),
            credit_usage_logs::tokens_output.eq(to_i32(charge.usage.completion_tokens)),
            credit_usage_logs::units.eq(i32::try_from(charge.units).unwrap_or(i32::MAX)),
            credit_usage_logs::task_id.eq(charge.task_id),
            credit_usage_logs::related_object_type.eq(related_type),
            credit_usage_logs::related_object_id.eq(related_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        return Ok(false);
    }
    let description = format!("{} ({} units)", charge.operation.as_str(), charge.units);
    apply(conn, charge.account_id, -credits, TransactionType::Deduction, &description, charge.task_id)?;
    Ok(true)
}

/// Adds (or, negative, removes) credits outside an AI operation: sign-up grants, purchases,
/// adjustments. A removal the balance cannot cover fails with `Error::InsufficientCredits`.
pub fn grant(
    conn: &mut PgConnection,
    account_id: i64,
    amount: i64,
    transaction_type: TransactionType,
    description: &str,
) -> Result<i64> {
    apply(conn, account_id, amount, transaction_type, description, None)
}

/// Takes back credits that were paid for and then refunded or disputed: the money is gone, so
/// the balance may go below zero (and commands are refused until it is positive again).
pub fn reverse(conn: &mut PgConnection, account_id: i64, credits: i64, description: &str) -> Result<i64> {
    let balance_after: i64 = diesel::update(accounts::table.find(account_id))
        .set(accounts::credits.eq(accounts::credits - credits))
        .returning(accounts::credits)
        .get_result(conn)?;
    record(conn, account_id, -credits, balance_after, TransactionType::Refund, description, None)?;
    Ok(balance_after)
}

fn apply(
    conn: &mut PgConnection,
    account_id: i64,
    amount: i64,
    transaction_type: TransactionType,
    description: &str,
    task_id: Option<Uuid>,
) -> Result<i64> {
    // The guard in the WHERE clause keeps concurrent charges from overdrawing; an addition
    // always lands, even on a balance below zero.
    let floor = if amount >= 0 { i64::MIN } else { -amount };
    let balance_after: Option<i64> = diesel::update(accounts::table.find(account_id))
        .filter(accounts::credits.ge(floor))
        .set(accounts::credits.eq(accounts::credits + amount))
        .returning(accounts::credits)
        .get_result(conn)
        .optional()?;
    let Some(balance_after) = balance_after else {
        let available = balance(conn, account_id)?;
        return Err(Error::InsufficientCredits { needed: -amount, available });
    };
    record(conn, account_id, amount, balance_after, transaction_type, description, task_id)?;
    Ok(balance_after)
}

/// The ledger row of one balance change.
fn record(
    conn: &mut PgConnection,
    account_id: i64,
    amount: i64,
    balance_after: i64,
    transaction_type: TransactionType,
    description: &str,
    task_id: Option<Uuid>,
) -> Result<()> {
    diesel::insert_into(credit_transactions::table)
        .values((
            credit_transactions::account_id.eq(account_id),
            credit_transactions::transaction_type.eq(transaction_type),
            credit_transactions::amount.eq(amount),
            credit_transactions::balance_after.eq(balance_after),
            credit_transactions::description.eq(description),
            credit_transactions::task_id.eq(task_id),
        ))
        .execute(conn)?;
    Ok(())
}

fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A rough provider cost for the usage summary: USD per million tokens (input, output), in
/// cents, exact to the micro-dollar.
fn estimated_cost_usd(model: &str, usage: TokenUsage) -> rust_decimal::Decimal {
    use rust_decimal::Decimal;
    let (input_cents, output_cents) = match model {
        m if m.starts_with("gpt-4o-mini") => (15, 60),
        m if m.starts_with("gpt-4o") => (250, 1000),
        m if m.starts_with("gpt-4.1-mini") => (40, 160),
        m if m.starts_with("text-embedding-3-small") => (2, 0),
        m if m.starts_with("text-embedding-3-large") => (13, 0),
        _ => (0, 0),
    };
    let cents = Decimal::from(usage.prompt_tokens) * Decimal::from(input_cents)
        + Decimal::from(usage.completion_tokens) * Decimal::from(output_cents);
    (cents / Decimal::from(100_000_000)).round_dp(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_follow_the_table() {
        assert_eq!(Operation::Clustering.cost(1), 1);
        assert_eq!(Operation::Clustering.cost(10), 1);
        assert_eq!(Operation::Clustering.cost(10_000), 1_000);
        assert_eq!(Operation::Ideas.cost(3), 6);
        assert_eq!(Operation::Content.cost(1_501), 16);
        assert_eq!(Operation::Images.cost(2), 10);
        for op in Operation::ALL {
            assert_eq!(Operation::parse(op.as_str()), Some(op));
        }
    }
}
