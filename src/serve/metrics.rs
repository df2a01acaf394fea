//! `GET /metrics`: the service's state in the Prometheus text format.

use super::Shared;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Escapes a label value (backslash, quote, line end).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, rows: &[(String, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in rows {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

/// How old the per-clause counts of `/metrics` may be before a scrape judges again. Judging
/// as of now ends a copy of the whole state (seconds at a hundred thousand cases kept): a
/// monitoring system scraping every few seconds must not make the service do that each time.
pub const JUDGED_MAX_AGE: Duration = Duration::from_secs(30);

/// The per-clause counts a check ending now would give, and when they were judged.
pub struct Judged {
    at: Instant,
    summary: serde_json::Value,
}

/// The per-clause counts, judged now unless those judged last are younger than
/// [`JUDGED_MAX_AGE`]; and their age. Scrapes that come together wait for one judging.
fn judged(shared: &Shared) -> (serde_json::Value, Duration) {
    let mut judged = shared.judged.lock().unwrap_or_else(|p| p.into_inner());
    match judged.as_ref() {
        Some(j) if j.at.elapsed() < JUDGED_MAX_AGE => (j.summary.clone(), j.at.elapsed()),
        _ => {
            let summary = shared.fork().finish_summary().summary_json();
            *judged = Some(Judged {
                at: Instant::now(),
                summary: summary.clone(),
            });
            (summary, Duration::ZERO)
        }
    }
}

/// The metrics text, from the live engine (events, open cases, time), the per-clause counts of
/// a finished fork of it (as `GET /summary` gives them, at most [`JUDGED_MAX_AGE`] old) and
/// the service's counters.
pub fn render(shared: &Shared) -> Result<String, String> {
    let (open, watermark, accepted, rejected) = {
        let engine = shared.engine();
        let so_far = engine.summary_so_far();
        (
            engine.open_cases(),
            engine.watermark(),
            so_far.accepted,
            so_far.rejected,
        )
    };
    let (summary, age) = judged(shared);
    let mut out = String::new();
    let one = |v: f64| vec![(String::new(), v)];
    metric(
        &mut out,
        "pledge_events_accepted_total",
        "counter",
        "Events accepted.",
        &one(accepted as f64),
    );
    metric(
        &mut out,
        "pledge_events_rejected_total",
        "counter",
        "Input lines and events rejected.",
        &one(rejected as f64),
    );
    metric(
        &mut out,
        "pledge_open_cases",
        "gauge",
        "Cases kept: open, or closed and within the retention.",
        &one(open as f64),
    );
    let lag_seconds = watermark.map_or(0.0, |w| {
        (chrono::Utc::now() - w).num_milliseconds().max(0) as f64 / 1000.0
    });
    metric(
        &mut out,
        "pledge_source_lag_seconds",
        "gauge",
        "Wall clock minus the latest event's time.",
        &one(lag_seconds),
    );
    metric(
        &mut out,
        "pledge_source_lag_events",
        "gauge",
        "Lines read from the source and not yet committed, and messages a stream holds beyond them.",
        &one((shared.queued.load(Ordering::Relaxed) + shared.lag_messages.load(Ordering::Relaxed)) as f64),
    );
    metric(
        &mut out,
        "pledge_source_lag_bytes",
        "gauge",
        "Bytes of the followed file not yet read.",
        &one(shared.lag_bytes.load(Ordering::Relaxed) as f64),
    );
    let mut breached = Vec::new();
    let mut missed = Vec::new();
    for clause in summary
        .get("clauses")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        let name = |k: &str| label(clause.get(k).and_then(|v| v.as_str()).unwrap_or(""));
        let labels = format!(
            "{{policy=\"{}\",clause=\"{}\"}}",
            name("policy"),
            name("clause")
        );
        let n = |k: &str| clause.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0);
        breached.push((labels.clone(), n("breached")));
        missed.push((labels, n("actions_missed")));
    }
    metric(
        &mut out,
        "pledge_breaches",
        "gauge",
        "Verdicts breached, as a check ending now counts them (judged at most 30 s ago).",
        &breached,
    );
    metric(
        &mut out,
        "pledge_actions_missed",
        "gauge",
        "Escalation stages missed, as a check ending now counts them (judged at most 30 s ago).",
        &missed,
    );
    metric(
        &mut out,
        "pledge_clause_counts_age_seconds",
        "gauge",
        "How long ago the per-clause counts were judged (at most 30 s: a scrape judges again).",
        &one(age.as_secs_f64()),
    );
    metric(
        &mut out,
        "pledge_alerts_raised_total",
        "counter",
        "Alerts raised since the service started.",
        &one(shared.alerts_raised.load(Ordering::Relaxed) as f64),
    );
    metric(
        &mut out,
        "pledge_alerts_delivered_total",
        "counter",
        "Alert deliveries a receiver confirmed since the service started (webhook and NATS).",
        &one(shared.deliveries.delivered.load(Ordering::Relaxed) as f64),
    );
    metric(
        &mut out,
        "pledge_alert_delivery_failures_total",
        "counter",
        "Failed delivery attempts since the service started (webhook and NATS).",
        &one(shared.deliveries.failed_attempts.load(Ordering::Relaxed) as f64),
    );
    let mut pending = Vec::new();
    for target in &shared.targets {
        let waiting = shared
            .store
            .outbox_len(*target)
            .map_err(|e| e.to_string())?;
        pending.push((format!("{{target=\"{}\"}}", target.name()), waiting as f64));
    }
    metric(
        &mut out,
        "pledge_alerts_pending",
        "gauge",
        "Alerts waiting for delivery, per target.",
        &pending,
    );
    metric(
        &mut out,
        "pledge_batches_committed_total",
        "counter",
        "Batches committed since the service started.",
        &one(shared.batches.load(Ordering::Relaxed) as f64),
    );
    metric(
        &mut out,
        "pledge_commit_bytes",
        "gauge",
        "State written by the last commit: the cases that changed and the rest of the state.",
        &one(shared.snapshot_bytes.load(Ordering::Relaxed) as f64),
    );
    metric(
        &mut out,
        "pledge_commit_rest_bytes",
        "gauge",
        "Of the last commit's state, the parts of the rest (all but the cases and the events kept for why) that changed.",
        &one(shared.rest_bytes.load(Ordering::Relaxed) as f64),
    );
    metric(
        &mut out,
        "pledge_commit_cases",
        "gauge",
        "Case rows the last commit wrote or removed.",
        &one(shared.cases_written.load(Ordering::Relaxed) as f64),
    );
    metric(
        &mut out,
        "pledge_commit_lines",
        "gauge",
        "Lines of the batch the last commit covered.",
        &one(shared.batch_lines.load(Ordering::Relaxed) as f64),
    );
    metric(
        &mut out,
        "pledge_commit_seconds",
        "gauge",
        "Duration of the last commit (writing the state and the transaction).",
        &one(shared.commit_micros.load(Ordering::Relaxed) as f64 / 1e6),
    );
    Ok(out)
}
