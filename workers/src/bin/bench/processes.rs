//! The system under test: the real `api` and `worker-clustering` binaries, started as
//! processes next to this one.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::Settings;

pub struct System {
    api: Child,
    workers: Vec<Child>,
    pub base_url: String,
}

fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name(name);
    anyhow::ensure!(path.exists(), "{} not built (run `cargo build --release --bins`)", path.display());
    Ok(path)
}

pub(crate) fn command(settings: &Settings, name: &str) -> anyhow::Result<Command> {
    let mut command = Command::new(binary(name)?);
    command
        .env("DATABASE_URL", &settings.database_url)
        .env("AMQP_URL", &settings.amqp_url)
        .env("AMQP_NAMESPACE", &settings.namespace)
        .env("JWT_SECRET", "bench-secret-bench-secret-bench-secret")
        .env("RATE_LIMIT_USER_PER_MINUTE", "1000000000")
        .env("RATE_LIMIT_ANON_PER_MINUTE", "1000000000")
        .env("RUST_LOG", std::env::var("BENCH_LOG").unwrap_or_else(|_| "warn".into()))
        .stdout(if std::env::var_os("BENCH_LOG").is_some() { Stdio::inherit() } else { Stdio::null() })
        .stderr(Stdio::inherit());
    Ok(command)
}

impl System {
    pub async fn start(settings: &Settings) -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let api = command(settings, "api")?
            .env("API_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_POOL_SIZE", "16")
            .spawn()?;
        let mut workers = Vec::new();
        for _ in 0..settings.workers {
            workers.push(
                command(settings, "worker-clustering")?
                    .env("WORKER_PREFETCH", settings.prefetch.to_string())
                    .env("DATABASE_POOL_SIZE", "8")
                    .spawn()?,
            );
        }
        let system = System { api, workers, base_url: format!("http://127.0.0.1:{port}") };
        system.wait_until_ready(settings.workers).await?;
        Ok(system)
    }

    async fn wait_until_ready(&self, workers: usize) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(response) = client.get(format!("{}/api/v1/system/status/", self.base_url)).send().await
                && let Ok(body) = response.json::<serde_json::Value>().await
                && body["workers"]["clustering"].as_u64() == Some(workers as u64)
            {
                // Let the idle processes settle before their memory is read.
                tokio::time::sleep(Duration::from_secs(2)).await;
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the API and workers did not come up within 30 s")
    }

    pub fn worker_rss_mib(&self) -> Vec<f64> {
        self.workers.iter().map(|worker| rss_mib(worker.id())).collect()
    }

    pub fn api_rss_mib(&self) -> f64 {
        rss_mib(self.api.id())
    }

    pub async fn stop(mut self) {
        for child in self.workers.iter_mut().chain(std::iter::once(&mut self.api)) {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        }
        for mut child in self.workers.drain(..).chain(std::iter::once(self.api)) {
            let _ = tokio::task::spawn_blocking(move || child.wait()).await;
        }
    }
}

/// Resident memory of a process, from /proc.
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}
