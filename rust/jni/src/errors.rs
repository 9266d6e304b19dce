//! The one place that knows Java class names: core errors and panics to Java exceptions.

use std::fmt;

use jni::errors::ErrorPolicy;
use jni::strings::JNIString;
use jni::Env;

use manyfold_core::Error;

const ILLEGAL_ARGUMENT: &str = "java/lang/IllegalArgumentException";
const NATIVE_EXCEPTION: &str = "manyfold/jni/NativeException";

/// A failure of a native method body: from manyfold-core or from JNI itself.
#[derive(Debug)]
pub enum BridgeError {
    Core(Error),
    Jni(jni::errors::Error),
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BridgeError::Core(e) => write!(f, "{e}"),
            BridgeError::Jni(e) => write!(f, "JNI error: {e}"),
        }
    }
}

impl std::error::Error for BridgeError {}

impl From<Error> for BridgeError {
    fn from(e: Error) -> Self {
        BridgeError::Core(e)
    }
}

impl From<jni::errors::Error> for BridgeError {
    fn from(e: jni::errors::Error) -> Self {
        BridgeError::Jni(e)
    }
}

fn class_of(e: &BridgeError) -> &'static str {
    match e {
        BridgeError::Core(Error::InvalidParam { .. } | Error::Schema { .. }) => ILLEGAL_ARGUMENT,
        _ => NATIVE_EXCEPTION,
    }
}

/// Throws the mapped exception (unless one is already pending) and returns the default value,
/// which the JVM ignores because an exception is pending.
#[derive(Debug, Default)]
pub struct ThrowMapped;

impl<T: Default> ErrorPolicy<T, BridgeError> for ThrowMapped {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        err: BridgeError,
    ) -> jni::errors::Result<T> {
        if !env.exception_check() {
            // A failing throw leaves its own exception pending (e.g. NoClassDefFoundError).
            let _ =
                env.throw_new(JNIString::from(class_of(&err)), JNIString::from(err.to_string()));
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".to_string());
        // Forgetting the payload rather than dropping it: a payload whose drop panics would
        // abort here.
        std::mem::forget(payload);
        if !env.exception_check() {
            let _ = env.throw_new(
                JNIString::from(NATIVE_EXCEPTION),
                JNIString::from(format!("native panic: {msg}")),
            );
        }
        Ok(T::default())
    }
}
