//! The test harness: the real API on port 0 against a database of the test's own and a
//! broker namespace of its own, with in-process workers on demand: background ones
//! (`start_worker`), or a drain that runs the queued tasks when the test says so
//! (`run_pending_tasks`, `finish`).

use std::{sync::Arc, time::Duration};

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use shared::{
    Config,
    db::{PgPool, models::Task},
    tasks::Queue,
};
use testkit::{DrainError, TaskRunner, TestDb, eventually, proxy::LoopbackProxy};
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "correct-horse-battery";

pub struct TestApp {
    pub address: String,
    pub config: Config,
    pub pool: PgPool,
    pub client: reqwest::Client,
    /// Every outbound fetch of the workers goes through it; it dials only loopback.
    pub proxy: LoopbackProxy,
    workers: Vec<(CancellationToken, tokio::task::JoinHandle<()>)>,
    /// Every queue's handlers, run only in `run_pending_tasks`; connected on first use.
    tasks: tokio::sync::OnceCell<TaskRunner>,
    // Dropped last: the database outlives every connection above.
    _db: TestDb,
}

/// A registered, logged-in user.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub email: String,
    pub access: String,
    pub refresh: String,
    pub user_id: i64,
    pub account_id: i64,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the API with a configuration the test may adjust first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with_clock(adjust, Arc::new(api::SystemClock)).await
}

/// `spawn_app_with`, the throttles reading `clock` (a `ManualClock` the test moves).
pub async fn spawn_app_with_clock(adjust: impl FnOnce(&mut Config), clock: Arc<dyn api::Clock>) -> TestApp {
    shared::telemetry::init_for_tests();
    let db = tokio::task::spawn_blocking(TestDb::new).await.expect("test database");
    let mut config = testkit::config::config(&db);
    let proxy = LoopbackProxy::start().await;
    config.outbound_proxy = Some(proxy.url().to_owned());
    adjust(&mut config);
    let app = api::Application::build_with_clock(config.clone(), clock).await.expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let pool = shared::db::pool(&config.database_url, 4).expect("pool");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    TestApp {
        address,
        config,
        pool,
        client,
        proxy,
        workers: Vec::new(),
        tasks: tokio::sync::OnceCell::new(),
        _db: db,
    }
}

impl TestApp {
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, format!("{}{path}", self.address));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token)).send().await.expect("request sent")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token).json(&body).send().await.expect("request sent")
    }

    /// Registers a new account with an owner and logs in.
    pub async fn signup(&self) -> TestUser {
        let email = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
        let response = self
            .post(
                "/api/v1/auth/register/",
                None,
                json!({ "email": email, "password": PASSWORD, "password_confirm": PASSWORD }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap_or_default());
        self.login(&email, PASSWORD).await
    }

    pub async fn login(&self, email: &str, password: &str) -> TestUser {
        let response =
            self.post("/api/v1/auth/login/", None, json!({ "email": email, "password": password })).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        TestUser {
            email: email.to_owned(),
            access: body["tokens"]["access"].as_str().expect("access token").to_owned(),
            refresh: body["tokens"]["refresh"].as_str().expect("refresh token").to_owned(),
            user_id: body["user"]["id"].as_i64().expect("user id"),
            account_id: body["user"]["account"]["id"].as_i64().expect("account id"),
        }
    }

    /// Enqueues a `system.ping` and returns its task id.
    pub async fn ping(&self, user: &TestUser, payload: Value) -> String {
        let response = self.post("/api/v1/system/ping/", Some(&user.access), payload).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "{}", response.text().await.unwrap_or_default());
        let body: Value = response.json().await.expect("json");
        body["task_id"].as_str().expect("task id").to_owned()
    }

    pub async fn task(&self, user: &TestUser, task_id: &str) -> Value {
        let response = self.get(&format!("/api/v1/tasks/{task_id}"), &user.access).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        body["data"].clone()
    }

    /// Polls the task until its state is `state`.
    pub async fn wait_for_state(&self, user: &TestUser, task_id: &str, state: &str) -> Value {
        eventually(Duration::from_secs(60), &format!("task {task_id} to reach {state}"), || async {
            let task = self.task(user, task_id).await;
            (task["state"] == state).then_some(task)
        })
        .await
    }

    /// Runs every queued task of every queue in this process until none is left open, with
    /// the workers' real handlers; `Err` names each task that failed (see `testkit::tasks`).
    pub async fn run_pending_tasks(&self) -> Result<Vec<Task>, DrainError> {
        let runner = self.tasks.get_or_init(|| TaskRunner::new(&self.config, &self.pool)).await;
        runner.run_pending().await
    }

    /// Runs the queued tasks, every one of which must succeed, and returns `task_id` as the
    /// API shows it.
    pub async fn finish(&self, user: &TestUser, task_id: &str) -> Value {
        if let Err(error) = self.run_pending_tasks().await {
            panic!("{error}");
        }
        let task = self.task(user, task_id).await;
        assert_eq!(task["state"], "SUCCESS", "{task}");
        task
    }

    /// Runs the queued tasks, of which `task_id` and only it must fail, and returns it as the
    /// API shows it.
    pub async fn finish_failed(&self, user: &TestUser, task_id: &str) -> Value {
        match self.run_pending_tasks().await {
            Err(DrainError::Failed { failed, .. })
                if failed.iter().map(|task| task.id.to_string()).eq([task_id.to_owned()]) => {}
            Err(error) => panic!("expected task {task_id} alone to fail: {error}"),
            Ok(finished) => panic!("expected task {task_id} to fail; {} task(s) succeeded", finished.len()),
        }
        self.task(user, task_id).await
    }

    /// Runs an in-process worker for `queue` until the app is dropped.
    pub fn start_worker(&mut self, queue: Queue) {
        let shutdown = CancellationToken::new();
        let worker = workers::worker(queue, self.config.clone(), self.pool.clone());
        let token = shutdown.clone();
        let handle = tokio::spawn(async move {
            worker.run(token).await.expect("worker runs");
        });
        self.workers.push((shutdown, handle));
    }

    /// The served OpenAPI document.
    pub async fn openapi_document(&self) -> Value {
        let response =
            self.client.get(format!("{}/api/v1/openapi.json", self.address)).send().await.expect("document");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }

    /// Puts the user's account on the plan `slug` (`agency` for tests that need room past
    /// the free plan's limits).
    pub async fn on_plan(&self, user: &TestUser, slug: &'static str) {
        let account_id = user.account_id;
        self.sql(move |conn| {
            use diesel::prelude::*;
            use shared::db::schema::accounts;
            let plan = shared::plans::by_slug(conn, slug)?;
            diesel::update(accounts::table.find(account_id))
                .set(accounts::plan_id.eq(plan.id))
                .execute(conn)?;
            Ok(())
        })
        .await;
    }

    /// Runs a query against the test database.
    pub async fn sql<T: Send + 'static>(
        &self,
        query: impl FnOnce(&mut diesel::PgConnection) -> shared::Result<T> + Send + 'static,
    ) -> T {
        shared::db::run(&self.pool, query).await.expect("query")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        for (token, handle) in &self.workers {
            token.cancel();
            handle.abort();
        }
        testkit::config::delete_namespace(&self.config);
    }
}

/// A body that breaks a field's own rules.
pub const INVALID: StatusCode = StatusCode::BAD_REQUEST;
/// A body that names a row the caller cannot see.
pub const MISSING: StatusCode = StatusCode::NOT_FOUND;

/// The `code` and `errors` of an error response, checking its status.
pub async fn error_of(response: Response, status: StatusCode) -> (String, Value) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["success"], false, "{body}");
    (body["code"].as_str().unwrap_or_default().to_owned(), body["errors"].clone())
}
