//! Native objects held for Java behind opaque handles (model sets, search data sets). A registry
//! rather than raw pointers: a stale, double-closed or forged handle is an error, never a
//! use-after-free. Handles come from one counter, so a handle of one kind is never a valid
//! handle of another.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use manyfold_core::group_buffer::GroupBuffer;
use manyfold_core::predict::ModelSet;
use manyfold_core::search::SearchData;
use manyfold_core::Error;

static NEXT: AtomicI64 = AtomicI64::new(1);

/// The open objects of one kind.
pub struct Handles<T> {
    what: &'static str,
    open: OnceLock<Mutex<HashMap<i64, Arc<T>>>>,
}

pub static MODEL_SETS: Handles<ModelSet> = Handles::new("model set");
pub static SEARCH_DATA: Handles<SearchData> = Handles::new("search data set");
/// A Spark task's rows by group until it trains them (grouped training without a sort).
pub static GROUP_BUFFERS: Handles<Mutex<GroupBuffer>> = Handles::new("group buffer");

/// The buffer behind a handle, locked (a poisoned lock is taken over: the buffer's state is
/// checked by its own methods).
pub fn lock_buffer(buffer: &Mutex<GroupBuffer>) -> MutexGuard<'_, GroupBuffer> {
    buffer.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T> Handles<T> {
    const fn new(what: &'static str) -> Self {
        Handles { what, open: OnceLock::new() }
    }

    fn open(&self) -> MutexGuard<'_, HashMap<i64, Arc<T>>> {
        self.open.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
    }

    fn unknown(&self, handle: i64) -> Error {
        Error::invalid_param(
            "handle",
            format!("no open {} with handle {handle} (closed already?)", self.what),
        )
    }

    pub fn insert(&self, value: T) -> i64 {
        let handle = NEXT.fetch_add(1, Ordering::Relaxed);
        self.open().insert(handle, Arc::new(value));
        handle
    }

    /// The object, shared: a concurrent close frees it only after every user is done.
    pub fn get(&self, handle: i64) -> Result<Arc<T>, Error> {
        self.open().get(&handle).cloned().ok_or_else(|| self.unknown(handle))
    }

    pub fn remove(&self, handle: i64) -> Result<(), Error> {
        self.open().remove(&handle).map(drop).ok_or_else(|| self.unknown(handle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_double_closed_handles_are_errors() {
        let table: Handles<u8> = Handles::new("thing");
        let h = table.insert(7);
        assert_eq!(table.get(h).map(|v| *v), Ok(7));
        assert!(table.remove(h).is_ok());
        let e = table.remove(h).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("no open thing with handle"), "{e}");
        assert!(table.get(h).is_err() && table.get(-5).is_err());
    }

    #[test]
    fn an_unknown_or_closed_group_buffer_is_a_clean_error() {
        let h = GROUP_BUFFERS.insert(Mutex::new(GroupBuffer::new(10).unwrap()));
        assert!(GROUP_BUFFERS.get(h).is_ok());
        assert!(GROUP_BUFFERS.remove(h).is_ok());
        let e = GROUP_BUFFERS.get(h).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("no open group buffer with handle"), "{e}");
        assert!(GROUP_BUFFERS.remove(h).is_err() && GROUP_BUFFERS.get(0).is_err());
        // A handle of another kind is not a group buffer.
        let other: Handles<u8> = Handles::new("other");
        assert!(GROUP_BUFFERS.get(other.insert(1)).is_err());
    }

    #[test]
    fn a_handle_of_one_kind_is_not_one_of_another() {
        let (models, data): (Handles<u8>, Handles<u16>) = (Handles::new("a"), Handles::new("b"));
        let h = models.insert(1);
        assert!(data.get(h).is_err() && data.remove(h).is_err());
        // One counter for every kind (other tests draw from it too, so only the order is known).
        assert!(data.insert(2) > h);
        assert!(models.get(h).is_ok());
    }
}
