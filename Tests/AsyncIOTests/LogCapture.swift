@testable import AsyncIO
import Logging

/// Keeps every record logged in the test process, so a test can check what
/// the runtime logged. Bootstrapped once, on first use; the runtime makes
/// its logger on each use, so records from before that are simply not kept.
/// Tests run in parallel: each looks for records that name something only
/// it created (a task name, a callback label).
enum LogCapture {
    struct Record: Sendable {
        let label: String
        let level: Logger.Level
        let message: String
    }

    /// A pthread mutex (`Locked`): ThreadSanitizer does not see through
    /// Synchronization's `Mutex` on Linux.
    private static let records = Locked<[Record]>([])
    private static let installed: Void = LoggingSystem.bootstrap { label in Handler(label: label) }

    static func install() { _ = installed }

    /// How many records have been kept so far, to look only after it.
    static var count: Int { records.withLock { $0.count } }

    /// The messages logged since `mark` (a `count` taken earlier).
    static func messages(since mark: Int) -> [String] {
        records.withLock { $0[mark...].map(\.message) }
    }

    /// The records so far whose message contains `text`.
    static func records(containing text: String) -> [Record] {
        records.withLock { $0.filter { $0.message.contains(text) } }
    }

    private struct Handler: LogHandler {
        let label: String
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let record = Record(label: label, level: event.level, message: event.message.description)
            LogCapture.records.withLock { $0.append(record) }
        }
    }
}
