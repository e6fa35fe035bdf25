//! Every process the run starts, so that each is stopped by its PID: when it is done with, on an
//! error, and on Ctrl-C or SIGTERM.

use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::BenchError;

/// A started process's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pid(pub u32);

/// The processes this run started and has not yet seen exit. Clones share the same set.
#[derive(Clone, Default)]
pub struct Processes {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    children: Mutex<Vec<Tracked>>,
    interrupted: AtomicBool,
}

struct Tracked {
    name: String,
    child: Child,
}

impl Processes {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    fn children(&self) -> MutexGuard<'_, Vec<Tracked>> {
        self.inner
            .children
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts `command` and remembers it as `name`.
    pub fn spawn(&self, name: &str, command: &mut Command) -> Result<Pid, BenchError> {
        // Held while spawning, so that an interruption cannot miss a process being started.
        let mut children = self.children();
        if self.is_interrupted() {
            return Err(BenchError::Interrupted);
        }
        let child = command.spawn().map_err(|source| BenchError::Spawn {
            name: name.to_owned(),
            program: command.get_program().to_string_lossy().into_owned(),
            source,
        })?;
        let pid = Pid(child.id());
        children.push(Tracked {
            name: name.to_owned(),
            child,
        });
        Ok(pid)
    }

    /// `Some(status)` once the process has exited (and forgets it), `None` while it runs.
    pub fn try_wait(&self, pid: Pid) -> Result<Option<ExitStatus>, BenchError> {
        let mut children = self.children();
        let Some(index) = children.iter().position(|t| t.child.id() == pid.0) else {
            // Stopped by an interruption, or already collected.
            return Err(BenchError::Interrupted);
        };
        match children[index].child.try_wait()? {
            Some(status) => {
                children.remove(index);
                Ok(Some(status))
            }
            None => Ok(None),
        }
    }

    /// Waits for the process to exit; past `timeout` it is stopped and that is an error.
    pub fn wait(&self, pid: Pid, timeout: Duration) -> Result<ExitStatus, BenchError> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.try_wait(pid)? {
                if self.is_interrupted() {
                    return Err(BenchError::Interrupted);
                }
                return Ok(status);
            }
            if started.elapsed() > timeout {
                let name = self.name(pid).unwrap_or_default();
                self.stop(pid);
                return Err(BenchError::Timeout { name, timeout });
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn name(&self, pid: Pid) -> Option<String> {
        self.children()
            .iter()
            .find(|t| t.child.id() == pid.0)
            .map(|t| t.name.clone())
    }

    /// Stops the process (SIGKILL to its PID) and reaps it; a process that already exited is
    /// just forgotten.
    pub fn stop(&self, pid: Pid) {
        let tracked = {
            let mut children = self.children();
            children
                .iter()
                .position(|t| t.child.id() == pid.0)
                .map(|index| children.remove(index))
        };
        if let Some(mut tracked) = tracked {
            kill(&mut tracked);
        }
    }

    /// Stops every process still running.
    pub fn stop_all(&self) {
        let all: Vec<Tracked> = self.children().drain(..).collect();
        for mut tracked in all {
            kill(&mut tracked);
        }
    }

    /// Marks the run interrupted and stops everything; later spawns are refused.
    pub fn interrupt(&self) {
        self.inner.interrupted.store(true, Ordering::SeqCst);
        self.stop_all();
    }

    /// Whether [`interrupt`](Self::interrupt) was called.
    pub fn is_interrupted(&self) -> bool {
        self.inner.interrupted.load(Ordering::SeqCst)
    }

    /// How many processes are being tracked.
    pub fn len(&self) -> usize {
        self.children().len()
    }

    /// Whether no process is being tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn kill(tracked: &mut Tracked) {
    if matches!(tracked.child.try_wait(), Ok(None)) {
        let _ = tracked.child.kill();
    }
    let _ = tracked.child.wait();
}

/// Stops every process of the set when dropped: the run's last line of defence on an error.
pub struct StopAllOnDrop(pub Processes);

impl Drop for StopAllOnDrop {
    fn drop(&mut self) {
        self.0.stop_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleeper() -> Command {
        let mut command = Command::new("sleep");
        command.arg("30");
        command
    }

    #[test]
    fn stop_kills_by_pid() {
        let processes = Processes::new();
        let pid = processes.spawn("sleep", &mut sleeper()).unwrap();
        assert_eq!(processes.try_wait(pid).unwrap(), None);
        processes.stop(pid);
        assert!(processes.is_empty());
    }

    #[test]
    fn wait_times_out_and_stops() {
        let processes = Processes::new();
        let pid = processes.spawn("sleep", &mut sleeper()).unwrap();
        let err = processes.wait(pid, Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, BenchError::Timeout { .. }), "{err}");
        assert!(processes.is_empty());
    }

    #[test]
    fn interrupt_stops_everything_and_refuses_more() {
        let processes = Processes::new();
        let pid = processes.spawn("sleep", &mut sleeper()).unwrap();
        processes.interrupt();
        assert!(processes.is_empty());
        assert!(matches!(
            processes.wait(pid, Duration::from_secs(1)),
            Err(BenchError::Interrupted)
        ));
        assert!(matches!(
            processes.spawn("sleep", &mut sleeper()),
            Err(BenchError::Interrupted)
        ));
    }

    #[test]
    fn guard_stops_on_drop() {
        let processes = Processes::new();
        {
            let _guard = StopAllOnDrop(processes.clone());
            processes.spawn("sleep", &mut sleeper()).unwrap();
            assert_eq!(processes.len(), 1);
        }
        assert!(processes.is_empty());
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let processes = Processes::new();
        let err = processes
            .spawn(
                "ghost",
                &mut Command::new("endpoint-auth-bench-no-such-program"),
            )
            .unwrap_err();
        assert!(matches!(err, BenchError::Spawn { .. }), "{err}");
    }
}
