//! `GET /api/v1/tasks/{id}/events`: Server-Sent Events until the task is terminal. Each
//! change of the row is one `progress` event (the terminal one is named after its state).
//! Broker events wake the stream; a periodic re-read covers lost events.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use futures_util::stream;
use shared::db::models::Task;
use tokio::{sync::broadcast, time::Instant};
use utoipa::{
    ToSchema,
    openapi::{Object, ObjectBuilder, OneOfBuilder, Ref, Schema, Type},
};
use uuid::Uuid;

use super::tasks::{TaskProgress, load};
use crate::{
    error::ApiError,
    extract::{AuthUser, PathId},
    state::AppState,
};

const RECHECK_EVERY: Duration = Duration::from_secs(1);
const KEEPALIVE_EVERY: Duration = Duration::from_secs(15);

struct Stream {
    state: web::Data<AppState>,
    account_id: i64,
    task_id: Uuid,
    wakeups: broadcast::Receiver<Uuid>,
    last_revision: Option<i64>,
    last_sent: Instant,
    done: bool,
}

/// Server-Sent Events: a `progress` event (`{"state", "meta"}`) per change of the task, the
/// last one named after its terminal state; comments keep the connection alive.
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path, description = "The task id.")),
    responses((status = 200, description = "An event stream until the task is terminal.", content_type = "text/event-stream", body = TaskEvent)),
)]
#[get("/tasks/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<Uuid>,
) -> Result<HttpResponse, ApiError> {
    // Subscribe before the first read so no change between the two is missed.
    let wakeups = state.events.subscribe();
    load(&state, auth.account_id, id.0).await?;
    let stream = Stream {
        state: state.clone(),
        account_id: auth.account_id,
        task_id: id.0,
        wakeups,
        last_revision: None,
        last_sent: Instant::now(),
        done: false,
    };
    let body = stream::unfold(stream, |mut stream| async move {
        let chunk = stream.next_chunk().await?;
        Some((Ok::<_, actix_web::Error>(web::Bytes::from(chunk)), stream))
    });
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "text/event-stream"))
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        // Compressing would hold events back until the encoder's buffer fills.
        .insert_header(("Content-Encoding", "identity"))
        .streaming(body))
}

/// One event of the stream, as a client's event source reads it.
#[derive(ToSchema)]
#[allow(dead_code)] // Documents the wire format; the stream writes it by hand.
struct TaskEvent {
    /// The task's revision; absent on `error`.
    #[schema(required = false)]
    id: String,
    /// `progress` while the task runs; then the terminal state (`success`, `failure`,
    /// `revoked`), or `error` when the task is gone.
    #[schema(pattern = "^(progress|success|failure|revoked|error)$")]
    event: String,
    /// The task's progress as JSON (`{"code": "not_found"}` on `error`).
    #[schema(schema_with = event_data)]
    data: String,
}

fn event_data() -> Object {
    let gone = ObjectBuilder::new()
        .property("code", ObjectBuilder::new().schema_type(Type::String))
        .required("code")
        .build();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .content_media_type("application/json")
        .content_schema(Some(Schema::OneOf(
            OneOfBuilder::new().item(Ref::from_schema_name("TaskProgress")).item(gone).build(),
        )))
        .build()
}

impl Stream {
    /// The next chunk to send, or `None` when the stream is over.
    async fn next_chunk(&mut self) -> Option<String> {
        if self.done {
            return None;
        }
        loop {
            match load(&self.state, self.account_id, self.task_id).await {
                Ok(task) if Some(task.revision) != self.last_revision => return Some(self.event(&task)),
                Ok(_) => {}
                Err(ApiError::NotFound { .. }) => {
                    self.done = true;
                    return Some("event: error\ndata: {\"code\":\"not_found\"}\n\n".to_owned());
                }
                // A transient failure: keep the stream, try again after the next wait.
                Err(_) => {}
            }
            if let Some(keepalive) = self.wait().await {
                return Some(keepalive);
            }
        }
    }

    fn event(&mut self, task: &Task) -> String {
        self.last_revision = Some(task.revision);
        self.last_sent = Instant::now();
        let name = if task.state.is_terminal() {
            self.done = true;
            task.state.as_str().to_lowercase()
        } else {
            "progress".to_owned()
        };
        let data = TaskProgress { task_id: Some(task.id), ..TaskProgress::from(task) };
        let data = serde_json::to_string(&data).unwrap_or_default();
        format!("id: {}\nevent: {name}\ndata: {data}\n\n", task.revision)
    }

    /// Waits for an event about this task or the re-check interval; returns a keep-alive
    /// comment when the connection has been quiet for too long.
    async fn wait(&mut self) -> Option<String> {
        let deadline = Instant::now() + RECHECK_EVERY;
        loop {
            tokio::select! {
                received = self.wakeups.recv() => match received {
                    Ok(id) if id == self.task_id => return None,
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => return None,
                    Err(broadcast::error::RecvError::Closed) => {
                        tokio::time::sleep_until(deadline).await;
                        return None;
                    }
                },
                () = tokio::time::sleep_until(deadline) => {
                    if self.last_sent.elapsed() >= KEEPALIVE_EVERY {
                        self.last_sent = Instant::now();
                        return Some(": keep-alive\n\n".to_owned());
                    }
                    return None;
                }
            }
        }
    }
}
