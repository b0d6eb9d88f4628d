/// The stream ended before the expected bytes arrived (asyncio's
/// `IncompleteReadError`); `partial` holds what did arrive.
public struct IncompleteReadError: Error, CustomStringConvertible, Equatable {
    public var partial: [UInt8]
    /// How many bytes were wanted; nil when reading up to a separator.
    public var expected: Int?

    public var description: String {
        "\(partial.count) bytes read on a total of \(expected.map(String.init) ?? "undefined") expected bytes"
    }
}

/// The separator was not found within the reader's limit (asyncio's
/// `LimitOverrunError`). The buffered bytes stay in the reader.
public struct LimitOverrunError: Error, CustomStringConvertible, Equatable {
    public var message: String
    /// How many bytes can be consumed before the separator could start.
    public var consumed: Int

    public var description: String { message }
}
