//! `/api/v1/billing/…`: buying credits. The credit packages on sale, the account's payments,
//! and the webhook of the platform's own payment account (Stripe), which is the only way money
//! becomes credits (see `shared::payments`). Tenants never see or hold its secret; their own
//! `payments` webhook endpoints only enqueue commands.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use shared::{
    db::schema::{credit_packages, payments},
    payments::{self as platform, Applied, Event},
    webhooks,
};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    error::{ApiError, ErrorBody},
    extract::{AuthUser, JSON_LIMIT},
    response::{self, Data, Page, PageParams},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/billing").service(packages).service(payments_list).service(payment_webhook),
    );
}

/// A credit package on sale: paying its price buys its credits.
#[derive(Debug, Serialize, ToSchema)]
struct CreditPackage {
    #[schema(example = "starter")]
    code: String,
    name: String,
    credits: i64,
    /// The price in the currency's major unit, as a decimal string.
    #[schema(example = "10.00")]
    price: String,
    /// ISO 4217, lower case.
    #[schema(example = "usd")]
    currency: String,
}

/// The credit packages on sale, cheapest first.
#[utoipa::path(tag = "billing", responses((status = 200, body = Data<Vec<CreditPackage>>)))]
#[get("/packages")]
async fn packages(state: web::Data<AppState>, _auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let rows: Vec<(String, String, i64, i64, String)> = state
        .db(|conn| {
            use credit_packages as p;
            Ok(p::table
                .filter(p::active.eq(true))
                .order((p::currency, p::amount_minor))
                .select((p::code, p::name, p::credits, p::amount_minor, p::currency))
                .load(conn)?)
        })
        .await?;
    let packages: Vec<CreditPackage> = rows
        .into_iter()
        .map(|(code, name, credits, amount_minor, currency)| CreditPackage {
            code,
            name,
            credits,
            price: platform::decimal(amount_minor, &currency),
            currency,
        })
        .collect();
    Ok(response::ok(packages))
}

/// Where a payment stands.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum PaymentStatus {
    /// Announced, its money not yet arrived.
    Pending,
    Paid,
    PartiallyRefunded,
    Refunded,
    /// Money held by an open or lost dispute.
    Disputed,
}

/// One payment of the account.
#[derive(Debug, Serialize, ToSchema)]
struct Payment {
    id: i64,
    /// The provider's PaymentIntent (or Checkout Session) id.
    #[schema(example = "pi_3Nx…")]
    reference: String,
    status: PaymentStatus,
    /// The amount paid in the currency's major unit, as a decimal string.
    #[schema(example = "10.00")]
    amount: String,
    currency: String,
    /// The package it bought, if its amount matched one.
    package: Option<String>,
    /// Credits it has added, net of refunds and disputes.
    credits: i64,
    refunded: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

type PaymentRow =
    (i64, String, bool, i64, String, Option<String>, i64, i64, i64, DateTime<Utc>, DateTime<Utc>);

fn payment_view(row: PaymentRow) -> Payment {
    let (id, reference, paid, amount, currency, package, credits, refunded, disputed, created_at, updated_at) =
        row;
    let status = match () {
        _ if !paid => PaymentStatus::Pending,
        _ if disputed > 0 => PaymentStatus::Disputed,
        _ if refunded >= amount => PaymentStatus::Refunded,
        _ if refunded > 0 => PaymentStatus::PartiallyRefunded,
        _ => PaymentStatus::Paid,
    };
    Payment {
        id,
        reference,
        status,
        amount: platform::decimal(amount, &currency),
        refunded: platform::decimal(refunded, &currency),
        currency,
        package,
        credits,
        created_at,
        updated_at,
    }
}

/// The account's payments, newest first.
#[utoipa::path(tag = "billing", params(PageParams), responses((status = 200, body = Page<Payment>)))]
#[get("/payments")]
async fn payments_list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
) -> Result<HttpResponse, ApiError> {
    let account_id = auth.account_id;
    let (rows, count) = state
        .db(move |conn| {
            let count: i64 =
                payments::table.filter(payments::account_id.eq(account_id)).count().get_result(conn)?;
            let rows: Vec<PaymentRow> = payments::table
                .left_join(credit_packages::table)
                .filter(payments::account_id.eq(account_id))
                .order(payments::id.desc())
                .offset(page.offset())
                .limit(page.size())
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
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows.into_iter().map(payment_view).collect()))
}

/// What the payments webhook did with an event.
#[derive(Debug, Serialize, ToSchema)]
struct PaymentEventReceipt {
    /// `credited`, `reversed`, `unchanged`, `ignored`, or `duplicate` (this event id was
    /// received before; nothing was done again).
    #[schema(example = "credited")]
    status: &'static str,
    event_id: String,
    /// Credits added (positive) or taken back (negative).
    credits: i64,
    detail: String,
}

/// The platform payment account's webhook (Stripe), signed
/// `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">` with the
/// operators' secret, within five minutes of now. A paid Checkout Session, PaymentIntent or
/// Charge of the package's price buys its credits once per payment; `charge.refunded` and
/// `charge.dispute.created` take them back, `charge.dispute.closed` (won) returns them.
/// Every other event is stored and ignored.
#[utoipa::path(
    tag = "billing",
    security(()),
    params(
        ("Stripe-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex>`."),
    ),
    request_body(content = Object, content_type = "application/json", description = "A Stripe event, signed as it is sent."),
    responses(
        (status = 200, body = Data<PaymentEventReceipt>),
        (status = 400, description = "The body is not a JSON event, or its `id` or `type` is missing or holds NUL.", body = ErrorBody),
        (status = 401, description = "The signature is missing, wrong or stale.", body = ErrorBody),
        (status = 503, description = "No payment account is configured (`payments_not_configured`).", body = ErrorBody),
    ),
)]
#[post("/payments/webhook")]
async fn payment_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let secret = state.config.payments_webhook_secret_bytes().ok_or_else(|| ApiError::Unavailable {
        code: "payments_not_configured",
        message: "This deployment takes no payments.".into(),
    })?;
    let body = crate::body::read_limited(payload, JSON_LIMIT, "body").await?;
    let signature = req.headers().get("stripe-signature").and_then(|value| value.to_str().ok());
    if let Err(error) = webhooks::verify_payment(secret, &body, signature, Utc::now().timestamp()) {
        tracing::warn!(code = error.code(), "payment webhook refused");
        return Err(ApiError::unauthorized(error.code(), error.to_string()));
    }
    let event: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::field("body", "The body is not JSON."))?;
    crate::extract::refuse_nul(&event)?;
    let id = required_text(&event, "id")?;
    let event_type = required_text(&event, "type")?;
    let text = String::from_utf8_lossy(&body).into_owned();
    let event_id = id.clone();
    let applied = state
        .db(move |conn| {
            let event =
                Event { id: &id, event_type: &event_type, object: &event["data"]["object"], body: &text };
            platform::apply(conn, &event)
        })
        .await?;
    let receipt = match applied {
        Some(Applied { outcome, credits, detail, account_id, .. }) => {
            tracing::info!(
                event_id,
                outcome = outcome.as_str(),
                credits,
                ?account_id,
                "payment event applied"
            );
            PaymentEventReceipt { status: outcome.as_str(), event_id, credits, detail }
        }
        None => PaymentEventReceipt {
            status: "duplicate",
            event_id,
            credits: 0,
            detail: "received before".into(),
        },
    };
    Ok(response::ok(receipt))
}

/// A field of the event that must be a non-empty string of at most 255 characters.
fn required_text(event: &Value, field: &str) -> Result<String, ApiError> {
    match event[field].as_str().map(str::trim) {
        Some(text) if !text.is_empty() && text.chars().count() <= 255 => Ok(text.to_owned()),
        Some(text) if !text.is_empty() => Err(ApiError::field(field, "Must be at most 255 characters.")),
        _ => Err(ApiError::field(field, "This field is required.")),
    }
}
