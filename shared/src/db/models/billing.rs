use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::db::schema::{credit_transactions, credit_usage_logs};

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = credit_transactions, check_for_backend(diesel::pg::Pg))]
pub struct CreditTransaction {
    pub id: i64,
    pub account_id: i64,
    pub transaction_type: crate::billing::TransactionType,
    pub amount: i64,
    pub balance_after: i64,
    pub description: String,
    pub task_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = credit_usage_logs, check_for_backend(diesel::pg::Pg))]
pub struct CreditUsageLog {
    pub id: i64,
    pub account_id: i64,
    pub operation_type: String,
    pub credits_used: i64,
    /// The provider's estimated cost in US dollars, a decimal string.
    #[schema(value_type = String, example = "0.001250")]
    pub cost_usd: rust_decimal::Decimal,
    pub model_used: String,
    pub tokens_input: i32,
    pub tokens_output: i32,
    pub units: i32,
    pub task_id: Option<Uuid>,
    pub related_object_type: Option<String>,
    pub related_object_id: Option<String>,
    pub created_at: DateTime<Utc>,
}
