import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How an example sets up logging, as the documentation's script does with
/// `logging.basicConfig`. The runtime logs through the `asyncio` logger, so
/// its lines (`Using selector: EpollSelector`, slow-callback warnings) show
/// exactly where the documentation shows them.
///
/// A configured example prints its log lines on standard output, where
/// the script prints on standard error: one stream keeps them in order with
/// the rest of the example's output.
enum LogFormat: UInt8, Sendable {
    /// No `basicConfig`: Python's last-resort handler, warnings and worse,
    /// the bare message, on standard error.
    case unconfigured
    /// `%(name)s: %(message)s` at DEBUG: `asyncio: Using selector: …`.
    case named
    /// `%(levelname)7s: %(message)s` at DEBUG: `  DEBUG: Using selector: …`.
    case levelled
}

enum DemoLogging {
    /// An atomic, not a `Mutex`: ThreadSanitizer does not see through
    /// Synchronization's `Mutex` on Linux.
    private static let formatStorage = Atomic<UInt8>(LogFormat.unconfigured.rawValue)
    private static var format: LogFormat { LogFormat(rawValue: formatStorage.load(ordering: .acquiring))! }

    /// Sends every logger of the process to this handler; call once, first.
    static func bootstrap() {
        LoggingSystem.bootstrap { label in Handler(label: label) }
    }

    /// The format for what is logged from now on.
    static func use(_ newFormat: LogFormat) {
        formatStorage.store(newFormat.rawValue, ordering: .releasing)
    }

    private struct Handler: LogHandler {
        let label: String
        var metadata: Logger.Metadata = [:]

        /// Follows the current example's format, not the one the logger
        /// was made under.
        var logLevel: Logger.Level {
            get { DemoLogging.format == .unconfigured ? .warning : .debug }
            set {}
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            switch DemoLogging.format {
            case .unconfigured:
                printError("\(event.message)")
            case .named:
                print("\(label): \(event.message)")
            case .levelled:
                print("\(event.level.pythonName.leftPadded(to: 7)): \(event.message)")
            }
        }
    }
}

extension Logger.Level {
    /// Python's level name for the nearest Python level.
    var pythonName: String {
        switch self {
        case .trace, .debug: "DEBUG"
        case .info, .notice: "INFO"
        case .warning: "WARNING"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
    }
}
