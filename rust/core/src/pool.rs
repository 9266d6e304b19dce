//! Rayon pools sized to the Spark task's CPUs, never the whole machine. Built once per size and
//! kept: a JNI call per batch must not pay for thread start-up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::ThreadPool;

use crate::error::{Error, Result};

/// The largest pool a call may ask for; more is surely a caller bug.
const MAX_THREADS: usize = 256;

static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();

/// Runs `f` inside a pool of `threads` threads (0 means 1).
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
    let pool = {
        let mut pools =
            POOLS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        match pools.get(&threads) {
            Some(p) => Arc::clone(p),
            None => {
                let p = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("manyfold-{i}"))
                    .build()
                    .map_err(|e| Error::invalid_param("threads", e.to_string()))?;
                let p = Arc::new(p);
                pools.insert(threads, Arc::clone(&p));
                p
            }
        }
    };
    Ok(pool.install(f))
}
