//! From measurements to the one table: raw numbers, ratios, targets.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::inprocess::FirstLogins;
use crate::plan::{configs, Case, Config, Framework, Plan};
use crate::table::Table;
use crate::target::{median, ratio, Target, Unit};
use crate::wrk::WrkReport;

/// KiB in the budget's fixed part: 64 MiB.
pub const RSS_BASE_KIB: u64 = 64 * 1024;
/// KiB of argon2 memory per verification worker (OWASP m = 19456 KiB).
pub const RSS_PER_WORKER_KIB: u64 = 19_456;

/// One framework's storm.
#[derive(Debug, Clone, PartialEq)]
pub struct Storm {
    /// The framework the CLI served with.
    pub framework: Framework,
    /// The storm of cache misses.
    pub storm: WrkReport,
    /// The probe alone, before and after the storm.
    pub probe_alone: Vec<WrkReport>,
    /// The probe during the storm.
    pub probe_during: WrkReport,
    /// The server's peak resident set over its life, KiB.
    pub peak_rss_kib: u64,
}

/// Whether the PostgreSQL rows ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Postgres {
    /// On a database created for the run.
    Measured,
    /// Why not.
    Skipped(String),
}

/// Everything a run measured.
#[derive(Debug, Clone)]
pub struct Measurements {
    /// The plan it followed.
    pub plan: Plan,
    /// Cores available (the machine's limit counts them).
    pub cores: usize,
    /// Verification workers of the servers (the core's default pool).
    pub workers: usize,
    /// Median time of one argon2id OWASP verification.
    pub verify_time: Duration,
    /// Verifications per second with every core verifying at once (in-process).
    pub parallel_rate: f64,
    /// The in-process single-flight measurement.
    pub first_logins: FirstLogins,
    /// Whether PostgreSQL was measured.
    pub postgres: Postgres,
    /// Each configuration's report per round, in round order.
    pub runs: BTreeMap<Config, Vec<WrkReport>>,
    /// One storm per framework.
    pub storms: Vec<Storm>,
    /// `wrk -v`'s first line.
    pub wrk_version: String,
    /// The 1-minute load average before the run (before building) and at its end.
    pub load_average: (Option<f64>, Option<f64>),
}

impl Measurements {
    /// Verifications per second the machine can do: cores ÷ one verification's time.
    pub fn limit(&self) -> f64 {
        let seconds = self.verify_time.as_secs_f64();
        if seconds > 0.0 {
            self.cores as f64 / seconds
        } else {
            0.0
        }
    }

    /// The peak-RSS budget: 64 MiB + workers × 19 MiB.
    pub fn rss_budget_kib(&self) -> u64 {
        RSS_BASE_KIB + self.workers as u64 * RSS_PER_WORKER_KIB
    }
}

/// The table's columns.
pub const COLUMNS: [&str; 8] = [
    "row",
    "req/s",
    "p50",
    "p99",
    "req/s ratio",
    "p99 ratio",
    "target",
    "result",
];

/// The printed report: context lines, the table, notes.
#[derive(Debug, Clone)]
pub struct Report {
    /// What was measured, on what.
    pub context: Vec<String>,
    /// The table.
    pub table: Table,
    /// Skipped rows and caveats.
    pub notes: Vec<String>,
}

impl Report {
    /// Markdown: context, table, notes.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        for line in &self.context {
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.table.markdown());
        if !self.notes.is_empty() {
            out.push('\n');
            for note in &self.notes {
                out.push_str(&format!("- {note}\n"));
            }
        }
        out
    }
}

/// Builds the report.
pub fn report(m: &Measurements) -> Report {
    let plan = &m.plan;
    let context = vec![
        format!(
            "Mode: {} — {} interleaved round(s) × {} s per row (medians; ratios are medians of per-round ratios), \
             wrk 1 thread × {} connections ({} for cache misses), {}.",
            plan.mode,
            plan.rounds,
            plan.seconds,
            plan.connections,
            plan.miss_connections,
            m.wrk_version
        ),
        format!(
            "Machine: {} cores, 1-minute load average {} before the run and {} at its end (this run's own load included); \
             one argon2id verification (m=19456 KiB, t=2, p=1) takes {} → limit {} ÷ {} = {:.1} verifications/s \
             ({} threads verifying at once in-process reach {:.1}/s, {} the limit).",
            m.cores,
            fmt_load(m.load_average.0),
            fmt_load(m.load_average.1),
            fmt_duration(m.verify_time),
            m.cores,
            fmt_duration(m.verify_time),
            m.limit(),
            m.cores,
            m.parallel_rate,
            ratio(m.parallel_rate, m.limit())
                .map(|r| Unit::Times.format(r))
                .unwrap_or_default(),
        ),
        format!(
            "Storm: {} connections of unknown users on the CLI's /protected (SQLite) for {} s, while a probe on 1 connection \
             (pausing {} ms between requests) reads /open; its p99 alone is the mean of {} s runs before and after. \
             RSS budget: 64 MiB + {} workers × 19 MiB = {:.0} MiB.",
            plan.storm_connections,
            plan.storm_seconds,
            plan.probe_interval.as_millis(),
            plan.probe_seconds,
            m.workers,
            kib_to_mib(m.rss_budget_kib()),
        ),
    ];
    let mut table = Table::new(COLUMNS);
    let mut notes = Vec::new();
    let postgres = m.postgres == Postgres::Measured;
    for config in configs(true) {
        if config.case == Case::HitPostgres && !postgres {
            let target = config.case.target();
            table.push([
                config.name(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                target.map(|t| t.describe()).unwrap_or_default(),
                "skipped".to_owned(),
            ]);
            continue;
        }
        let reports = m.runs.get(&config).map(Vec::as_slice).unwrap_or_default();
        let bases = config
            .case
            .base()
            .and_then(|case| {
                m.runs.get(&Config {
                    framework: config.framework,
                    case,
                })
            })
            .map(Vec::as_slice);
        table.push(throughput_row(config, reports, bases));
    }
    for storm in &m.storms {
        for row in storm_rows(storm, m.limit(), m.rss_budget_kib()) {
            table.push(row);
        }
    }
    table.push(first_logins_row(&m.first_logins));
    if let Postgres::Skipped(reason) = &m.postgres {
        notes.push(format!("PostgreSQL rows skipped: {reason}."));
    }
    notes.push(
        "Ratios divide by the /open of the same binary and framework in the same round: the bench-server's \
         for the memory, cache-miss and peer rows, the CLI's for the SQLite, PostgreSQL and /credentials rows \
         (the CLI ran with its access log off, RUST_LOG=warn)."
            .to_owned(),
    );
    notes.push(
        "Load generator, servers and PostgreSQL share the same cores, so the absolute numbers are the machine's; \
         read the ratios."
            .to_owned(),
    );
    Report {
        context,
        table,
        notes,
    }
}

/// What is wrong with a run, if anything: socket errors, or responses other than expected.
pub fn problems(case: Case, report: &WrkReport) -> Vec<String> {
    let mut problems = Vec::new();
    let socket = report.errors.socket();
    if socket > 0 {
        problems.push(format!("{socket} socket errors/timeouts"));
    }
    if case.expected_status() == 200 {
        if report.errors.status > 0 {
            problems.push(format!("{} error statuses", report.errors.status));
        }
    } else {
        let other = report
            .counted()
            .saturating_sub(report.status_count(case.expected_status()));
        if other > 0 {
            let statuses: Vec<String> = report
                .statuses
                .iter()
                .filter(|(status, _)| **status != case.expected_status())
                .map(|(status, n)| format!("{n}×{status}"))
                .collect();
            problems.push(format!(
                "{} not {} ({})",
                other,
                case.expected_status(),
                statuses.join(", ")
            ));
        }
    }
    problems
}

/// A throughput row: medians over the rounds, and the medians of the per-round ratios to the
/// base (same round).
pub fn throughput_row(
    config: Config,
    reports: &[WrkReport],
    bases: Option<&[WrkReport]>,
) -> Vec<String> {
    let rates: Vec<f64> = reports.iter().map(WrkReport::rate).collect();
    let p50s: Vec<f64> = reports.iter().map(|r| r.p50.as_secs_f64()).collect();
    let p99s: Vec<f64> = reports.iter().map(|r| r.p99.as_secs_f64()).collect();
    let (rate_ratio, p99_ratio) = match bases {
        Some(bases) => {
            let paired = reports.iter().zip(bases);
            let rate: Vec<f64> = paired
                .clone()
                .filter_map(|(r, b)| ratio(r.rate(), b.rate()))
                .collect();
            let p99: Vec<f64> = paired
                .filter_map(|(r, b)| ratio(r.p99.as_secs_f64(), b.p99.as_secs_f64()))
                .collect();
            (median(&rate), median(&p99))
        }
        None => (None, None),
    };
    let mut problems: Vec<String> = reports
        .iter()
        .flat_map(|r| problems(config.case, r))
        .collect();
    problems.dedup();
    let target = config.case.target();
    let result = if reports.is_empty() {
        "not measured".to_owned()
    } else if !problems.is_empty() {
        format!("errors: {}", problems.join("; "))
    } else {
        target
            .map(|t| t.verdict_line(rate_ratio))
            .unwrap_or_default()
    };
    let base_cell = |value: Option<f64>| match (bases, value) {
        (None, _) => "base".to_owned(),
        (Some(_), Some(v)) => Unit::Times.format(v),
        (Some(_), None) => String::new(),
    };
    vec![
        config.name(),
        median(&rates).map(fmt_rate).unwrap_or_default(),
        median(&p50s).map(fmt_seconds).unwrap_or_default(),
        median(&p99s).map(fmt_seconds).unwrap_or_default(),
        base_cell(rate_ratio),
        base_cell(p99_ratio),
        target.map(|t| t.describe()).unwrap_or_default(),
        result,
    ]
}

/// The four storm rows of one framework.
pub fn storm_rows(storm: &Storm, limit: f64, rss_budget_kib: u64) -> Vec<Vec<String>> {
    let name = |what: &str| format!("{} storm: {what}", storm.framework.name());
    let s = &storm.storm;
    let verified = s.status_rate(401);
    let verified_ratio = ratio(verified, limit);
    let counted = s.counted();
    let shed = s.status_count(503);
    let share = (counted > 0).then(|| shed as f64 / counted as f64);
    let others: Vec<String> = s
        .statuses
        .iter()
        .map(|(status, n)| format!("{n}×{status}"))
        .collect();
    let alone_p99s: Vec<f64> = storm
        .probe_alone
        .iter()
        .map(|r| r.p99.as_secs_f64())
        .collect();
    let alone_p99 = median(&alone_p99s);
    let probe_ratio =
        alone_p99.and_then(|alone| ratio(storm.probe_during.p99.as_secs_f64(), alone));
    let rss_ratio = ratio(storm.peak_rss_kib as f64, rss_budget_kib as f64);
    let socket = s.errors.socket() + storm.probe_during.errors.socket();
    let socket_note = if socket > 0 {
        format!(" ({socket} socket errors/timeouts)")
    } else {
        String::new()
    };

    let verifications = Target::at_least(0.9);
    let shed_target = Target::share_at_most(0.01);
    let probe_target = Target::at_most(3.0);
    let rss_target = Target::at_most(1.0);
    vec![
        vec![
            name("verifications/s ÷ limit"),
            fmt_rate(verified),
            fmt_duration(s.p50),
            fmt_duration(s.p99),
            verified_ratio
                .map(|r| format!("{} of {:.1}/s", Unit::Times.format(r), limit))
                .unwrap_or_default(),
            String::new(),
            verifications.describe(),
            format!(
                "{}{socket_note}",
                verifications.verdict_line(verified_ratio)
            ),
        ],
        vec![
            name("share of 503"),
            fmt_rate(s.rate()),
            String::new(),
            String::new(),
            share
                .map(|v| format!("{} ({})", Unit::Percent.format(v), others.join(", ")))
                .unwrap_or_default(),
            String::new(),
            shed_target.describe(),
            shed_target.verdict_line(share),
        ],
        vec![
            name("probe p99 during ÷ alone"),
            fmt_rate(storm.probe_during.rate()),
            fmt_duration(storm.probe_during.p50),
            fmt_duration(storm.probe_during.p99),
            String::new(),
            probe_ratio
                .map(|r| {
                    format!(
                        "{} (alone {})",
                        Unit::Times.format(r),
                        alone_p99.map(fmt_seconds).unwrap_or_default()
                    )
                })
                .unwrap_or_default(),
            probe_target.describe(),
            probe_target.verdict_line(probe_ratio),
        ],
        vec![
            name("peak RSS ÷ budget"),
            String::new(),
            String::new(),
            String::new(),
            rss_ratio
                .map(|r| {
                    format!(
                        "{} ({:.1} ÷ {:.0} MiB)",
                        Unit::Times.format(r),
                        kib_to_mib(storm.peak_rss_kib),
                        kib_to_mib(rss_budget_kib)
                    )
                })
                .unwrap_or_default(),
            String::new(),
            rss_target.describe(),
            rss_target.verdict_line(rss_ratio),
        ],
    ]
}

/// The single-flight row.
pub fn first_logins_row(first: &FirstLogins) -> Vec<String> {
    let target = Target::exactly(1);
    let answers: Vec<String> = first
        .statuses
        .iter()
        .map(|(status, n)| format!("{n}×{status}"))
        .collect();
    vec![
        format!(
            "{} concurrent identical first logins → verifications (in-process)",
            first.requests
        ),
        String::new(),
        String::new(),
        String::new(),
        format!("{} ({})", first.verifications, answers.join(", ")),
        String::new(),
        target.describe(),
        target.verdict_line(Some(first.verifications as f64)),
    ]
}

fn fmt_load(load: Option<f64>) -> String {
    load.map_or_else(|| "unknown".to_owned(), |l| format!("{l:.2}"))
}

fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `48123`, `81.2`.
pub fn fmt_rate(rate: f64) -> String {
    if rate >= 100.0 {
        format!("{rate:.0}")
    } else {
        format!("{rate:.1}")
    }
}

/// `0.42 ms`, `12.3 ms`, `1234 ms`.
pub fn fmt_duration(duration: Duration) -> String {
    fmt_seconds(duration.as_secs_f64())
}

fn fmt_seconds(seconds: f64) -> String {
    let ms = seconds * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrk::WrkErrors;

    fn run(requests: u64, p99_us: u64) -> WrkReport {
        WrkReport {
            requests,
            duration: Duration::from_secs(1),
            errors: WrkErrors::default(),
            p50: Duration::from_micros(p99_us / 2),
            p90: Duration::from_micros(p99_us),
            p99: Duration::from_micros(p99_us),
            max: Duration::from_micros(p99_us * 2),
            statuses: BTreeMap::new(),
        }
    }

    fn config(case: Case) -> Config {
        Config {
            framework: Framework::Axum,
            case,
        }
    }

    #[test]
    fn ratios_are_medians_of_per_round_ratios() {
        // Drift: the base and the row both double in round 2; per-round ratios stay 0.9.
        let bases = [run(1000, 1000), run(2000, 1000), run(1500, 1000)];
        let rows = [run(900, 1200), run(1800, 1200), run(1350, 1300)];
        let row = throughput_row(config(Case::HitSqlite), &rows, Some(&bases));
        assert_eq!(row[0], "axum /protected, SQLite, cache hit (CLI)");
        assert_eq!(row[1], "1350");
        assert_eq!(row[3], "1.20 ms");
        assert_eq!(row[4], "0.90×");
        assert_eq!(row[5], "1.20×");
        assert_eq!(row[6], "≥ 0.80×");
        assert_eq!(row[7], "met (0.90×)");
    }

    #[test]
    fn missed_target() {
        let row = throughput_row(
            config(Case::HitPostgres),
            &[run(400, 1000)],
            Some(&[run(1000, 1000)]),
        );
        assert_eq!(row[7], "missed (0.40×)");
    }

    #[test]
    fn base_rows_say_base() {
        let row = throughput_row(config(Case::Open), &[run(1000, 1000)], None);
        assert_eq!(row[4], "base");
        assert_eq!(row[7], "");
    }

    #[test]
    fn error_statuses_make_a_row_unjudged() {
        let mut bad = run(1000, 1000);
        bad.errors.status = 12;
        let row = throughput_row(config(Case::HitSqlite), &[bad], Some(&[run(1000, 1000)]));
        assert_eq!(row[7], "errors: 12 error statuses");
    }

    #[test]
    fn misses_must_all_be_401() {
        let mut miss = run(100, 50_000);
        miss.errors.status = 100;
        miss.statuses = BTreeMap::from([(401, 98), (503, 2)]);
        assert_eq!(problems(Case::Miss, &miss), ["2 not 401 (2×503)"]);
        miss.statuses = BTreeMap::from([(401, 100)]);
        assert!(problems(Case::Miss, &miss).is_empty());
    }

    #[test]
    fn storm_rows_against_targets() {
        let mut storm = run(10_000, 900_000);
        storm.duration = Duration::from_secs(10);
        storm.statuses = BTreeMap::from([(401, 760), (503, 9240)]);
        let storm = Storm {
            framework: Framework::Warp,
            storm,
            probe_alone: vec![run(1900, 800), run(1900, 1200)],
            probe_during: run(1000, 5000),
            peak_rss_kib: 90 * 1024,
        };
        let rows = storm_rows(&storm, 80.0, 102 * 1024);
        assert_eq!(rows[0][0], "warp storm: verifications/s ÷ limit");
        assert_eq!(rows[0][1], "76.0");
        assert_eq!(rows[0][4], "0.95× of 80.0/s");
        assert_eq!(rows[0][7], "met (0.95×)");
        assert_eq!(rows[1][4], "92.4 % (760×401, 9240×503)");
        assert_eq!(rows[1][7], "missed (92.4 %)");
        assert_eq!(rows[2][5], "5.00× (alone 1.00 ms)");
        assert_eq!(rows[2][7], "missed (5.00×)");
        assert_eq!(rows[3][4], "0.88× (90.0 ÷ 102 MiB)");
        assert_eq!(rows[3][7], "met (0.88×)");
    }

    #[test]
    fn first_logins() {
        let first = FirstLogins {
            requests: 64,
            verifications: 1,
            statuses: BTreeMap::from([(200, 64)]),
        };
        let row = first_logins_row(&first);
        assert_eq!(row[4], "1 (64×200)");
        assert_eq!(row[7], "met (1)");
        let first = FirstLogins {
            verifications: 10,
            statuses: BTreeMap::from([(200, 10), (503, 54)]),
            ..first
        };
        assert_eq!(first_logins_row(&first)[7], "missed (10)");
    }

    #[test]
    fn budget_and_limit() {
        let m = Measurements {
            plan: Plan::quick(),
            cores: 2,
            workers: 2,
            verify_time: Duration::from_millis(25),
            parallel_rate: 60.0,
            first_logins: FirstLogins {
                requests: 64,
                verifications: 1,
                statuses: BTreeMap::new(),
            },
            postgres: Postgres::Skipped("unset".into()),
            runs: BTreeMap::new(),
            storms: Vec::new(),
            wrk_version: "wrk 4.1.0".into(),
            load_average: (Some(0.5), None),
        };
        assert_eq!(m.rss_budget_kib(), 64 * 1024 + 2 * 19_456);
        assert!((m.limit() - 80.0).abs() < 1e-9);
        let text = report(&m).markdown();
        assert!(text.contains("| axum /protected, PostgreSQL, cache hit (CLI)"));
        assert!(text.contains("skipped"));
        assert!(text.contains("PostgreSQL rows skipped: unset."));
        assert!(text.contains("load average 0.50 before the run and unknown at its end"));
        assert!(
            text.contains("2 threads verifying at once in-process reach 60.0/s, 0.75× the limit")
        );
    }

    #[test]
    fn durations_and_rates() {
        assert_eq!(fmt_duration(Duration::from_micros(420)), "0.42 ms");
        assert_eq!(fmt_duration(Duration::from_micros(12_340)), "12.3 ms");
        assert_eq!(fmt_duration(Duration::from_millis(1234)), "1234 ms");
        assert_eq!(fmt_rate(48_123.4), "48123");
        assert_eq!(fmt_rate(81.25), "81.2");
    }
}
