//! Latency of the progress poll under concurrent pollers.

use std::time::{Duration, Instant};

use crate::{Settings, processes::System};

pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub rate: f64,
}

pub async fn measure(
    settings: &Settings,
    system: &System,
    token: &str,
    task_ids: &[String],
) -> anyhow::Result<Latency> {
    anyhow::ensure!(!task_ids.is_empty(), "no tasks to poll");
    let client = reqwest::Client::builder().pool_max_idle_per_host(settings.pollers).build()?;
    let deadline = Instant::now() + settings.poll_for;
    let mut pollers = tokio::task::JoinSet::new();
    for poller in 0..settings.pollers {
        let client = client.clone();
        let token = token.to_owned();
        let urls: Vec<String> = task_ids
            .iter()
            .skip(poller)
            .step_by(settings.pollers)
            .take(500)
            .map(|id| format!("{}/api/v1/tasks/{id}", system.base_url))
            .collect();
        pollers.spawn(async move {
            let mut latencies = Vec::new();
            for url in urls.iter().cycle() {
                if Instant::now() >= deadline {
                    break;
                }
                let started = Instant::now();
                let response = client.get(url).bearer_auth(&token).send().await?;
                anyhow::ensure!(response.status().is_success(), "poll answered {}", response.status());
                let _ = response.bytes().await?;
                latencies.push(started.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        });
    }
    let mut all: Vec<Duration> = Vec::new();
    while let Some(latencies) = pollers.join_next().await {
        all.extend(latencies??);
    }
    all.sort();
    let at = |quantile: f64| {
        all[((all.len() as f64 * quantile) as usize).min(all.len() - 1)].as_secs_f64() * 1_000.0
    };
    Ok(Latency {
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        rate: all.len() as f64 / settings.poll_for.as_secs_f64(),
    })
}
