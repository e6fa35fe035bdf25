//! `endpoint-auth-bench`: see the library's documentation, or run it with `--help`.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Instant;

use endpoint_auth_bench::harness;
use endpoint_auth_bench::plan::Options;
use endpoint_auth_bench::process::{Processes, StopAllOnDrop};
use endpoint_auth_bench::report::report;
use endpoint_auth_bench::{BenchError, USAGE};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(BenchError::Interrupted) => {
            eprintln!("{}", BenchError::Interrupted);
            ExitCode::from(130)
        }
        Err(BenchError::Usage(message)) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), BenchError> {
    let options = Options::parse(std::env::args().skip(1))?;
    if options.help {
        println!("{USAGE}");
        return Ok(());
    }
    let plan = options.plan();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let processes = Processes::new();
    let _guard = StopAllOnDrop(processes.clone());
    let on_signal = processes.clone();
    runtime.spawn(async move {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match terminate.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = terminated => {},
        }
        eprintln!("\ninterrupted: stopping every process this run started");
        on_signal.interrupt();
    });

    let started = Instant::now();
    let measurements = harness::run(&plan, &processes, runtime.handle())?;
    let report = report(&measurements);
    let markdown = report.markdown();
    println!();
    print!("{markdown}");
    println!(
        "\n({} run took {:.0} s)",
        plan.mode,
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &options.markdown {
        std::fs::write(path, &markdown).map_err(|source| BenchError::File {
            action: "write",
            path: path.clone(),
            source,
        })?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
