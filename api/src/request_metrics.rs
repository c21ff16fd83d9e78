//! What each request cost this API process, kept for a while so an operator can look one up
//! by the `X-Request-Id` it was answered with (`GET system/request-metrics/{request_id}/`).
//!
//! The request middleware ([`Sample::start`] before the handlers, [`Sample::finish`] once the
//! response is built) reads the serving thread's CPU time and storage I/O from procfs and the
//! process's resident memory at the end. What the figures mean:
//!
//! - **CPU** is the time the serving thread spent on a CPU during the request
//!   (`/proc/thread-self/schedstat`, in nanoseconds). An actix worker thread serves several
//!   requests at once, interleaving them at every await, so the figure also holds the others'
//!   share of that thread: an upper bound of this request's own. Work the request handed to
//!   other threads — the database calls run on the blocking pool, PostgreSQL itself — is not
//!   in it. `cpu_percent` is that time over the request's wall time.
//! - **I/O** is what the thread read from and wrote to storage
//!   (`/proc/thread-self/io`: `read_bytes`, `write_bytes`), with the same sharing caveat;
//!   sockets are not storage, so a request that only talks to the database reads 0.
//! - **Memory** is the whole process's resident set (`VmRSS`) when the request ended.
//!
//! A figure procfs does not give (not Linux, a restricted `/proc`) is null.
//!
//! The store is this process's memory: another API replica does not know the id, and a
//! restart forgets everything. It keeps at most `REQUEST_METRICS_MAX_ENTRIES` requests for at
//! most `REQUEST_METRICS_TTL_MINUTES`, the oldest evicted first; an insert is O(1) (amortised
//! over the evictions it makes) under a lock held for no await.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

const MIB: f64 = 1024.0 * 1024.0;
/// Paths are kept this long at most (a request id's answer need not hold a huge URL).
const MAX_PATH_CHARS: usize = 512;

/// One request's resource use.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RequestMetrics {
    /// The id the request was answered with in `X-Request-Id`.
    pub request_id: Uuid,
    /// The serving thread's CPU time over the request's wall time, in percent (an upper bound:
    /// the thread serves other requests meanwhile).
    pub cpu_percent: Option<f64>,
    /// The serving thread's CPU time during the request, in milliseconds.
    pub cpu_time_ms: Option<f64>,
    /// The process's resident memory when the request ended, in MiB.
    pub memory_mb: Option<f64>,
    /// Bytes the serving thread read from storage during the request, in MiB.
    pub io_read_mb: Option<f64>,
    /// Bytes the serving thread wrote to storage during the request, in MiB.
    pub io_write_mb: Option<f64>,
    pub path: String,
    pub method: String,
    /// The answer's status.
    pub status: u16,
    /// From the request reaching the API to its response being built, in milliseconds.
    pub duration_ms: f64,
    pub recorded_at: DateTime<Utc>,
}

/// The thread's counters when a request started.
#[derive(Debug)]
pub struct Sample {
    started: Instant,
    cpu_ns: Option<u64>,
    io: Option<(u64, u64)>,
}

impl Sample {
    /// Reads the serving thread's counters now.
    pub fn start() -> Self {
        Self { started: Instant::now(), cpu_ns: thread_cpu_ns(), io: thread_io() }
    }

    /// What the request cost since [`Sample::start`], on the same thread.
    pub fn finish(
        self,
        request_id: Uuid,
        method: &str,
        path: &str,
        status: u16,
        at: DateTime<Utc>,
    ) -> RequestMetrics {
        let wall = self.started.elapsed();
        let cpu = self.cpu_ns.zip(thread_cpu_ns()).map(|(before, after)| after.saturating_sub(before));
        let io = self.io.zip(thread_io()).map(|((read, written), (read_now, written_now))| {
            (read_now.saturating_sub(read), written_now.saturating_sub(written))
        });
        let wall_ns = wall.as_nanos().max(1) as f64;
        RequestMetrics {
            request_id,
            cpu_percent: cpu.map(|ns| round(ns as f64 / wall_ns * 100.0)),
            cpu_time_ms: cpu.map(|ns| round(ns as f64 / 1e6)),
            memory_mb: process_rss_bytes().map(|bytes| round(bytes as f64 / MIB)),
            io_read_mb: io.map(|(read, _)| round(read as f64 / MIB)),
            io_write_mb: io.map(|(_, written)| round(written as f64 / MIB)),
            path: path.chars().take(MAX_PATH_CHARS).collect(),
            method: method.to_owned(),
            status,
            duration_ms: round(wall.as_secs_f64() * 1_000.0),
            recorded_at: at,
        }
    }
}

/// Three decimals are plenty for any of these figures.
fn round(value: f64) -> f64 {
    (value * 1_000.0).round() / 1_000.0
}

/// Nanoseconds the calling thread has run on a CPU.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Bytes the calling thread has read from and written to storage.
fn thread_io() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/thread-self/io").ok()?;
    let field =
        |name: &str| text.lines().find_map(|line| line.strip_prefix(name)?.trim().parse::<u64>().ok());
    Some((field("read_bytes:")?, field("write_bytes:")?))
}

/// The process's resident set size in bytes.
fn process_rss_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The requests measured lately, by id: at most `capacity`, none older than `ttl`.
#[derive(Debug)]
pub struct RequestMetricsStore {
    capacity: usize,
    ttl: Duration,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_id: HashMap<Uuid, RequestMetrics>,
    /// Ids oldest first, as inserted.
    order: VecDeque<Uuid>,
}

impl RequestMetricsStore {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self { capacity, ttl, inner: Mutex::new(Entries::default()) }
    }

    /// Whether requests are measured at all (a capacity of 0 turns it off).
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    fn expired(&self, entry: &RequestMetrics, now: DateTime<Utc>) -> bool {
        chrono::Duration::from_std(self.ttl).is_ok_and(|ttl| entry.recorded_at + ttl <= now)
    }

    /// Keeps `metrics`, evicting what is expired at `now` and, when full, the oldest.
    pub fn insert(&self, metrics: RequestMetrics, now: DateTime<Utc>) {
        if !self.enabled() {
            return;
        }
        let mut entries = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(oldest) = entries.order.front().copied() {
            let stale = entries.by_id.get(&oldest).is_none_or(|entry| self.expired(entry, now));
            if !stale && entries.order.len() < self.capacity {
                break;
            }
            entries.order.pop_front();
            entries.by_id.remove(&oldest);
        }
        let id = metrics.request_id;
        if entries.by_id.insert(id, metrics).is_none() {
            entries.order.push_back(id);
        }
    }

    /// The request `id`'s metrics, unless evicted or expired at `now`.
    pub fn get(&self, id: Uuid, now: DateTime<Utc>) -> Option<RequestMetrics> {
        let entries = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        entries.by_id.get(&id).filter(|entry| !self.expired(entry, now)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(at: DateTime<Utc>) -> RequestMetrics {
        Sample::start().finish(Uuid::new_v4(), "GET", "/api/v1/system/status", 200, at)
    }

    #[test]
    fn procfs_gives_this_threads_figures_on_linux() {
        let sample = Sample::start();
        let busy: u64 = (0..200_000u64).map(|n| n.wrapping_mul(n) % 7).sum();
        assert!(busy > 0);
        let measured = sample.finish(Uuid::new_v4(), "GET", "/x", 200, Utc::now());
        if cfg!(target_os = "linux") {
            assert!(measured.memory_mb.is_some_and(|mb| mb > 0.0), "{measured:?}");
            assert!(measured.cpu_time_ms.is_some_and(|ms| ms >= 0.0), "{measured:?}");
        }
        assert!(measured.duration_ms >= 0.0);
    }

    #[test]
    fn the_oldest_is_evicted_when_full_and_nothing_outlives_the_ttl() {
        let start = DateTime::<Utc>::from_timestamp(1_000, 0).expect("a time");
        let store = RequestMetricsStore::new(2, Duration::from_secs(60));
        let (first, second, third) = (metrics(start), metrics(start), metrics(start));
        let ids = [first.request_id, second.request_id, third.request_id];
        for entry in [first, second, third] {
            store.insert(entry, start);
        }
        assert!(store.get(ids[0], start).is_none(), "evicted when the third came");
        assert!(store.get(ids[1], start).is_some() && store.get(ids[2], start).is_some());
        let later = start + chrono::Duration::seconds(60);
        assert!(store.get(ids[2], later).is_none(), "expired");
        let fresh = metrics(later);
        let fresh_id = fresh.request_id;
        store.insert(fresh, later);
        assert_eq!(store.inner.lock().expect("lock").order.len(), 1, "the expired ones went on insert");
        assert!(store.get(fresh_id, later).is_some());
    }

    #[test]
    fn a_capacity_of_zero_keeps_nothing() {
        let store = RequestMetricsStore::new(0, Duration::from_secs(60));
        let entry = metrics(Utc::now());
        let id = entry.request_id;
        store.insert(entry, Utc::now());
        assert!(!store.enabled() && store.get(id, Utc::now()).is_none());
    }
}
