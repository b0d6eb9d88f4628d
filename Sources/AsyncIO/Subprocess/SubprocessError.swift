/// A subprocess call given arguments that cannot work together, such as
/// `.stdout` for a stream other than stderr (Python raises `ValueError`).
public struct SubprocessError: Error, CustomStringConvertible, Equatable {
    public let message: String

    public var description: String { message }
}
