//! Model sets held for Java behind opaque handles. A registry rather than raw pointers: a
//! stale, double-closed or forged handle is an error, never a use-after-free.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use manyfold_core::predict::ModelSet;
use manyfold_core::Error;

static NEXT: AtomicI64 = AtomicI64::new(1);
static SETS: OnceLock<Mutex<HashMap<i64, Arc<ModelSet>>>> = OnceLock::new();

fn sets() -> std::sync::MutexGuard<'static, HashMap<i64, Arc<ModelSet>>> {
    SETS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

pub fn insert(set: ModelSet) -> i64 {
    let handle = NEXT.fetch_add(1, Ordering::Relaxed);
    sets().insert(handle, Arc::new(set));
    handle
}

fn unknown(handle: i64) -> Error {
    Error::invalid_param(
        "handle",
        format!("no open model set with handle {handle} (closed already?)"),
    )
}

pub fn get(handle: i64) -> Result<Arc<ModelSet>, Error> {
    sets().get(&handle).cloned().ok_or_else(|| unknown(handle))
}

pub fn remove(handle: i64) -> Result<(), Error> {
    sets().remove(&handle).map(drop).ok_or_else(|| unknown(handle))
}
