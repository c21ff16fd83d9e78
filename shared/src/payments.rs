//! Credits bought with money, through the platform's own payment account (Stripe).
//!
//! Only operators hold that account's webhook secret (`PAYMENTS_WEBHOOK_SECRET`), so no tenant
//! can sign an event. An event names one payment object — its PaymentIntent, or the Checkout
//! Session or Charge when it has none — and states facts about it: it was paid (so much, in
//! this currency), so much of it was refunded or disputed, a dispute was won. The facts merge
//! into the payment's row under a row lock, and the account's balance moves by the difference
//! between the credits the merged facts make due and those already credited. Hence:
//!
//! - a payment credits once, whatever events arrive for it, in any order, any number of times;
//! - what it buys is the active package priced at the amount paid, never the payer's metadata
//!   (an amount no package costs buys nothing, and is logged for an operator);
//! - a Checkout Session credits only when `payment_status` is `paid` (delayed methods credit
//!   with `checkout.session.async_payment_succeeded`);
//! - refunds and disputes take back their share, even below a zero balance, and a dispute
//!   won gives it back.

pub mod records;

use diesel::prelude::*;
use serde_json::Value;

use crate::{
    Result, billing,
    db::schema::{accounts, credit_packages, payment_events, payments},
};

/// The provider every payment row comes from.
pub const PROVIDER: &str = "stripe";

/// What was paid: an amount in the currency's minor unit (cents) and the currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Price {
    pub amount_minor: i64,
    pub currency: String,
}

/// What one event says about one payment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The payment object: the PaymentIntent id, else the Checkout Session or Charge id.
    pub reference: String,
    pub checkout_session: Option<String>,
    /// The account the platform named when it created the payment (`client_reference_id`, or
    /// `metadata.account_id`); only read for a payment not seen before.
    pub account_id: Option<i64>,
    pub paid: Option<Price>,
    /// How much has been refunded in all (the provider sends the running total).
    pub refunded_minor: Option<i64>,
    pub disputed_minor: Option<i64>,
    pub dispute_won: bool,
}

/// How an event is read: facts about a payment, or why it moves nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reading {
    Facts(Facts),
    Ignored(String),
}

/// Reads a provider event (`type` and `data.object`).
pub fn read(event_type: &str, object: &Value) -> Reading {
    let facts = match event_type {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => checkout(object),
        "payment_intent.succeeded" => payment_intent(object),
        "charge.succeeded" | "charge.refunded" => charge(object),
        "charge.dispute.created" | "charge.dispute.closed" => dispute(object),
        _ => Err(format!("event `{event_type}` does not move credits")),
    };
    match facts {
        Ok(facts) => Reading::Facts(facts),
        Err(reason) => Reading::Ignored(reason),
    }
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::trim).filter(|text| !text.is_empty()).map(str::to_owned)
}

fn account_named(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_str().and_then(|id| id.trim().parse().ok()))
}

fn price(amount: &Value, currency: &Value) -> Option<Price> {
    let amount_minor = amount.as_i64().filter(|amount| *amount >= 0)?;
    let currency = text(currency)?.to_ascii_lowercase();
    (currency.len() == 3 && currency.bytes().all(|c| c.is_ascii_lowercase()))
        .then_some(Price { amount_minor, currency })
}

fn checkout(session: &Value) -> Result<Facts, String> {
    let id = text(&session["id"]).ok_or("the checkout session has no id")?;
    let status = session["payment_status"].as_str().unwrap_or("missing");
    if status != "paid" {
        return Err(format!("checkout session {id} is `{status}`, not paid"));
    }
    Ok(Facts {
        reference: text(&session["payment_intent"]).unwrap_or_else(|| id.clone()),
        account_id: account_named(&session["client_reference_id"])
            .or_else(|| account_named(&session["metadata"]["account_id"])),
        paid: Some(
            price(&session["amount_total"], &session["currency"])
                .ok_or_else(|| format!("checkout session {id} has no amount_total and currency"))?,
        ),
        checkout_session: Some(id),
        ..Facts::default()
    })
}

fn payment_intent(intent: &Value) -> Result<Facts, String> {
    let id = text(&intent["id"]).ok_or("the payment intent has no id")?;
    if intent["status"].as_str() != Some("succeeded") {
        return Err(format!("payment intent {id} has not succeeded"));
    }
    let amount =
        if intent["amount_received"].is_null() { &intent["amount"] } else { &intent["amount_received"] };
    Ok(Facts {
        account_id: account_named(&intent["metadata"]["account_id"]),
        paid: Some(
            price(amount, &intent["currency"]).ok_or_else(|| format!("payment intent {id} has no amount"))?,
        ),
        reference: id,
        ..Facts::default()
    })
}

/// `charge.succeeded` and `charge.refunded` both carry the whole charge.
fn charge(charge: &Value) -> Result<Facts, String> {
    let id = text(&charge["id"]).ok_or("the charge has no id")?;
    let succeeded = charge["paid"].as_bool() == Some(true) && charge["status"].as_str() == Some("succeeded");
    let amount =
        if charge["amount_captured"].is_null() { &charge["amount"] } else { &charge["amount_captured"] };
    let paid = succeeded.then(|| price(amount, &charge["currency"])).flatten();
    let refunded_minor = charge["amount_refunded"].as_i64().filter(|amount| *amount > 0);
    if paid.is_none() && refunded_minor.is_none() {
        return Err(format!("charge {id} has neither succeeded nor been refunded"));
    }
    Ok(Facts {
        reference: text(&charge["payment_intent"]).unwrap_or(id),
        account_id: account_named(&charge["metadata"]["account_id"]),
        paid,
        refunded_minor,
        ..Facts::default()
    })
}

fn dispute(dispute: &Value) -> Result<Facts, String> {
    let id = text(&dispute["id"]).ok_or("the dispute has no id")?;
    let reference = text(&dispute["payment_intent"])
        .or_else(|| text(&dispute["charge"]))
        .ok_or_else(|| format!("dispute {id} names no payment"))?;
    let amount = dispute["amount"].as_i64().filter(|amount| *amount > 0);
    let status = dispute["status"].as_str().unwrap_or_default();
    match status {
        "won" => Ok(Facts { reference, dispute_won: true, ..Facts::default() }),
        _ => Ok(Facts {
            reference,
            disputed_minor: Some(amount.ok_or_else(|| format!("dispute {id} has no amount"))?),
            ..Facts::default()
        }),
    }
}

/// A payment row as reconciling reads and writes it.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = payments)]
struct Payment {
    id: i64,
    account_id: i64,
    checkout_session: Option<String>,
    paid: bool,
    amount_minor: i64,
    currency: String,
    package_id: Option<i64>,
    credits_bought: i64,
    refunded_minor: i64,
    disputed_minor: i64,
    dispute_won: bool,
    credits_net: i64,
}

impl Payment {
    fn merge(&mut self, facts: &Facts) {
        if self.checkout_session.is_none() {
            self.checkout_session.clone_from(&facts.checkout_session);
        }
        if let Some(price) = &facts.paid
            && !self.paid
        {
            self.paid = true;
            self.amount_minor = price.amount_minor;
            self.currency = price.currency.clone();
        }
        if let Some(refunded) = facts.refunded_minor {
            self.refunded_minor = self.refunded_minor.max(refunded);
        }
        // A won dispute is final: a late copy of its opening does not take credits again.
        if facts.dispute_won {
            self.dispute_won = true;
            self.disputed_minor = 0;
        } else if let Some(disputed) = facts.disputed_minor
            && !self.dispute_won
        {
            self.disputed_minor = self.disputed_minor.max(disputed);
        }
    }

    /// The credits the payment is worth now: its package's, less the share refunded or
    /// disputed (rounded so the share taken back is never less than the money's).
    fn due(&self) -> i64 {
        if !self.paid || self.amount_minor == 0 {
            return 0;
        }
        let lost = (self.refunded_minor + self.disputed_minor).min(self.amount_minor);
        let kept = i128::from(self.amount_minor - lost);
        let due = i128::from(self.credits_bought) * kept / i128::from(self.amount_minor);
        i64::try_from(due).unwrap_or(0)
    }
}

/// What an event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Credits were added (a purchase, or a dispute won).
    Credited,
    /// Credits were taken back (a refund or a dispute).
    Reversed,
    /// The payment is known, and this event changed nothing the balance depends on.
    Unchanged,
    /// Nothing to do with credits, or nothing we can act on (see the detail).
    Ignored,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Credited => "credited",
            Outcome::Reversed => "reversed",
            Outcome::Unchanged => "unchanged",
            Outcome::Ignored => "ignored",
        }
    }
}

/// An event's effect, as stored with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub outcome: Outcome,
    pub payment_id: Option<i64>,
    pub account_id: Option<i64>,
    /// Credits added (positive) or taken back (negative).
    pub credits: i64,
    pub detail: String,
}

impl Applied {
    fn ignored(detail: impl Into<String>) -> Self {
        Applied {
            outcome: Outcome::Ignored,
            payment_id: None,
            account_id: None,
            credits: 0,
            detail: detail.into(),
        }
    }
}

/// A signed event to apply once.
pub struct Event<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    pub object: &'a Value,
    /// The raw body, kept with the event.
    pub body: &'a str,
}

/// Stores and applies an event in one transaction. `None`: this event id was applied before.
pub fn apply(conn: &mut PgConnection, event: &Event<'_>) -> Result<Option<Applied>> {
    conn.transaction(|conn| {
        let stored: Option<i64> = diesel::insert_into(payment_events::table)
            .values((
                payment_events::event_id.eq(event.id),
                payment_events::event_type.eq(event.event_type),
                payment_events::outcome.eq(Outcome::Ignored.as_str()),
                payment_events::body.eq(event.body),
            ))
            .on_conflict(payment_events::event_id)
            .do_nothing()
            .returning(payment_events::id)
            .get_result(conn)
            .optional()?;
        let Some(stored) = stored else { return Ok(None) };
        let applied = match read(event.event_type, event.object) {
            Reading::Facts(facts) => reconcile(conn, &facts)?,
            Reading::Ignored(reason) => Applied::ignored(reason),
        };
        diesel::update(payment_events::table.find(stored))
            .set((
                payment_events::outcome.eq(applied.outcome.as_str()),
                payment_events::payment_id.eq(applied.payment_id),
                payment_events::credits.eq(applied.credits),
                payment_events::detail.eq(&applied.detail),
            ))
            .execute(conn)?;
        Ok(Some(applied))
    })
}

fn locked(conn: &mut PgConnection, reference: &str) -> Result<Option<Payment>> {
    Ok(payments::table
        .filter(payments::provider.eq(PROVIDER))
        .filter(payments::reference.eq(reference))
        .select(Payment::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

/// The payment's row, locked; created for the account the event names when it is new.
fn payment_for(conn: &mut PgConnection, facts: &Facts) -> Result<Result<Payment, String>> {
    if let Some(payment) = locked(conn, &facts.reference)? {
        return Ok(Ok(payment));
    }
    let Some(account_id) = facts.account_id else {
        return Ok(Err(format!("payment {} is new and names no account", facts.reference)));
    };
    let exists: bool =
        diesel::select(diesel::dsl::exists(accounts::table.find(account_id))).get_result(conn)?;
    if !exists {
        return Ok(Err(format!(
            "payment {} names account {account_id}, which does not exist",
            facts.reference
        )));
    }
    // Two first events at once: one inserts, the other waits for it and then locks its row.
    diesel::insert_into(payments::table)
        .values((
            payments::account_id.eq(account_id),
            payments::provider.eq(PROVIDER),
            payments::reference.eq(&facts.reference),
        ))
        .on_conflict((payments::provider, payments::reference))
        .do_nothing()
        .execute(conn)?;
    let payment = locked(conn, &facts.reference)?.ok_or(diesel::result::Error::NotFound)?;
    Ok(Ok(payment))
}

/// Merges the facts into the payment and moves the balance to what they make due.
fn reconcile(conn: &mut PgConnection, facts: &Facts) -> Result<Applied> {
    let mut payment = match payment_for(conn, facts)? {
        Ok(payment) => payment,
        Err(reason) => return Ok(Applied::ignored(reason)),
    };
    let was_bought = payment.paid && payment.credits_bought > 0;
    let before = payment.clone();
    payment.merge(facts);
    let mut detail = String::new();
    if payment.paid && payment.package_id.is_none() {
        match package_priced(conn, payment.amount_minor, &payment.currency)? {
            Some((package_id, credits, name)) => {
                payment.package_id = Some(package_id);
                payment.credits_bought = credits;
                detail = format!("{name} package: {credits} credits");
            }
            None => {
                detail = format!(
                    "no package costs {} {}; nothing credited",
                    decimal(payment.amount_minor, &payment.currency),
                    payment.currency
                );
                tracing::warn!(reference = %facts.reference, "{detail}");
            }
        }
    }
    let due = payment.due();
    let delta = due - payment.credits_net;
    let reference = &facts.reference;
    let outcome = match delta {
        0 => Outcome::Unchanged,
        credits if credits > 0 => {
            let (kind, description) = if was_bought {
                (billing::TransactionType::Adjustment, format!("dispute won ({reference})"))
            } else {
                (billing::TransactionType::Purchase, format!("purchase ({reference})"))
            };
            billing::grant(conn, payment.account_id, credits, kind, &description)?;
            Outcome::Credited
        }
        credits => {
            let cause = if payment.disputed_minor > before.disputed_minor { "dispute" } else { "refund" };
            billing::reverse(conn, payment.account_id, -credits, &format!("{cause} of {reference}"))?;
            Outcome::Reversed
        }
    };
    payment.credits_net = due;
    diesel::update(payments::table.find(payment.id))
        .set((
            payments::checkout_session.eq(&payment.checkout_session),
            payments::paid.eq(payment.paid),
            payments::amount_minor.eq(payment.amount_minor),
            payments::currency.eq(&payment.currency),
            payments::package_id.eq(payment.package_id),
            payments::credits_bought.eq(payment.credits_bought),
            payments::refunded_minor.eq(payment.refunded_minor),
            payments::disputed_minor.eq(payment.disputed_minor),
            payments::dispute_won.eq(payment.dispute_won),
            payments::credits_net.eq(payment.credits_net),
            payments::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    if detail.is_empty() {
        detail = format!("{delta:+} credits");
    }
    Ok(Applied {
        outcome,
        payment_id: Some(payment.id),
        account_id: Some(payment.account_id),
        credits: delta,
        detail,
    })
}

/// The active package at this price: (id, credits, name).
fn package_priced(
    conn: &mut PgConnection,
    amount_minor: i64,
    currency: &str,
) -> Result<Option<(i64, i64, String)>> {
    Ok(credit_packages::table
        .filter(credit_packages::active.eq(true))
        .filter(credit_packages::amount_minor.eq(amount_minor))
        .filter(credit_packages::currency.eq(currency))
        .select((credit_packages::id, credit_packages::credits, credit_packages::name))
        .first(conn)
        .optional()?)
}

/// How many decimals a currency's minor unit has (Stripe's zero- and three-decimal lists).
fn exponent(currency: &str) -> u32 {
    match currency {
        "bif" | "clp" | "djf" | "gnf" | "jpy" | "kmf" | "krw" | "mga" | "pyg" | "rwf" | "ugx" | "vnd"
        | "vuv" | "xaf" | "xof" | "xpf" => 0,
        "bhd" | "jod" | "kwd" | "omr" | "tnd" => 3,
        _ => 2,
    }
}

/// An amount in minor units as a decimal string in the major unit (`1050` usd → `"10.50"`).
pub fn decimal(amount_minor: i64, currency: &str) -> String {
    let places = exponent(currency);
    if places == 0 {
        return amount_minor.to_string();
    }
    let scale = 10_i64.pow(places);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let magnitude = amount_minor.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!("{sign}{}.{:0width$}", magnitude / scale, magnitude % scale, width = places as usize)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn facts(event_type: &str, object: Value) -> Facts {
        match read(event_type, &object) {
            Reading::Facts(facts) => facts,
            Reading::Ignored(reason) => panic!("{event_type} ignored: {reason}"),
        }
    }

    fn payment(credits_bought: i64, amount_minor: i64) -> Payment {
        Payment {
            id: 1,
            account_id: 1,
            checkout_session: None,
            paid: true,
            amount_minor,
            currency: "usd".into(),
            package_id: Some(1),
            credits_bought,
            refunded_minor: 0,
            disputed_minor: 0,
            dispute_won: false,
            credits_net: 0,
        }
    }

    #[test]
    fn every_event_of_one_payment_names_its_payment_intent() {
        let session = facts(
            "checkout.session.completed",
            json!({"id": "cs_1", "payment_intent": "pi_1", "payment_status": "paid", "amount_total": 1000, "currency": "USD", "client_reference_id": "7"}),
        );
        assert_eq!(session.reference, "pi_1");
        assert_eq!(session.account_id, Some(7));
        assert_eq!(session.paid, Some(Price { amount_minor: 1000, currency: "usd".into() }));
        let intent = facts(
            "payment_intent.succeeded",
            json!({"id": "pi_1", "status": "succeeded", "amount": 1000, "amount_received": 1000, "currency": "usd"}),
        );
        let charge = facts(
            "charge.succeeded",
            json!({"id": "ch_1", "payment_intent": "pi_1", "paid": true, "status": "succeeded", "amount": 1000, "currency": "usd"}),
        );
        let dispute = facts(
            "charge.dispute.created",
            json!({"id": "dp_1", "charge": "ch_1", "payment_intent": "pi_1", "amount": 1000, "status": "needs_response"}),
        );
        for other in [intent, charge, dispute] {
            assert_eq!(other.reference, "pi_1");
        }
    }

    #[test]
    fn unpaid_sessions_and_other_events_are_ignored() {
        let unpaid =
            json!({"id": "cs_2", "payment_status": "unpaid", "amount_total": 1000, "currency": "usd"});
        assert!(matches!(read("checkout.session.completed", &unpaid), Reading::Ignored(_)));
        let processing = json!({"id": "pi_2", "status": "processing", "amount": 1000, "currency": "usd"});
        assert!(matches!(read("payment_intent.succeeded", &processing), Reading::Ignored(_)));
        assert!(matches!(read("customer.created", &json!({})), Reading::Ignored(_)));
    }

    #[test]
    fn refunds_and_disputes_take_back_their_share_and_a_won_dispute_gives_it_back() {
        let mut paid = payment(1000, 1000);
        assert_eq!(paid.due(), 1000);
        paid.merge(&Facts { refunded_minor: Some(333), ..Facts::default() });
        assert_eq!(paid.due(), 667);
        // The running total arrives again, or an older one late: no further change.
        paid.merge(&Facts { refunded_minor: Some(100), ..Facts::default() });
        assert_eq!(paid.due(), 667);
        paid.merge(&Facts { disputed_minor: Some(667), ..Facts::default() });
        assert_eq!(paid.due(), 0);
        paid.merge(&Facts { dispute_won: true, ..Facts::default() });
        assert_eq!(paid.due(), 667);
        paid.merge(&Facts { disputed_minor: Some(667), ..Facts::default() });
        assert_eq!(paid.due(), 667, "a won dispute stays won");
        let unpaid = Payment { paid: false, ..payment(1000, 1000) };
        assert_eq!(unpaid.due(), 0);
    }

    #[test]
    fn amounts_print_in_the_major_unit() {
        assert_eq!(decimal(1050, "usd"), "10.50");
        assert_eq!(decimal(5, "eur"), "0.05");
        assert_eq!(decimal(2500, "xaf"), "2500");
        assert_eq!(decimal(1234, "kwd"), "1.234");
        assert_eq!(decimal(-250, "usd"), "-2.50");
    }
}
