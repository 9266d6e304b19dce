//! Rayon pools sized to the Spark task's CPUs, never the whole machine. Built once and kept: a
//! JNI call per batch must not pay for thread start-up. Each call has a pool of its own while it
//! runs: an executor runs several tasks at once, and tasks sharing one pool would take turns.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use rayon::ThreadPool;

use crate::error::{Error, Result};

/// The largest pool a call may ask for; more is surely a caller bug.
const MAX_THREADS: usize = 256;

/// Idle pools by size: as many of a size as calls of that size have run at once.
static IDLE: OnceLock<Mutex<HashMap<usize, Vec<ThreadPool>>>> = OnceLock::new();

fn idle() -> std::sync::MutexGuard<'static, HashMap<usize, Vec<ThreadPool>>> {
    IDLE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

/// A pool taken from the idle ones for one call, given back when dropped (a panic included).
struct Lease {
    threads: usize,
    pool: Option<ThreadPool>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            idle().entry(self.threads).or_default().push(pool);
        }
    }
}

/// Runs `f` inside a pool of `threads` threads (0 means 1) that no other call uses meanwhile.
///
/// # Errors
/// `InvalidParam` for more than 256 threads, or when the pool cannot be built.
pub fn install<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    let threads = threads.max(1);
    if threads > MAX_THREADS {
        return Err(Error::invalid_param(
            "threads",
            format!("must be <= {MAX_THREADS}, got {threads}"),
        ));
    }
    let reused = idle().get_mut(&threads).and_then(Vec::pop);
    let pool = match reused {
        Some(p) => p,
        None => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("manyfold-{i}"))
            .build()
            .map_err(|e| Error::invalid_param("threads", e.to_string()))?,
    };
    let lease = Lease { threads, pool: Some(pool) };
    Ok(lease.pool.as_ref().expect("a leased pool").install(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// Two calls of one thread each, at once: each waits inside its pool until the other is
    /// inside too, which only happens if they do not share a pool.
    #[test]
    fn concurrent_calls_do_not_take_turns() {
        let inside = AtomicUsize::new(0);
        let both = || {
            install(1, || {
                inside.fetch_add(1, Ordering::SeqCst);
                let deadline = Instant::now() + Duration::from_secs(10);
                while inside.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
                inside.load(Ordering::SeqCst)
            })
            .unwrap()
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(both);
            let b = s.spawn(both);
            (a.join().unwrap(), b.join().unwrap())
        });
        assert_eq!((a, b), (2, 2));
    }

    #[test]
    fn a_pool_has_the_threads_asked_for_and_is_reused() {
        assert_eq!(install(3, rayon::current_num_threads).unwrap(), 3);
        assert_eq!(install(0, rayon::current_num_threads).unwrap(), 1);
        // Calls one after another (of a size no other test uses) share one idle pool.
        for _ in 0..3 {
            install(7, || ()).unwrap();
            assert_eq!(idle().get(&7).map_or(0, Vec::len), 1);
        }
        assert!(install(257, || ()).is_err());
    }

    #[test]
    fn a_panic_gives_the_pool_back() {
        let before = idle().get(&5).map_or(0, Vec::len);
        let r = std::panic::catch_unwind(|| install(5, || panic!("boom")));
        assert!(r.is_err());
        assert_eq!(idle().get(&5).map_or(0, Vec::len), before + 1);
    }
}
