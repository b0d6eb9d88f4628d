/// Text over streams, which carry bytes as asyncio's do: UTF-8 going out,
/// and decoded coming in (bytes that are not UTF-8 become U+FFFD, as
/// Python's `errors="replace"`).
extension StreamWriter {
    /// Writes `text` as UTF-8: `writer.write("hello\n")`.
    public func write(_ text: String) { write(Array(text.utf8)) }
}

extension StreamReader {
    /// The next line with its newline, decoded: `try await
    /// reader.readline(as: String.self)`; "" at the end of the stream.
    public func readline(as: String.Type) async throws -> String {
        String(decoding: try await readline(), as: UTF8.self)
    }

    /// The lines of the stream decoded, newline kept: `for try await line
    /// in reader.lines(as: String.self)`.
    public func lines(as: String.Type) -> TextLines { TextLines(reader: self) }

    public struct TextLines: AsyncSequence, Sendable {
        public typealias Element = String
        let reader: StreamReader

        public func makeAsyncIterator() -> Iterator { Iterator(reader: reader) }

        public struct Iterator: AsyncIteratorProtocol {
            let reader: StreamReader
            public mutating func next() async throws -> String? {
                let line = try await reader.readline(as: String.self)
                return line.isEmpty ? nil : line
            }
        }
    }
}
