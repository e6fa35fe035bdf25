//! Driving wrk: its command line, the Lua scripts the harness hands it, and the summary they
//! print.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Prints the summary line [`WrkReport::parse`] reads; part of every script.
pub const REPORT_LUA: &str = include_str!("../lua/report.lua");
/// Distinct unknown users, counted by status.
pub const MISS_LUA: &str = include_str!("../lua/miss.lua");
/// A paced single connection.
pub const PROBE_LUA: &str = include_str!("../lua/probe.lua");

/// What a wrk run sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Load {
    /// The same request every time, with this `Authorization` value if any.
    Fixed {
        /// The `Authorization` field value.
        authorization: Option<String>,
    },
    /// A new unknown user on every request; `tag` keeps this run's names apart.
    Miss {
        /// Part of every user name.
        tag: String,
    },
    /// One request every `interval` plus the response time.
    Probe {
        /// The pause between a response and the next request.
        interval: Duration,
    },
}

impl Load {
    /// The script wrk runs for this load.
    pub fn script(&self) -> String {
        match self {
            Load::Fixed { .. } => REPORT_LUA.to_owned(),
            Load::Miss { .. } => format!("{MISS_LUA}\n{REPORT_LUA}"),
            Load::Probe { .. } => format!("{PROBE_LUA}\n{REPORT_LUA}"),
        }
    }

    fn script_args(&self) -> Vec<String> {
        match self {
            Load::Fixed { .. } => Vec::new(),
            Load::Miss { tag } => vec![tag.clone()],
            Load::Probe { interval } => vec![interval.as_millis().to_string()],
        }
    }
}

/// One wrk invocation.
#[derive(Debug, Clone)]
pub struct WrkRun {
    /// Server address.
    pub addr: SocketAddr,
    /// Request path.
    pub path: String,
    /// Open connections.
    pub connections: u32,
    /// How long to run, in whole seconds (wrk takes no fractions).
    pub seconds: u64,
    /// wrk's per-request timeout: slower answers count as timeouts.
    pub timeout: Duration,
    /// What to send.
    pub load: Load,
}

impl WrkRun {
    /// The wrk command for this run, with `script` the file holding [`Load::script`]. One wrk
    /// thread: on a small machine wrk shares the cores with the server.
    pub fn command(&self, script: &Path) -> Command {
        let mut command = Command::new("wrk");
        command
            .arg("-t1")
            .arg(format!("-c{}", self.connections.max(1)))
            .arg(format!("-d{}s", self.seconds.max(1)))
            .arg("--timeout")
            .arg(format!("{}s", self.timeout.as_secs().max(1)))
            .arg("-s")
            .arg(script);
        if let Load::Fixed {
            authorization: Some(value),
        } = &self.load
        {
            command.arg("-H").arg(format!("Authorization: {value}"));
        }
        command.arg(format!("http://{}{}", self.addr, self.path));
        let args = self.load.script_args();
        if !args.is_empty() {
            command.arg("--").args(args);
        }
        command
    }
}

/// Socket-level failures and error statuses wrk counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WrkErrors {
    /// Connections that could not be opened.
    pub connect: u64,
    /// Read errors.
    pub read: u64,
    /// Write errors.
    pub write: u64,
    /// Responses with a status of 400 or more.
    pub status: u64,
    /// Responses slower than the timeout.
    pub timeout: u64,
}

impl WrkErrors {
    /// Failures other than error statuses.
    pub fn socket(&self) -> u64 {
        self.connect + self.read + self.write + self.timeout
    }
}

/// What one wrk run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkReport {
    /// Completed requests.
    pub requests: u64,
    /// How long the run took.
    pub duration: Duration,
    /// Errors counted.
    pub errors: WrkErrors,
    /// Median latency.
    pub p50: Duration,
    /// 90th percentile latency.
    pub p90: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Slowest response.
    pub max: Duration,
    /// Responses by status, where the script counted them (empty otherwise).
    pub statuses: BTreeMap<u16, u64>,
}

/// wrk's output did not hold the summary the harness's script prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseWrkError {
    /// No `bench-summary` line: wrk failed before its end, or ran another script.
    #[error("no bench-summary line in wrk's output")]
    NoSummary,
    /// A field is missing or not a number.
    #[error("bench-summary field `{0}` is missing or not a number")]
    Field(&'static str),
    /// A `STATUS=COUNT` pair does not parse.
    #[error("bench-statuses entry `{0}` is not STATUS=COUNT")]
    Status(String),
}

impl WrkReport {
    /// Reads the lines the harness's Lua `done()` prints among wrk's own output.
    pub fn parse(output: &str) -> Result<Self, ParseWrkError> {
        let summary = output
            .lines()
            .find_map(|line| line.trim().strip_prefix("bench-summary "))
            .ok_or(ParseWrkError::NoSummary)?;
        let fields: BTreeMap<&str, &str> = summary
            .split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .collect();
        let number = |name: &'static str| -> Result<u64, ParseWrkError> {
            fields
                .get(name)
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(ParseWrkError::Field(name))
        };
        let micros = |name: &'static str| number(name).map(Duration::from_micros);
        let mut statuses = BTreeMap::new();
        if let Some(line) = output
            .lines()
            .find_map(|line| line.trim().strip_prefix("bench-statuses"))
        {
            for pair in line.split_whitespace() {
                let parsed = pair
                    .split_once('=')
                    .and_then(|(s, n)| Some((s.parse::<u16>().ok()?, n.parse::<u64>().ok()?)));
                let (status, count) = parsed.ok_or_else(|| ParseWrkError::Status(pair.into()))?;
                *statuses.entry(status).or_insert(0) += count;
            }
        }
        Ok(Self {
            requests: number("requests")?,
            duration: micros("duration_us")?,
            errors: WrkErrors {
                connect: number("connect")?,
                read: number("read")?,
                write: number("write")?,
                status: number("status")?,
                timeout: number("timeout")?,
            },
            p50: micros("p50_us")?,
            p90: micros("p90_us")?,
            p99: micros("p99_us")?,
            max: micros("max_us")?,
            statuses,
        })
    }

    /// Completed requests per second.
    pub fn rate(&self) -> f64 {
        per_second(self.requests, self.duration)
    }

    /// Responses with `status` per second (needs a counting script).
    pub fn status_rate(&self, status: u16) -> f64 {
        per_second(self.status_count(status), self.duration)
    }

    /// Responses with `status` (needs a counting script).
    pub fn status_count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// Responses counted by status, all statuses together.
    pub fn counted(&self) -> u64 {
        self.statuses.values().sum()
    }
}

fn per_second(count: u64, duration: Duration) -> f64 {
    let seconds = duration.as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "Running 4s test @ http://127.0.0.1:41234/protected
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   310.12us  120.00us   5.10ms   90.00%
    Req/Sec    48.10k     1.20k   50.00k    70.00%
  191234 requests in 4.00s, 30.10MB read
Requests/sec:  47808.50
Transfer/sec:      7.52MB
bench-summary requests=191234 duration_us=4000123 bytes=31562711 connect=0 read=0 write=0 status=3 timeout=1 p50_us=290 p90_us=420 p99_us=1210 max_us=5100
bench-statuses 200=191231 503=3
";

    #[test]
    fn reads_the_summary_line() {
        let report = WrkReport::parse(OUTPUT).unwrap();
        assert_eq!(report.requests, 191_234);
        assert_eq!(report.duration, Duration::from_micros(4_000_123));
        assert_eq!(report.p50, Duration::from_micros(290));
        assert_eq!(report.p90, Duration::from_micros(420));
        assert_eq!(report.p99, Duration::from_micros(1210));
        assert_eq!(report.max, Duration::from_micros(5100));
        assert_eq!(report.errors.status, 3);
        assert_eq!(report.errors.socket(), 1);
        assert!((report.rate() - 47_807.0).abs() < 1.0, "{}", report.rate());
    }

    #[test]
    fn reads_statuses() {
        let report = WrkReport::parse(OUTPUT).unwrap();
        assert_eq!(report.status_count(200), 191_231);
        assert_eq!(report.status_count(503), 3);
        assert_eq!(report.status_count(401), 0);
        assert_eq!(report.counted(), 191_234);
    }

    #[test]
    fn no_status_counts_is_an_empty_map() {
        let output = "bench-summary requests=10 duration_us=1000000 bytes=1 connect=0 read=0 write=0 status=0 timeout=0 p50_us=1 p90_us=2 p99_us=3 max_us=4\nbench-statuses \n";
        let report = WrkReport::parse(output).unwrap();
        assert!(report.statuses.is_empty());
        assert_eq!(report.rate(), 10.0);
    }

    #[test]
    fn missing_summary_is_an_error() {
        assert_eq!(
            WrkReport::parse("unable to connect to 127.0.0.1:1 Connection refused\n"),
            Err(ParseWrkError::NoSummary)
        );
    }

    #[test]
    fn missing_or_bad_field_is_named() {
        let output = "bench-summary requests=10 duration_us=x bytes=1";
        assert_eq!(
            WrkReport::parse(output),
            Err(ParseWrkError::Field("duration_us"))
        );
    }

    #[test]
    fn bad_status_pair_is_an_error() {
        let output = "bench-summary requests=10 duration_us=1 bytes=1 connect=0 read=0 write=0 status=0 timeout=0 p50_us=1 p90_us=2 p99_us=3 max_us=4\nbench-statuses 200=x\n";
        assert_eq!(
            WrkReport::parse(output),
            Err(ParseWrkError::Status("200=x".into()))
        );
    }

    #[test]
    fn zero_duration_rate_is_zero() {
        assert_eq!(per_second(5, Duration::ZERO), 0.0);
    }

    #[test]
    fn command_line_per_load() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let run = |load| WrkRun {
            addr,
            path: "/protected".into(),
            connections: 16,
            seconds: 4,
            timeout: Duration::from_secs(5),
            load,
        };
        let args = |run: WrkRun| -> Vec<String> {
            run.command(Path::new("s.lua"))
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            args(run(Load::Fixed {
                authorization: Some("Basic abc".into())
            })),
            [
                "-t1",
                "-c16",
                "-d4s",
                "--timeout",
                "5s",
                "-s",
                "s.lua",
                "-H",
                "Authorization: Basic abc",
                "http://127.0.0.1:8080/protected"
            ]
        );
        let miss = args(run(Load::Miss { tag: "r1".into() }));
        assert_eq!(miss[miss.len() - 2..], ["--", "r1"]);
        let probe = args(run(Load::Probe {
            interval: Duration::from_millis(5),
        }));
        assert_eq!(probe[probe.len() - 2..], ["--", "5"]);
    }

    #[test]
    fn scripts_end_with_the_report() {
        for load in [
            Load::Fixed {
                authorization: None,
            },
            Load::Miss { tag: "t".into() },
            Load::Probe {
                interval: Duration::from_millis(5),
            },
        ] {
            assert!(load.script().ends_with(REPORT_LUA));
        }
    }
}
