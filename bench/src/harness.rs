//! The run: build, start the servers on loopback, measure in interleaved rounds, storm, stop
//! everything.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::binaries::{self, Binaries};
use crate::error::BenchError;
use crate::inprocess;
use crate::net::{basic, free_loopback_addr, get_status, load_average, peak_rss_kib};
use crate::plan::{configs, round_order, Case, Config, Framework, Plan, ServerKind};
use crate::postgres::{BenchDatabase, POSTGRES_URL_VAR};
use crate::process::{Pid, Processes};
use crate::report::{fmt_duration, fmt_rate, Measurements, Postgres, Storm};
use crate::wrk::{Load, WrkReport, WrkRun};
use crate::{DEMO_EMAIL, DEMO_PASSWORD};

/// How long a server may take to answer `GET /open` after it is started.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// wrk's per-request timeout in throughput runs.
const RUN_TIMEOUT: Duration = Duration::from_secs(5);
/// wrk's per-request timeout in the storm, where requests may wait for a verifier.
const STORM_TIMEOUT: Duration = Duration::from_secs(10);

/// A wrk process of this run.
struct WrkHandle {
    name: String,
    pid: Pid,
    output: PathBuf,
    limit: Duration,
}

/// A server process of this run.
#[derive(Debug, Clone)]
struct Server {
    name: String,
    pid: Pid,
    addr: SocketAddr,
}

/// Runs the whole benchmark; `processes` holds everything started, for the caller's Ctrl-C
/// handler. PostgreSQL work runs on `runtime`.
pub fn run(
    plan: &Plan,
    processes: &Processes,
    runtime: &tokio::runtime::Handle,
) -> Result<Measurements, BenchError> {
    let load_before = load_average();
    let wrk_version = wrk_version()?;
    let dir = tempfile::Builder::new()
        .prefix("endpoint-auth-bench-")
        .tempdir()?;
    let binaries = binaries::build(processes, dir.path())?;

    let database = match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(runtime.block_on(BenchDatabase::create(&url))?),
        _ => None,
    };
    let measured = (|| {
        eprintln!("timing argon2id and the single-flight of identical first logins (in-process)…");
        let verify_time = inprocess::argon2_verification_time(plan.verify_samples)?;
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        let parallel_rate = inprocess::argon2_parallel_rate(cores, plan.verify_samples)?;
        let first_logins = inprocess::identical_first_logins(plan.first_logins)?;
        let mut harness = Harness {
            plan,
            processes,
            binaries,
            dir: dir.path().to_owned(),
            postgres_url: database.as_ref().map(|d| d.url.clone()),
            scripts: BTreeMap::new(),
            runs_started: 0,
        };
        let (runs, storms) = harness.measure()?;
        Ok::<_, BenchError>((verify_time, parallel_rate, first_logins, runs, storms))
    })();
    // Stop the servers before dropping their database.
    processes.stop_all();
    if let Some(database) = &database {
        let dropped = runtime.block_on(database.drop_database());
        if let (Ok(_), Err(e)) = (&measured, dropped) {
            return Err(e);
        }
    }
    let (verify_time, parallel_rate, first_logins, runs, storms) = measured?;
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    Ok(Measurements {
        plan: plan.clone(),
        cores,
        // The servers run the default pool: one hashing thread per core.
        workers: cores,
        verify_time,
        parallel_rate,
        first_logins,
        postgres: if database.is_some() {
            Postgres::Measured
        } else {
            Postgres::Skipped(format!("{POSTGRES_URL_VAR} is not set"))
        },
        runs,
        storms,
        wrk_version,
        load_average: (load_before, load_average()),
    })
}

/// `wrk -v`'s first line; also tells whether wrk is installed.
fn wrk_version() -> Result<String, BenchError> {
    let output = Command::new("wrk")
        .arg("-v")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => BenchError::WrkMissing,
            _ => BenchError::Io(e),
        })?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    Ok(text
        .lines()
        .next()
        .and_then(|line| line.split(" Copyright").next())
        .unwrap_or("wrk")
        .trim()
        .to_owned())
}

type Runs = BTreeMap<Config, Vec<WrkReport>>;

struct Harness<'a> {
    plan: &'a Plan,
    processes: &'a Processes,
    binaries: Binaries,
    dir: PathBuf,
    postgres_url: Option<String>,
    scripts: BTreeMap<&'static str, PathBuf>,
    runs_started: usize,
}

impl Harness<'_> {
    fn measure(&mut self) -> Result<(Runs, Vec<Storm>), BenchError> {
        let configs = configs(self.postgres_url.is_some());
        eprintln!(
            "measuring {} configurations × {} round(s), then {} storms: about {:.0} s",
            configs.len(),
            self.plan.rounds,
            Framework::ALL.len(),
            self.plan.estimate(configs.len()).as_secs_f64()
        );
        let mut servers = BTreeMap::new();
        for framework in Framework::ALL {
            for kind in [
                ServerKind::Bench,
                ServerKind::CliSqlite,
                ServerKind::CliPostgres,
            ] {
                if kind == ServerKind::CliPostgres && self.postgres_url.is_none() {
                    continue;
                }
                let server = self.start(framework, kind, None)?;
                servers.insert((framework, kind), server);
            }
        }
        let server_of =
            |config: &Config| servers[&(config.framework, config.case.server())].clone();
        // Each configuration answers as the row says before it is measured (and the cache is
        // warm for the cache-hit rows).
        for config in &configs {
            sanity(config, &server_of(config))?;
        }
        if self.plan.warmup_seconds > 0 {
            eprintln!(
                "warm-up: every configuration for {} s",
                self.plan.warmup_seconds
            );
            for config in &configs {
                self.wrk_config(config, &server_of(config), self.plan.warmup_seconds)?;
            }
        }
        let mut runs: Runs = BTreeMap::new();
        for round in 0..self.plan.rounds {
            eprintln!("round {}/{}", round + 1, self.plan.rounds);
            for config in round_order(&configs, round) {
                let report = self.wrk_config(&config, &server_of(&config), self.plan.seconds)?;
                eprintln!(
                    "  {:<64} {:>9} req/s  p99 {}",
                    config.name(),
                    fmt_rate(report.rate()),
                    fmt_duration(report.p99)
                );
                runs.entry(config).or_default().push(report);
            }
        }
        for server in servers.values() {
            self.processes.stop(server.pid);
        }
        let mut storms = Vec::new();
        for framework in Framework::ALL {
            storms.push(self.storm(framework)?);
        }
        Ok((runs, storms))
    }

    /// Starts a server of `kind` on a free loopback port and waits for `GET /open` → 200.
    fn start(
        &self,
        framework: Framework,
        kind: ServerKind,
        sqlite_file: Option<&str>,
    ) -> Result<Server, BenchError> {
        let addr = free_loopback_addr()?;
        let (name, mut command) = match kind {
            ServerKind::Bench => {
                let mut command = Command::new(&self.binaries.bench_server);
                command
                    .args(["--framework", framework.name()])
                    .arg("--bind")
                    .arg(addr.to_string());
                (format!("bench-server ({})", framework.name()), command)
            }
            ServerKind::CliSqlite | ServerKind::CliPostgres => {
                let (db, what) = match (kind, &self.postgres_url) {
                    (ServerKind::CliPostgres, Some(url)) => (url.clone(), "PostgreSQL"),
                    _ => {
                        let file = sqlite_file.unwrap_or(framework.name());
                        let path = self.dir.join(format!("{file}.db"));
                        (format!("sqlite://{}", path.display()), "SQLite")
                    }
                };
                let mut command = Command::new(&self.binaries.cli);
                command
                    .arg("--db")
                    .arg(db)
                    .args(["serve", "--demo", "--framework", framework.name()])
                    .arg("--bind")
                    .arg(addr.to_string())
                    // The access log off: a line per request would be measured too.
                    .env("RUST_LOG", "warn")
                    .env_remove("ENDPOINT_AUTH_DB");
                (
                    format!("endpoint-auth serve ({}, {what})", framework.name()),
                    command,
                )
            }
        };
        let log_path = self
            .dir
            .join(format!("{}.log", name.replace([' ', '(', ')', ','], "_")));
        let log = File::create(&log_path).map_err(|source| BenchError::File {
            action: "create",
            path: log_path.clone(),
            source,
        })?;
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let pid = self.processes.spawn(&name, &mut command)?;
        let started = Instant::now();
        let fail = |reason: String| BenchError::ServerStart {
            name: name.clone(),
            reason,
            log: tail(&log_path),
        };
        loop {
            if let Some(status) = self.processes.try_wait(pid)? {
                return Err(fail(format!("it exited ({status})")));
            }
            if let Ok(200) = get_status(addr, "/open", None, Duration::from_secs(1)) {
                break;
            }
            if started.elapsed() > READY_TIMEOUT {
                self.processes.stop(pid);
                return Err(fail(format!(
                    "GET http://{addr}/open did not answer 200 within {READY_TIMEOUT:?}"
                )));
            }
            thread::sleep(Duration::from_millis(50));
        }
        Ok(Server { name, pid, addr })
    }

    fn wrk_config(
        &mut self,
        config: &Config,
        server: &Server,
        seconds: u64,
    ) -> Result<WrkReport, BenchError> {
        let (load, connections) = match config.case {
            Case::Miss => (
                Load::Miss {
                    tag: format!("r{}", self.runs_started),
                },
                self.plan.miss_connections,
            ),
            Case::Open | Case::CliOpen => (
                Load::Fixed {
                    authorization: None,
                },
                self.plan.connections,
            ),
            _ => (
                Load::Fixed {
                    authorization: Some(basic(DEMO_EMAIL, DEMO_PASSWORD)),
                },
                self.plan.connections,
            ),
        };
        let run = WrkRun {
            addr: server.addr,
            path: config.case.path().to_owned(),
            connections,
            seconds,
            timeout: RUN_TIMEOUT,
            load,
        };
        let name = format!("{} on {}", config.name(), server.name);
        let handle = self.spawn_wrk(&name, &run)?;
        self.finish_wrk(handle)
    }

    fn script(&mut self, load: &Load) -> Result<PathBuf, BenchError> {
        let kind = match load {
            Load::Fixed { .. } => "fixed",
            Load::Miss { .. } => "miss",
            Load::Probe { .. } => "probe",
        };
        if let Some(path) = self.scripts.get(kind) {
            return Ok(path.clone());
        }
        let path = self.dir.join(format!("{kind}.lua"));
        std::fs::write(&path, load.script()).map_err(|source| BenchError::File {
            action: "write",
            path: path.clone(),
            source,
        })?;
        self.scripts.insert(kind, path.clone());
        Ok(path)
    }

    fn spawn_wrk(&mut self, name: &str, run: &WrkRun) -> Result<WrkHandle, BenchError> {
        let script = self.script(&run.load)?;
        self.runs_started += 1;
        let output = self.dir.join(format!("wrk-{}.out", self.runs_started));
        let file = File::create(&output).map_err(|source| BenchError::File {
            action: "create",
            path: output.clone(),
            source,
        })?;
        let mut command = run.command(&script);
        command
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        let pid = self
            .processes
            .spawn(name, &mut command)
            .map_err(|e| match e {
                BenchError::Spawn { source, .. }
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    BenchError::WrkMissing
                }
                other => other,
            })?;
        Ok(WrkHandle {
            name: name.to_owned(),
            pid,
            output,
            limit: Duration::from_secs(run.seconds) + run.timeout + Duration::from_secs(15),
        })
    }

    fn finish_wrk(&self, handle: WrkHandle) -> Result<WrkReport, BenchError> {
        let status = self.processes.wait(handle.pid, handle.limit)?;
        let output =
            std::fs::read_to_string(&handle.output).map_err(|source| BenchError::File {
                action: "read",
                path: handle.output.clone(),
                source,
            })?;
        let fail = |reason: String| BenchError::Wrk {
            name: handle.name.clone(),
            reason,
            output: tail_of(&output),
        };
        if !status.success() {
            return Err(fail(format!("it exited ({status})")));
        }
        WrkReport::parse(&output).map_err(|e| fail(e.to_string()))
    }

    /// A storm of cache misses on a fresh CLI server over SQLite, with the paced probe.
    fn storm(&mut self, framework: Framework) -> Result<Storm, BenchError> {
        let plan = self.plan;
        let file = format!("storm-{}", framework.name());
        let server = self.start(framework, ServerKind::CliSqlite, Some(&file))?;
        eprintln!("storm on {}", server.name);
        let probe = |seconds| WrkRun {
            addr: server.addr,
            path: "/open".to_owned(),
            connections: 1,
            seconds,
            timeout: STORM_TIMEOUT,
            load: Load::Probe {
                interval: plan.probe_interval,
            },
        };
        let alone_run = probe(plan.probe_seconds);
        let mut probe_alone = Vec::new();
        let alone = self.spawn_wrk(&format!("probe alone on {}", server.name), &alone_run)?;
        probe_alone.push(self.finish_wrk(alone)?);

        let storm_run = WrkRun {
            addr: server.addr,
            path: "/protected".to_owned(),
            connections: plan.storm_connections,
            seconds: plan.storm_seconds,
            timeout: STORM_TIMEOUT,
            load: Load::Miss {
                tag: format!("storm-{}", framework.name()),
            },
        };
        let storm = self.spawn_wrk(&format!("storm on {}", server.name), &storm_run)?;
        // The probe starts once the storm has filled the queue, and ends before it.
        thread::sleep(Duration::from_millis(500));
        let during_run = probe(plan.storm_seconds.saturating_sub(1).max(1));
        let during = self.spawn_wrk(
            &format!("probe during the storm on {}", server.name),
            &during_run,
        )?;
        let probe_during = self.finish_wrk(during)?;
        let storm = self.finish_wrk(storm)?;
        let peak_rss_kib = peak_rss_kib(server.pid.0)?;
        // The probe alone again: background load that changed meanwhile weighs on both sides.
        let alone = self.spawn_wrk(
            &format!("probe alone after the storm on {}", server.name),
            &alone_run,
        )?;
        probe_alone.push(self.finish_wrk(alone)?);
        self.processes.stop(server.pid);
        let alone_p99: Vec<String> = probe_alone.iter().map(|r| fmt_duration(r.p99)).collect();
        eprintln!(
            "  verified {:.1}/s, {} of {} answers 503, probe p99 {} (alone {}), peak RSS {:.1} MiB",
            storm.status_rate(401),
            storm.status_count(503),
            storm.counted(),
            fmt_duration(probe_during.p99),
            alone_p99.join(" before, ") + " after",
            peak_rss_kib as f64 / 1024.0
        );
        Ok(Storm {
            framework,
            storm,
            probe_alone,
            probe_during,
            peak_rss_kib,
        })
    }
}

/// One request as the row makes them; the status must be the row's.
fn sanity(config: &Config, server: &Server) -> Result<(), BenchError> {
    let authorization = match config.case {
        Case::Open | Case::CliOpen => None,
        Case::Miss => Some(basic("sanity@bench.invalid", "not-the-password")),
        _ => Some(basic(DEMO_EMAIL, DEMO_PASSWORD)),
    };
    let path = config.case.path();
    let got = get_status(
        server.addr,
        path,
        authorization.as_deref(),
        Duration::from_secs(10),
    )
    .unwrap_or(0);
    let expected = config.case.expected_status();
    if got != expected {
        return Err(BenchError::Sanity {
            name: format!("{} on {}", config.name(), server.name),
            path: path.to_owned(),
            got,
            expected,
        });
    }
    Ok(())
}

fn tail(path: &Path) -> String {
    tail_of(&std::fs::read_to_string(path).unwrap_or_default())
}

/// The last 20 lines.
fn tail_of(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
