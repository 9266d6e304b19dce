//! manyfold-jni: the cdylib the JVM loads. Every `Java_*` function is one call to [`bridge`],
//! which runs the body, maps a core error to its Java exception and a panic to
//! `manyfold.jni.NativeException`. Nothing here knows about algorithms; it decodes arguments,
//! calls manyfold-core and encodes results. The contract: docs/native-interface.md.

mod errors;
mod handles;

use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use arrow_buffer::Buffer;
use jni::objects::{
    JByteArray, JByteBuffer, JDoubleArray, JIntArray, JObject, JObjectArray, JString,
};
use jni::sys::{jint, jlong};
use jni::{Env, EnvUnowned};

use manyfold_core::group_buffer::GroupBuffer;
use manyfold_core::model::StoredModel;
use manyfold_core::predict::{ModelSet, PredictOptions};
use manyfold_core::registry;
use manyfold_core::search::{search_groups_ipc, SearchData};
use manyfold_core::train::{train_ipc, TrainOptions, Trainer};
use manyfold_core::Error;

use errors::{BridgeError, ThrowMapped};
use handles::{lock_buffer, GROUP_BUFFERS, MODEL_SETS, SEARCH_DATA};

type BridgeResult<T> = std::result::Result<T, BridgeError>;

/// Runs one native method body; errors and panics become Java exceptions, never an abort.
fn bridge<'local, T: Default + 'local>(
    env: &mut EnvUnowned<'local>,
    body: impl FnOnce(&mut Env<'local>) -> BridgeResult<T>,
) -> T {
    env.with_env(body).resolve::<ThrowMapped>()
}

fn string(env: &Env<'_>, s: &JString<'_>, what: &str) -> BridgeResult<String> {
    if s.is_null() {
        return Err(Error::invalid_param(what, "must not be null").into());
    }
    Ok(s.try_to_string(env)?)
}

fn bytes(env: &Env<'_>, a: &JByteArray<'_>, what: &str) -> BridgeResult<Vec<u8>> {
    if a.is_null() {
        return Err(Error::invalid_param(what, "must not be null").into());
    }
    Ok(env.convert_byte_array(a)?)
}

/// The bytes of a direct `ByteBuffer` as an arrow [`Buffer`], without copying them.
///
/// # Safety
/// The Java caller keeps the buffer's memory alive and unchanged for the whole native call
/// (`NativeApi`'s contract), and every array decoded from the returned buffer is dropped before
/// the call returns: nothing built from it is kept in a model or a handle.
unsafe fn direct_bytes(env: &Env<'_>, b: &JByteBuffer<'_>, what: &str) -> BridgeResult<Buffer> {
    if b.is_null() {
        return Err(Error::invalid_param(what, "must not be null").into());
    }
    let not_direct = || Error::invalid_param(what, "must be a direct ByteBuffer");
    let ptr = env.get_direct_buffer_address(b).map_err(|_| not_direct())?;
    let len = env.get_direct_buffer_capacity(b).map_err(|_| not_direct())?;
    match NonNull::new(ptr) {
        // SAFETY: the JVM guarantees `len` readable bytes at `ptr`; lifetime as documented.
        Some(ptr) => Ok(unsafe { Buffer::from_custom_allocation(ptr, len, Arc::new(())) }),
        None if len == 0 => Ok(Buffer::from(Vec::<u8>::new())),
        None => Err(not_direct().into()),
    }
}

fn threads(n: jint) -> BridgeResult<usize> {
    usize::try_from(n)
        .map_err(|_| Error::invalid_param("threads", format!("must be >= 0, got {n}")).into())
}

fn train_options(n_threads: jint, max_rows_per_group: jlong) -> BridgeResult<TrainOptions> {
    let max_rows = u64::try_from(max_rows_per_group).ok().filter(|m| *m >= 1).ok_or_else(|| {
        Error::invalid_param("maxRowsPerGroup", format!("must be >= 1, got {max_rows_per_group}"))
    })?;
    Ok(TrainOptions { threads: threads(n_threads)?, max_rows_per_group: max_rows })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_version<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
) -> JString<'local> {
    bridge(&mut env, |env| Ok(JString::new(env, manyfold_core::VERSION)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_defaultParams<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    algorithm: JString<'local>,
) -> JString<'local> {
    bridge(&mut env, |env| {
        let algorithm = registry::get(&string(env, &algorithm, "algorithm")?)?;
        Ok(JString::new(env, algorithm.default_params()?.to_string())?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_algorithms<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
) -> JString<'local> {
    bridge(&mut env, |env| Ok(JString::new(env, registry::describe_all()?)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_trainGroups<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    algorithm: JString<'local>,
    params_json: JString<'local>,
    n_threads: jint,
    max_rows_per_group: jlong,
    batch: JByteBuffer<'local>,
) -> JByteArray<'local> {
    bridge(&mut env, |env| {
        let trainer = Trainer::new(
            &string(env, &algorithm, "algorithm")?,
            &string(env, &params_json, "paramsJson")?,
        )?;
        let options = train_options(n_threads, max_rows_per_group)?;
        // SAFETY: see `direct_bytes`; train_ipc keeps nothing of its input.
        let batch = unsafe { direct_bytes(env, &batch, "batch")? };
        let out = train_ipc(&trainer, options, batch)?;
        Ok(env.byte_array_from_slice(&out)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_openModels<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    models: JObjectArray<'local, JByteArray<'local>>,
) -> jlong {
    bridge(&mut env, |env| {
        if models.is_null() {
            return Err(Error::invalid_param("models", "must not be null").into());
        }
        let n = models.len(env)?;
        let mut owned: Vec<Option<Vec<u8>>> = Vec::with_capacity(n);
        for i in 0..n {
            let element = models.get_element(env, i)?;
            owned.push(if element.is_null() {
                None
            } else {
                Some(env.convert_byte_array(&element)?)
            });
            env.delete_local_ref(element);
        }
        let borrowed: Vec<Option<&[u8]>> = owned.iter().map(Option::as_deref).collect();
        Ok(MODEL_SETS.insert(ModelSet::decode(&borrowed)?))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_predict<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    handle: jlong,
    n_threads: jint,
    options_json: JString<'local>,
    batch: JByteBuffer<'local>,
) -> JByteArray<'local> {
    bridge(&mut env, |env| {
        let set = MODEL_SETS.get(handle)?;
        let options = PredictOptions::from_json(&string(env, &options_json, "optionsJson")?)?;
        // SAFETY: see `direct_bytes`; predict_ipc keeps nothing of its input.
        let batch = unsafe { direct_bytes(env, &batch, "batch")? };
        let out = set.predict_ipc(threads(n_threads)?, &options, batch)?;
        Ok(env.byte_array_from_slice(&out)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_predictRow<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    handle: jlong,
    features: JDoubleArray<'local>,
) -> JDoubleArray<'local> {
    bridge(&mut env, |env| {
        if features.is_null() {
            return Err(Error::invalid_param("features", "must not be null").into());
        }
        let set = MODEL_SETS.get(handle)?;
        let mut x = vec![0.0; features.len(env)?];
        features.get_region(env, 0, &mut x)?;
        let out = set.predict_one(0, &x)?;
        let array = JDoubleArray::new(env, out.len())?;
        array.set_region(env, 0, &out)?;
        Ok(array)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_closeModels<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    handle: jlong,
) {
    bridge(&mut env, |_| Ok(MODEL_SETS.remove(handle)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_describeModel<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    model: JByteArray<'local>,
) -> JString<'local> {
    bridge(&mut env, |env| {
        let stored = StoredModel::decode(&bytes(env, &model, "model")?)?;
        Ok(JString::new(env, manyfold_core::describe::describe(&stored)?)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_openSearchData<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    chunks: JObjectArray<'local, JByteArray<'local>>,
    folds_json: JString<'local>,
) -> jlong {
    bridge(&mut env, |env| {
        if chunks.is_null() {
            return Err(Error::invalid_param("chunks", "must not be null").into());
        }
        let folds_json = string(env, &folds_json, "foldsJson")?;
        let n = chunks.len(env)?;
        // Copied once into Rust-owned memory: the data set outlives this call.
        let mut owned: Vec<Buffer> = Vec::with_capacity(n);
        for i in 0..n {
            let element = chunks.get_element(env, i)?;
            if element.is_null() {
                return Err(Error::invalid_param("chunks", format!("chunk {i} is null")).into());
            }
            owned.push(Buffer::from(env.convert_byte_array(&element)?));
            env.delete_local_ref(element);
        }
        Ok(SEARCH_DATA.insert(SearchData::open(owned, &folds_json)?))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_describeSplits<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    handle: jlong,
) -> JString<'local> {
    bridge(&mut env, |env| Ok(JString::new(env, SEARCH_DATA.get(handle)?.describe_splits())?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_searchFits<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    handle: jlong,
    search_json: JString<'local>,
    fits: JIntArray<'local>,
    n_threads: jint,
) -> JByteArray<'local> {
    bridge(&mut env, |env| {
        if fits.is_null() {
            return Err(Error::invalid_param("fits", "must not be null").into());
        }
        let data = SEARCH_DATA.get(handle)?;
        let search_json = string(env, &search_json, "searchJson")?;
        let mut pairs = vec![0; fits.len(env)?];
        fits.get_region(env, 0, &mut pairs)?;
        let out = data.fits_ipc(&search_json, &pairs, threads(n_threads)?)?;
        Ok(env.byte_array_from_slice(&out)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_closeSearchData<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    handle: jlong,
) {
    bridge(&mut env, |_| Ok(SEARCH_DATA.remove(handle)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_searchGroups<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    search_json: JString<'local>,
    folds_json: JString<'local>,
    n_threads: jint,
    max_rows_per_group: jlong,
    batch: JByteBuffer<'local>,
) -> JByteArray<'local> {
    bridge(&mut env, |env| {
        let search_json = string(env, &search_json, "searchJson")?;
        let folds_json = string(env, &folds_json, "foldsJson")?;
        let options = train_options(n_threads, max_rows_per_group)?;
        // SAFETY: see `direct_bytes`; search_groups_ipc keeps nothing of its input.
        let batch = unsafe { direct_bytes(env, &batch, "batch")? };
        let out = search_groups_ipc(&search_json, &folds_json, options, batch)?;
        Ok(env.byte_array_from_slice(&out)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_debugFail<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    kind: JString<'local>,
) {
    bridge(&mut env, |env| match string(env, &kind, "kind")?.as_str() {
        "panic" => panic!("debugFail asked for a panic"),
        "data" => Err(Error::data("debugFail asked for a data error").into()),
        "param" => Err(Error::invalid_param("kind", "debugFail asked for a param error").into()),
        other => Err(Error::invalid_param("kind", format!("unknown kind '{other}'")).into()),
    })
}

// Sufficient statistics: linear models solved from per-group moments merged across the shuffle
// (docs/native-interface.md, "Sufficient statistics").

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_accumulateStats<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    algorithm: JString<'local>,
    params_json: JString<'local>,
    n_threads: jint,
    batch: JByteBuffer<'local>,
) -> JByteArray<'local> {
    bridge(&mut env, |env| {
        let algorithm = string(env, &algorithm, "algorithm")?;
        let params_json = string(env, &params_json, "paramsJson")?;
        let threads = threads(n_threads)?;
        // SAFETY: see `direct_bytes`; accumulate_ipc keeps nothing of its input.
        let batch = unsafe { direct_bytes(env, &batch, "batch")? };
        let out = manyfold_core::stats::accumulate_ipc(&algorithm, &params_json, threads, batch)?;
        Ok(env.byte_array_from_slice(&out)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_statsApplies<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    algorithm: JString<'local>,
    params_json: JString<'local>,
) -> jni::sys::jboolean {
    bridge(&mut env, |env| {
        let algorithm = string(env, &algorithm, "algorithm")?;
        let params_json = string(env, &params_json, "paramsJson")?;
        Ok(manyfold_core::stats::applies(&algorithm, &params_json))
    })
}

// ---------------------------------------------------------------------------------------------
// Grouped training without a sort: a task's rows by group in a native group buffer
// (docs/native-interface.md, "Group buffer").
// ---------------------------------------------------------------------------------------------

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_openGroupBuffer<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    max_rows_per_group: jlong,
) -> jlong {
    bridge(&mut env, |_| {
        let max = train_options(0, max_rows_per_group)?.max_rows_per_group;
        Ok(GROUP_BUFFERS.insert(Mutex::new(GroupBuffer::new(max)?)))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_appendGroupRows<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    handle: jlong,
    batch: JByteBuffer<'local>,
    group_ids: JIntArray<'local>,
) {
    bridge(&mut env, |env| {
        if group_ids.is_null() {
            return Err(Error::invalid_param("groupIds", "must not be null").into());
        }
        let buffer = GROUP_BUFFERS.get(handle)?;
        let mut ids = vec![0; group_ids.len(env)?];
        group_ids.get_region(env, 0, &mut ids)?;
        // SAFETY: see `direct_bytes`; the buffer copies the chunk's values and keeps nothing of it.
        let batch = unsafe { direct_bytes(env, &batch, "batch")? };
        lock_buffer(&buffer).append_ipc_mapped(batch, &ids)?;
        Ok(())
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_trainGroupBuffer<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    handle: jlong,
    algorithm: JString<'local>,
    params_json: JString<'local>,
    n_threads: jint,
) -> JByteArray<'local> {
    bridge(&mut env, |env| {
        let trainer = Trainer::new(
            &string(env, &algorithm, "algorithm")?,
            &string(env, &params_json, "paramsJson")?,
        )?;
        let buffer = GROUP_BUFFERS.get(handle)?;
        let out = lock_buffer(&buffer).train_ipc(&trainer, threads(n_threads)?)?;
        Ok(env.byte_array_from_slice(&out)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_solveGroupBuffer<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    handle: jlong,
    algorithm: JString<'local>,
    params_json: JString<'local>,
    n_threads: jint,
    min_rows: jlong,
    partials: JByteBuffer<'local>,
) -> JByteArray<'local> {
    bridge(&mut env, |env| {
        let algorithm = string(env, &algorithm, "algorithm")?;
        let params_json = string(env, &params_json, "paramsJson")?;
        let threads = threads(n_threads)?;
        let min_rows = u64::try_from(min_rows).ok().filter(|m| *m >= 1).ok_or_else(|| {
            Error::invalid_param("minRows", format!("must be >= 1, got {min_rows}"))
        })?;
        // SAFETY: see `direct_bytes`; solve_stats_ipc keeps nothing of its input.
        let partials = unsafe { direct_bytes(env, &partials, "partials")? };
        let buffer = GROUP_BUFFERS.get(handle)?;
        let out = lock_buffer(&buffer).solve_stats_ipc(
            &algorithm,
            &params_json,
            partials,
            min_rows,
            threads,
        )?;
        Ok(env.byte_array_from_slice(&out)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_searchGroupBuffer<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    handle: jlong,
    search_json: JString<'local>,
    folds_json: JString<'local>,
    n_threads: jint,
) -> JByteArray<'local> {
    bridge(&mut env, |env| {
        let search_json = string(env, &search_json, "searchJson")?;
        let folds_json = string(env, &folds_json, "foldsJson")?;
        let buffer = GROUP_BUFFERS.get(handle)?;
        let out =
            lock_buffer(&buffer).search_ipc(&search_json, &folds_json, threads(n_threads)?)?;
        Ok(env.byte_array_from_slice(&out)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_manyfold_jni_NativeApi_closeGroupBuffer<'local>(
    mut env: EnvUnowned<'local>,
    _this: JObject<'local>,
    handle: jlong,
) {
    bridge(&mut env, |_| Ok(GROUP_BUFFERS.remove(handle)?))
}
