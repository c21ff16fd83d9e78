//! `/api/v1/billing/…`: buying credits. The credit packages on sale, the account's payments,
//! and the webhook of the platform's own payment account (Stripe), which is the only way money
//! becomes credits (see `shared::payments`). Tenants never see or hold its secret; their own
//! `payments` webhook endpoints only enqueue commands.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use shared::{
    payments::{
        self as platform, Applied, Event,
        records::{self, PaymentStatus, Record},
    },
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
    let packages: Vec<CreditPackage> = state
        .db(records::on_sale)
        .await?
        .into_iter()
        .map(|package| CreditPackage {
            price: platform::decimal(package.amount_minor, &package.currency),
            code: package.code,
            name: package.name,
            credits: package.credits,
            currency: package.currency,
        })
        .collect();
    Ok(response::ok(packages))
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

impl From<Record> for Payment {
    fn from(record: Record) -> Self {
        Payment {
            status: record.status(),
            amount: platform::decimal(record.amount_minor, &record.currency),
            refunded: platform::decimal(record.refunded_minor, &record.currency),
            id: record.id,
            reference: record.reference,
            currency: record.currency,
            package: record.package,
            credits: record.credits_net,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
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
    let (account, window) = (auth.account(), page.window());
    let (rows, count) = state.db(move |conn| records::of_account(conn, account, window)).await?;
    Ok(response::paginated(&req, page, count, rows.into_iter().map(Payment::from).collect::<Vec<_>>()))
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
