//! What a run measures, in what order, and for how long.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::BenchError;
use crate::target::Target;

/// The web frameworks endpoint-auth adapts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Framework {
    /// axum 0.8
    Axum,
    /// warp 0.4
    Warp,
    /// rocket 0.5
    Rocket,
}

impl Framework {
    /// Every framework, in table order.
    pub const ALL: [Framework; 3] = [Framework::Axum, Framework::Warp, Framework::Rocket];

    /// The name the servers' `--framework` takes.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Axum => "axum",
            Framework::Warp => "warp",
            Framework::Rocket => "rocket",
        }
    }
}

/// Which server process answers a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServerKind {
    /// `bench-server`: the adapter over a memory store (and, on axum, the peers).
    Bench,
    /// `endpoint-auth serve --demo` over a SQLite file.
    CliSqlite,
    /// `endpoint-auth serve --demo` over a PostgreSQL database.
    CliPostgres,
}

/// What one row requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Case {
    /// `bench-server` `/open`: the base of the memory, miss and peer rows.
    Open,
    /// Cache hit on `/protected` over the memory store.
    HitMemory,
    /// A new unknown user on every request: one argon2id verification each.
    Miss,
    /// The CLI's `/open`: the base of the CLI rows.
    CliOpen,
    /// Cache hit on the CLI's `/protected` over SQLite.
    HitSqlite,
    /// Cache hit on the CLI's `/protected` over PostgreSQL.
    HitPostgres,
    /// The CLI's `/credentials` (require_credentials).
    Credentials,
    /// axum with tower-http's `ValidateRequestHeaderLayer::basic`.
    PeerTowerHttp,
    /// axum with axum-auth's `AuthBasic`, comparing in plaintext.
    PeerAxumAuth,
    /// axum verifying argon2id on every request.
    PeerArgon2,
}

impl Case {
    /// The cases measured on every framework, in table order.
    pub const PER_FRAMEWORK: [Case; 7] = [
        Case::Open,
        Case::HitMemory,
        Case::Miss,
        Case::CliOpen,
        Case::HitSqlite,
        Case::HitPostgres,
        Case::Credentials,
    ];
    /// The peers, measured on axum.
    pub const PEERS: [Case; 3] = [Case::PeerTowerHttp, Case::PeerAxumAuth, Case::PeerArgon2];

    /// The server that answers it.
    pub fn server(self) -> ServerKind {
        match self {
            Case::CliOpen | Case::HitSqlite | Case::Credentials => ServerKind::CliSqlite,
            Case::HitPostgres => ServerKind::CliPostgres,
            _ => ServerKind::Bench,
        }
    }

    /// The path requested.
    pub fn path(self) -> &'static str {
        match self {
            Case::Open | Case::CliOpen => "/open",
            Case::HitMemory | Case::Miss | Case::HitSqlite | Case::HitPostgres => "/protected",
            Case::Credentials => "/credentials",
            Case::PeerTowerHttp => "/peer/tower-http",
            Case::PeerAxumAuth => "/peer/axum-auth",
            Case::PeerArgon2 => "/peer/argon2",
        }
    }

    /// How the row is named in the table.
    pub fn label(self) -> &'static str {
        match self {
            Case::Open => "/open, no auth (bench-server)",
            Case::HitMemory => "/protected, memory store, cache hit",
            Case::Miss => "/protected, cache miss (unknown user each time)",
            Case::CliOpen => "/open, no auth (CLI)",
            Case::HitSqlite => "/protected, SQLite, cache hit (CLI)",
            Case::HitPostgres => "/protected, PostgreSQL, cache hit (CLI)",
            Case::Credentials => "/credentials, require_credentials (CLI)",
            Case::PeerTowerHttp => "peer: tower-http ValidateRequestHeaderLayer::basic",
            Case::PeerAxumAuth => "peer: axum-auth AuthBasic, plaintext compare",
            Case::PeerArgon2 => "peer: argon2id verify on every request",
        }
    }

    /// The `/open` this row is divided by (the same server binary); `None` for the bases.
    pub fn base(self) -> Option<Case> {
        match self {
            Case::Open | Case::CliOpen => None,
            Case::HitSqlite | Case::HitPostgres | Case::Credentials => Some(Case::CliOpen),
            _ => Some(Case::Open),
        }
    }

    /// The throughput target, as a ratio to the base.
    pub fn target(self) -> Option<Target> {
        match self {
            Case::HitSqlite => Some(Target::at_least(0.8)),
            Case::HitPostgres => Some(Target::at_least(0.5)),
            _ => None,
        }
    }

    /// The status every response must have for the row to count.
    pub fn expected_status(self) -> u16 {
        match self {
            Case::Miss => 401,
            _ => 200,
        }
    }
}

/// One measured configuration: a case on a framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Config {
    /// The framework.
    pub framework: Framework,
    /// The case.
    pub case: Case,
}

impl Config {
    /// `axum /protected, memory store, cache hit`.
    pub fn name(&self) -> String {
        format!("{} {}", self.framework.name(), self.case.label())
    }
}

/// Every configuration, in table order: each framework's cases together (so a row and its base
/// run close in time), then the peers on axum. PostgreSQL rows only when it is available.
pub fn configs(postgres: bool) -> Vec<Config> {
    let mut configs = Vec::new();
    for framework in Framework::ALL {
        for case in Case::PER_FRAMEWORK {
            if case != Case::HitPostgres || postgres {
                configs.push(Config { framework, case });
            }
        }
        if framework == Framework::Axum {
            for case in Case::PEERS {
                configs.push(Config { framework, case });
            }
        }
    }
    configs
}

/// The order of round `round`: forward on even rounds, backward on odd ones, so that over the
/// rounds every configuration sits as often early as late and drift weighs on all alike.
pub fn round_order(configs: &[Config], round: usize) -> Vec<Config> {
    let mut order = configs.to_vec();
    if round % 2 == 1 {
        order.reverse();
    }
    order
}

/// Durations and loads of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// `quick` or `full`.
    pub mode: &'static str,
    /// Interleaved rounds; each configuration is run once per round.
    pub rounds: usize,
    /// Seconds per run.
    pub seconds: u64,
    /// Seconds of an unrecorded run of every configuration before round 1 (0: none).
    pub warmup_seconds: u64,
    /// Connections of the throughput runs.
    pub connections: u32,
    /// Connections of the cache-miss runs: no more than the verifier can hold, so that every
    /// request is verified rather than shed.
    pub miss_connections: u32,
    /// Connections of the storm.
    pub storm_connections: u32,
    /// Seconds of the storm.
    pub storm_seconds: u64,
    /// Seconds of the probe alone, before the storm and again after it.
    pub probe_seconds: u64,
    /// The probe's pause between a response and its next request.
    pub probe_interval: Duration,
    /// argon2id verifications timed to set the machine's limit.
    pub verify_samples: usize,
    /// Concurrent identical first logins.
    pub first_logins: usize,
}

impl Plan {
    /// The full run: three interleaved rounds of 4 s, about 7 minutes.
    pub fn full() -> Self {
        Self {
            mode: "full",
            rounds: 3,
            seconds: 4,
            warmup_seconds: 1,
            connections: 16,
            miss_connections: 4,
            storm_connections: 64,
            storm_seconds: 10,
            probe_seconds: 5,
            probe_interval: Duration::from_millis(5),
            verify_samples: 10,
            first_logins: 64,
        }
    }

    /// The quick run: one round of 2 s, about 1.5 minutes.
    pub fn quick() -> Self {
        Self {
            mode: "quick",
            rounds: 1,
            seconds: 2,
            warmup_seconds: 0,
            storm_seconds: 4,
            probe_seconds: 2,
            verify_samples: 4,
            ..Self::full()
        }
    }

    /// A rough duration of the measurements, for the progress line.
    pub fn estimate(&self, configs: usize) -> Duration {
        let per_run = |seconds: u64| seconds as f64 + 0.4;
        let runs = configs as f64
            * (self.rounds as f64 * per_run(self.seconds)
                + if self.warmup_seconds > 0 {
                    per_run(self.warmup_seconds)
                } else {
                    0.0
                });
        let storms = Framework::ALL.len() as f64
            * (2.0 * per_run(self.probe_seconds) + per_run(self.storm_seconds) + 1.5);
        Duration::from_secs_f64(runs + storms + 10.0)
    }
}

/// The command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// `--quick`.
    pub quick: bool,
    /// `--markdown FILE`.
    pub markdown: Option<PathBuf>,
    /// `--help`.
    pub help: bool,
}

impl Options {
    /// Parses the arguments after the program name.
    pub fn parse<I, S>(args: I) -> Result<Self, BenchError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut options = Options::default();
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--markdown" => {
                    let file = args
                        .next()
                        .ok_or_else(|| BenchError::Usage("--markdown needs a file name".into()))?;
                    options.markdown = Some(PathBuf::from(file));
                }
                "-h" | "--help" => options.help = true,
                other => {
                    if let Some(file) = other.strip_prefix("--markdown=") {
                        options.markdown = Some(PathBuf::from(file));
                    } else {
                        return Err(BenchError::Usage(format!("unexpected argument {other:?}")));
                    }
                }
            }
        }
        Ok(options)
    }

    /// The plan these options ask for.
    pub fn plan(&self) -> Plan {
        if self.quick {
            Plan::quick()
        } else {
            Plan::full()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_with_and_without_postgres() {
        let all = configs(true);
        assert_eq!(all.len(), 3 * 7 + 3);
        let without = configs(false);
        assert_eq!(without.len(), 3 * 6 + 3);
        assert!(without.iter().all(|c| c.case != Case::HitPostgres));
        let peers: Vec<_> = all
            .iter()
            .filter(|c| Case::PEERS.contains(&c.case))
            .collect();
        assert!(peers.iter().all(|c| c.framework == Framework::Axum));
    }

    #[test]
    fn every_row_has_its_base_on_the_same_framework() {
        let all = configs(true);
        for config in &all {
            if let Some(base) = config.case.base() {
                assert!(all.contains(&Config {
                    framework: config.framework,
                    case: base
                }));
                assert_eq!(base.base(), None);
                let same_binary =
                    base.server() == ServerKind::Bench || config.case.server() != ServerKind::Bench;
                assert!(
                    same_binary,
                    "{config:?} is divided by another binary's /open"
                );
            }
        }
    }

    #[test]
    fn rounds_alternate_direction() {
        let all = configs(false);
        assert_eq!(round_order(&all, 0), all);
        let back = round_order(&all, 1);
        assert_eq!(back.first(), all.last());
        assert_eq!(back.last(), all.first());
        assert_eq!(round_order(&all, 2), all);
    }

    #[test]
    fn options() {
        assert_eq!(
            Options::parse(Vec::<String>::new()).unwrap(),
            Options::default()
        );
        let options = Options::parse(["--quick", "--markdown", "out.md"]).unwrap();
        assert!(options.quick);
        assert_eq!(options.markdown, Some(PathBuf::from("out.md")));
        assert_eq!(options.plan(), Plan::quick());
        let options = Options::parse(["--markdown=x.md"]).unwrap();
        assert_eq!(options.markdown, Some(PathBuf::from("x.md")));
        assert!(Options::parse(["--help"]).unwrap().help);
        assert!(matches!(
            Options::parse(["--markdown"]),
            Err(BenchError::Usage(_))
        ));
        assert!(matches!(
            Options::parse(["--fast"]),
            Err(BenchError::Usage(_))
        ));
    }

    #[test]
    fn runs_fit_their_budgets() {
        let all = configs(true).len();
        assert!(Plan::full().estimate(all) < Duration::from_secs(9 * 60));
        assert!(Plan::quick().estimate(all) < Duration::from_secs(110));
    }
}
