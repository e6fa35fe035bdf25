//! The `serve` log on stderr, with repeated warnings and errors rate-limited per call site: an
//! attacker who makes every request fail the same way gets a few lines a second, then one line
//! saying how many were left out, instead of a log that fills the disk.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing::callsite::Identifier;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Filter, SubscriberExt};
use tracing_subscriber::{EnvFilter, Layer};

/// The target of the lines that report suppressed events; never rate-limited themselves.
const SUPPRESSED_TARGET: &str = "endpoint_auth::log";

/// How much of a suppressed event's message the report quotes.
const SAMPLE_CHARS: usize = 80;

/// Installs the `serve` log: `RUST_LOG` or warnings plus the access log, to stderr, rate-limited.
/// Returns the handle that reports suppressed events.
pub(crate) fn init() -> RateLimit {
    let limit = RateLimit::new(RateLimit::DEFAULT_BURST, RateLimit::DEFAULT_WINDOW);
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,endpoint_auth::access=info"));
    let _ =
        tracing::subscriber::set_global_default(subscriber(filter, limit.clone(), std::io::stderr));
    limit
}

/// The `serve` log's subscriber, writing to `writer`.
pub(crate) fn subscriber<W>(filter: EnvFilter, limit: RateLimit, writer: W) -> impl Subscriber
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_target(false)
        .with_ansi(false)
        .with_filter(filter.and(limit));
    tracing_subscriber::registry().with(lines)
}

/// A per-layer filter that lets at most `burst` WARN or ERROR events per call site through in
/// each `window`, and counts the rest for [`RateLimit::report_suppressed`].
#[derive(Clone)]
pub(crate) struct RateLimit {
    limiter: Arc<Mutex<Limiter<Identifier>>>,
}

impl RateLimit {
    /// Events per call site let through in each window.
    pub(crate) const DEFAULT_BURST: u32 = 5;
    /// The window.
    pub(crate) const DEFAULT_WINDOW: Duration = Duration::from_secs(1);

    pub(crate) fn new(burst: u32, window: Duration) -> Self {
        Self {
            limiter: Arc::new(Mutex::new(Limiter::new(burst, window))),
        }
    }

    /// Logs one line per call site whose events were suppressed since the last report, saying how
    /// many.
    pub(crate) fn report_suppressed(&self) {
        let suppressed = self
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take_suppressed();
        for Suppressed {
            target,
            sample,
            count,
        } in suppressed
        {
            tracing::warn!(target: SUPPRESSED_TARGET, "suppressed {count} more like {sample:?} ({target})");
        }
    }

    /// Reports suppressed events every window until the process ends.
    pub(crate) fn spawn_reporter(&self) -> tokio::task::JoinHandle<()> {
        let limit = self.clone();
        let window = self
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .window;
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(window);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                limit.report_suppressed();
            }
        })
    }
}

impl fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit").finish_non_exhaustive()
    }
}

impl<S> Filter<S> for RateLimit {
    fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        // The decision depends on how many came before, so it is taken per event.
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        let metadata = event.metadata();
        if *metadata.level() > Level::WARN || metadata.target() == SUPPRESSED_TARGET {
            return true;
        }
        self.limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .admit(
                metadata.callsite(),
                metadata.target(),
                Instant::now(),
                || sample(event),
            )
    }
}

/// The counting behind [`RateLimit`], per call site `K`, with the clock passed in.
#[derive(Debug)]
struct Limiter<K> {
    burst: u32,
    window: Duration,
    sites: HashMap<K, Site>,
}

#[derive(Debug)]
struct Site {
    window_started: Instant,
    passed: u32,
    suppressed: u64,
    target: &'static str,
    sample: String,
}

/// One call site's suppressed events since the last report.
#[derive(Debug, PartialEq, Eq)]
struct Suppressed {
    target: &'static str,
    sample: String,
    count: u64,
}

impl<K: std::hash::Hash + Eq> Limiter<K> {
    fn new(burst: u32, window: Duration) -> Self {
        Self {
            burst,
            window,
            sites: HashMap::new(),
        }
    }

    /// Whether an event of call site `key` (of `target`) at `now` is let through; `sample`
    /// describes it when it is the first suppressed one since the last report.
    fn admit(
        &mut self,
        key: K,
        target: &'static str,
        now: Instant,
        sample: impl FnOnce() -> String,
    ) -> bool {
        // Call sites are static, so this map is bounded by the program, not by the traffic.
        let site = self.sites.entry(key).or_insert_with(|| Site {
            window_started: now,
            passed: 0,
            suppressed: 0,
            target,
            sample: String::new(),
        });
        if now.saturating_duration_since(site.window_started) >= self.window {
            site.window_started = now;
            site.passed = 0;
        }
        if site.passed < self.burst {
            site.passed += 1;
            return true;
        }
        if site.suppressed == 0 {
            site.sample = sample();
        }
        site.suppressed += 1;
        false
    }

    /// The counts of suppressed events per call site, reset to zero.
    fn take_suppressed(&mut self) -> Vec<Suppressed> {
        self.sites
            .values_mut()
            .filter(|site| site.suppressed > 0)
            .map(|site| Suppressed {
                target: site.target,
                sample: std::mem::take(&mut site.sample),
                count: std::mem::take(&mut site.suppressed),
            })
            .collect()
    }
}

/// The start of an event's message, to say in the report what was suppressed.
fn sample(event: &Event<'_>) -> String {
    struct Message(String);
    impl Visit for Message {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            if field.name() == "message" {
                self.0 = truncate(&format!("{value:?}"), SAMPLE_CHARS);
            }
        }
    }
    let mut message = Message(String::new());
    event.record(&mut message);
    message.0
}

/// `text` cut to at most `max` characters, marked with `…` where it was cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Write;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner))
                .into_owned()
        }
    }

    #[test]
    fn a_burst_passes_then_events_are_counted_until_the_next_window() {
        let mut limiter = Limiter::new(3, Duration::from_secs(1));
        let start = Instant::now();
        let passed = (0..10)
            .filter(|i| {
                let at = start + Duration::from_millis(*i);
                limiter.admit("here", "target", at, || format!("event {i}"))
            })
            .count();
        assert_eq!(passed, 3);
        assert!(limiter.admit("elsewhere", "target", start, String::new));
        assert_eq!(
            limiter.take_suppressed(),
            vec![Suppressed {
                target: "target",
                sample: "event 3".to_owned(),
                count: 7
            }]
        );
        assert_eq!(
            limiter.take_suppressed(),
            vec![],
            "a report resets the count"
        );
        assert!(!limiter.admit(
            "here",
            "target",
            start + Duration::from_millis(999),
            String::new
        ));
        assert!(limiter.admit(
            "here",
            "target",
            start + Duration::from_secs(1),
            String::new
        ));
    }

    #[test]
    fn a_flood_of_one_warning_logs_a_burst_and_one_report() {
        let captured = Captured::default();
        let limit = RateLimit::new(5, Duration::from_secs(3600));
        let writer = captured.clone();
        let subscriber = subscriber(EnvFilter::new("warn"), limit.clone(), move || {
            writer.clone()
        });
        let long_name = "x".repeat(3000);
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..1000 {
                tracing::warn!(username = %long_name, "authentication unavailable");
            }
            tracing::info!("below the filter");
            tracing::error!("another call site has its own burst");
            limit.report_suppressed();
        });
        let text = captured.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5 + 1 + 1, "{text}");
        assert!(
            lines[6].contains(r#"suppressed 995 more like "authentication unavailable""#),
            "{text}"
        );
        assert!(lines[5].contains("another call site"), "{text}");
        assert!(!text.contains("below the filter"));
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("", 0), "");
    }
}
