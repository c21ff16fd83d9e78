//! A fake Odoo for tests: JSON-RPC at `/jsonrpc` on 127.0.0.1, answering
//! like Odoo — `common.version`, `common.login` (`false` for wrong credentials),
//! `object.execute_kw` with `search_read`, `search`, `read`, `create` and `write` over records
//! kept in memory, domains in Odoo's prefix notation (`|`, `&`, `!`; `=`, `!=`, `>`, `>=`,
//! `<`, `<=`, `in`, `not in`), `order`, `limit`, `offset`, and `active_test` in the context.
//! Faults come back as Odoo sends them (`{"error": {"code": 200, "data": {"name":
//! "odoo.exceptions.AccessDenied", …}}}`). Every change stamps `write_date` from a clock that
//! moves one second per change, so incremental syncs can be tested exactly. `set_down` makes
//! it answer 503; `fail_after(n)` lets n more calls through first.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use actix_web::{HttpResponse, dev::ServerHandle, web};
use chrono::{Duration as Span, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value, json};

const UID: i64 = 2;

struct State {
    records: BTreeMap<String, BTreeMap<i64, Map<String, Value>>>,
    next_id: i64,
    clock: NaiveDateTime,
    down: bool,
    /// Calls let through before going down.
    fail_after: Option<usize>,
    calls: usize,
}

struct Inner {
    database: String,
    login: String,
    key: String,
    state: Mutex<State>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub struct FakeOdoo {
    url: String,
    inner: Arc<Inner>,
    handle: ServerHandle,
}

impl FakeOdoo {
    pub async fn start() -> Self {
        let (listener, port) = crate::serve::loopback_listener();
        let clock =
            NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|day| day.and_hms_opt(0, 0, 0)).unwrap_or_default();
        let inner = Arc::new(Inner {
            database: "shop".to_owned(),
            login: "sync@example.com".to_owned(),
            key: format!("odoo-key-{}", uuid::Uuid::new_v4().simple()),
            state: Mutex::new(State {
                records: BTreeMap::new(),
                next_id: 1,
                clock,
                down: false,
                fail_after: None,
                calls: 0,
            }),
        });
        let handle = crate::serve::serve_fake(listener, inner.clone(), handle);
        Self { url: format!("http://127.0.0.1:{port}"), inner, handle }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn database(&self) -> &str {
        &self.inner.database
    }

    pub fn login(&self) -> &str {
        &self.inner.login
    }

    pub fn api_key(&self) -> &str {
        &self.inner.key
    }

    /// Adds a record (`active` defaults to true) and returns its id.
    pub fn insert(&self, model: &str, values: Value) -> i64 {
        let mut state = self.inner.state();
        let id = state.next_id;
        state.next_id += 1;
        let mut record = values.as_object().cloned().unwrap_or_default();
        record.insert("id".into(), json!(id));
        record.entry("active").or_insert(json!(true));
        stamp(&mut state, &mut record);
        state.records.entry(model.to_owned()).or_default().insert(id, record);
        id
    }

    /// Changes fields of a record, as an Odoo user would.
    pub fn update(&self, model: &str, id: i64, values: Value) {
        let mut state = self.inner.state();
        let Some(mut record) = state.records.get_mut(model).and_then(|records| records.remove(&id)) else {
            return;
        };
        for (field, value) in values.as_object().cloned().unwrap_or_default() {
            record.insert(field, value);
        }
        stamp(&mut state, &mut record);
        state.records.entry(model.to_owned()).or_default().insert(id, record);
    }

    /// Deletes a record for good (no trace for incremental syncs).
    pub fn delete(&self, model: &str, id: i64) {
        if let Some(records) = self.inner.state().records.get_mut(model) {
            records.remove(&id);
        }
    }

    pub fn records(&self, model: &str) -> Vec<Value> {
        let state = self.inner.state();
        state
            .records
            .get(model)
            .map(|records| records.values().map(|r| Value::Object(r.clone())).collect())
            .unwrap_or_default()
    }

    pub fn set_down(&self, down: bool) {
        let mut state = self.inner.state();
        state.down = down;
        state.fail_after = None;
    }

    /// Answers `calls` more calls, then goes down.
    pub fn fail_after(&self, calls: usize) {
        self.inner.state().fail_after = Some(calls);
    }

    pub fn calls(&self) -> usize {
        self.inner.state().calls
    }
}

impl Drop for FakeOdoo {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn stamp(state: &mut State, record: &mut Map<String, Value>) {
    state.clock += Span::seconds(1);
    record.insert("write_date".into(), json!(state.clock.format("%Y-%m-%d %H:%M:%S").to_string()));
}

fn fault(name: &str, message: &str, id: &Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {
            "code": 200,
            "message": "Odoo Server Error",
            "data": { "name": name, "debug": "Traceback (most recent call last): …", "message": message, "arguments": [message] },
        },
    }))
}

fn result(value: Value, id: &Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "jsonrpc": "2.0", "id": id, "result": value }))
}

async fn handle(body: web::Bytes, inner: web::Data<Inner>) -> HttpResponse {
    {
        let mut state = inner.state();
        state.calls += 1;
        if let Some(left) = state.fail_after {
            if left == 0 {
                state.down = true;
            } else {
                state.fail_after = Some(left - 1);
            }
        }
        if state.down {
            return HttpResponse::ServiceUnavailable().body("<html><body>502 Bad Gateway</body></html>");
        }
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) => return fault("werkzeug.exceptions.BadRequest", "Invalid JSON data", &Value::Null),
    };
    let id = request["id"].clone();
    let params = &request["params"];
    let args = params["args"].as_array().cloned().unwrap_or_default();
    match (params["service"].as_str(), params["method"].as_str()) {
        (Some("common"), Some("version")) => result(
            json!({ "server_version": "17.0", "server_version_info": [17, 0, 0, "final", 0, ""], "protocol_version": 1 }),
            &id,
        ),
        (Some("common"), Some("login" | "authenticate")) => {
            let ok = args.first().and_then(Value::as_str) == Some(inner.database.as_str())
                && args.get(1).and_then(Value::as_str) == Some(inner.login.as_str())
                && args.get(2).and_then(Value::as_str) == Some(inner.key.as_str());
            if args.first().and_then(Value::as_str) != Some(inner.database.as_str()) {
                return fault("psycopg2.OperationalError", "database does not exist", &id);
            }
            result(if ok { json!(UID) } else { json!(false) }, &id)
        }
        (Some("object"), Some("execute_kw" | "execute")) => execute(&inner, &args, &id),
        _ => fault("builtins.Exception", "unknown service or method", &id),
    }
}

fn execute(inner: &Inner, args: &[Value], id: &Value) -> HttpResponse {
    let authorized = args.first().and_then(Value::as_str) == Some(inner.database.as_str())
        && args.get(1).and_then(Value::as_i64) == Some(UID)
        && args.get(2).and_then(Value::as_str) == Some(inner.key.as_str());
    if !authorized {
        return fault("odoo.exceptions.AccessDenied", "Access Denied", id);
    }
    let (Some(model), Some(method)) =
        (args.get(3).and_then(Value::as_str), args.get(4).and_then(Value::as_str))
    else {
        return fault("builtins.TypeError", "execute_kw() missing model or method", id);
    };
    let positional = args.get(5).and_then(Value::as_array).cloned().unwrap_or_default();
    let kwargs = args.get(6).cloned().unwrap_or(json!({}));
    let mut state = inner.state();
    let known = ["res.partner", "project.project", "project.task", "account.move", "crm.lead"];
    if !known.contains(&model) {
        return fault("builtins.KeyError", &format!("'{model}'"), id);
    }
    let active_test = kwargs["context"]["active_test"].as_bool().unwrap_or(true);
    match method {
        "search_read" | "search" => {
            let domain = positional.first().cloned().unwrap_or(json!([]));
            let mut found: Vec<Map<String, Value>> = state
                .records
                .get(model)
                .map(|records| records.values().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .filter(|record| !active_test || record.get("active") != Some(&json!(false)))
                .filter(|record| matches(&domain, record))
                .collect();
            sort(&mut found, kwargs["order"].as_str().unwrap_or("id asc"));
            let offset = kwargs["offset"].as_u64().unwrap_or(0) as usize;
            let limit = kwargs["limit"].as_u64().map_or(usize::MAX, |l| l as usize);
            let page = found.into_iter().skip(offset).take(limit);
            if method == "search" {
                return result(json!(page.map(|r| r["id"].clone()).collect::<Vec<_>>()), id);
            }
            let fields: Vec<String> = kwargs["fields"]
                .as_array()
                .map(|f| f.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            result(json!(page.map(|record| project(&record, &fields)).collect::<Vec<_>>()), id)
        }
        "read" => {
            let ids: Vec<i64> = positional
                .first()
                .and_then(Value::as_array)
                .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            let records = state.records.get(model);
            let mut out = Vec::new();
            for wanted in ids {
                match records.and_then(|r| r.get(&wanted)) {
                    Some(record) => out.push(Value::Object(record.clone())),
                    None => {
                        return fault(
                            "odoo.exceptions.MissingError",
                            &format!(
                                "Record does not exist or has been deleted. (Record: {model}({wanted},))"
                            ),
                            id,
                        );
                    }
                }
            }
            result(json!(out), id)
        }
        "create" => {
            let Some(values) = positional.first().and_then(Value::as_object).cloned() else {
                return fault("builtins.TypeError", "create() needs values", id);
            };
            if model == "crm.lead" && values.get("name").and_then(Value::as_str).is_none_or(str::is_empty) {
                return fault(
                    "odoo.exceptions.ValidationError",
                    "The field 'Opportunity' (name) is required.",
                    id,
                );
            }
            let new_id = state.next_id;
            state.next_id += 1;
            let mut record = values;
            record.insert("id".into(), json!(new_id));
            record.entry("active").or_insert(json!(true));
            stamp(&mut state, &mut record);
            state.records.entry(model.to_owned()).or_default().insert(new_id, record);
            result(json!(new_id), id)
        }
        "write" => {
            let ids: Vec<i64> = positional
                .first()
                .and_then(Value::as_array)
                .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            let values = positional.get(1).and_then(Value::as_object).cloned().unwrap_or_default();
            for wanted in ids {
                let Some(mut record) = state.records.get_mut(model).and_then(|r| r.remove(&wanted)) else {
                    return fault(
                        "odoo.exceptions.MissingError",
                        "Record does not exist or has been deleted.",
                        id,
                    );
                };
                record.extend(values.clone());
                stamp(&mut state, &mut record);
                state.records.entry(model.to_owned()).or_default().insert(wanted, record);
            }
            result(json!(true), id)
        }
        other => {
            fault("builtins.AttributeError", &format!("type object '{model}' has no attribute '{other}'"), id)
        }
    }
}

fn project(record: &Map<String, Value>, fields: &[String]) -> Value {
    if fields.is_empty() {
        return Value::Object(record.clone());
    }
    let mut out = Map::new();
    out.insert("id".into(), record["id"].clone());
    for field in fields {
        // Odoo answers `false` for a field without a value.
        out.insert(field.clone(), record.get(field).cloned().unwrap_or(json!(false)));
    }
    Value::Object(out)
}

fn sort(records: &mut [Map<String, Value>], order: &str) {
    let keys: Vec<(String, bool)> = order
        .split(',')
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            let field = words.next()?.to_owned();
            let descending = words.next().is_some_and(|dir| dir.eq_ignore_ascii_case("desc"));
            Some((field, descending))
        })
        .collect();
    records.sort_by(|a, b| {
        for (field, descending) in &keys {
            let ordering =
                compare(a.get(field).unwrap_or(&Value::Null), b.get(field).unwrap_or(&Value::Null));
            if ordering != std::cmp::Ordering::Equal {
                return if *descending { ordering.reverse() } else { ordering };
            }
        }
        std::cmp::Ordering::Equal
    });
}

fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.as_str().unwrap_or_default().cmp(b.as_str().unwrap_or_default()),
    }
}

/// Evaluates a domain in prefix notation (implicit `&` between terms).
fn matches(domain: &Value, record: &Map<String, Value>) -> bool {
    let items = domain.as_array().cloned().unwrap_or_default();
    let mut position = 0;
    let mut results = Vec::new();
    while position < items.len() {
        let (value, next) = evaluate(&items, position, record);
        results.push(value);
        position = next;
    }
    results.into_iter().all(|value| value)
}

fn evaluate(items: &[Value], at: usize, record: &Map<String, Value>) -> (bool, usize) {
    match items.get(at) {
        Some(Value::String(op)) if op == "|" || op == "&" => {
            let (left, next) = evaluate(items, at + 1, record);
            let (right, after) = evaluate(items, next, record);
            (if op == "|" { left || right } else { left && right }, after)
        }
        Some(Value::String(op)) if op == "!" => {
            let (inner, next) = evaluate(items, at + 1, record);
            (!inner, next)
        }
        Some(Value::Array(term)) => (term_matches(term, record), at + 1),
        _ => (true, at + 1),
    }
}

fn term_matches(term: &[Value], record: &Map<String, Value>) -> bool {
    let (Some(field), Some(op), Some(value)) =
        (term.first().and_then(Value::as_str), term.get(1).and_then(Value::as_str), term.get(2))
    else {
        return false;
    };
    let actual = record.get(field).cloned().unwrap_or(json!(false));
    let ordering = compare(&actual, value);
    match op {
        "=" => actual == *value || ordering == std::cmp::Ordering::Equal && !value.is_boolean(),
        "!=" => actual != *value,
        ">" => ordering == std::cmp::Ordering::Greater,
        ">=" => ordering != std::cmp::Ordering::Less,
        "<" => ordering == std::cmp::Ordering::Less,
        "<=" => ordering != std::cmp::Ordering::Greater,
        "in" => value.as_array().is_some_and(|options| options.contains(&actual)),
        "not in" => value.as_array().is_some_and(|options| !options.contains(&actual)),
        _ => false,
    }
}
