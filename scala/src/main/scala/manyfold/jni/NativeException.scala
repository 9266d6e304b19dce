package manyfold.jni

/** A failure inside the native library (not a bad parameter), or a native panic. */
class NativeException(message: String) extends RuntimeException(message)

/** The native library cannot be found or loaded for this platform. */
class NativeLibraryException(message: String, cause: Throwable = null)
    extends RuntimeException(message, cause)
