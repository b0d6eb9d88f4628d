#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// The name of the calling thread as Python's `threading.current_thread().name`
/// gives it: `MainThread` for the process's first thread, the name a pool
/// gave its worker (`ThreadPoolExecutor-0_1`), else `Thread-<id>`.
public var currentThreadName: String {
    if let raw = pthread_getspecific(ThreadName.key) {
        return Unmanaged<ThreadName.Box>.fromOpaque(raw).takeUnretainedValue().name
    }
    return getpid() == ThreadName.systemID() ? "MainThread" : "Thread-\(ThreadName.systemID())"
}

enum ThreadName {
    final class Box {
        let name: String
        init(_ name: String) { self.name = name }
    }

    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            if let raw { Unmanaged<Box>.fromOpaque(raw).release() }
        }
        return key
    }()

    /// Names the calling thread, for `currentThreadName` and, cut to the 15
    /// bytes Linux keeps, for debuggers and `top -H`.
    static func set(_ name: String) {
        if let old = pthread_getspecific(key) { Unmanaged<Box>.fromOpaque(old).release() }
        pthread_setspecific(key, Unmanaged.passRetained(Box(name)).toOpaque())
        // Bytes, not characters: Linux keeps 15, and a cut may split one.
        let bytes = Array(name.utf8.prefix(15)).map { CChar(bitPattern: $0) } + [0]
        pthread_setname_np(pthread_self(), bytes)
    }

    static func systemID() -> Int32 { clinux_gettid() }
}
