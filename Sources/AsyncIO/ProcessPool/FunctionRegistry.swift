import FoundationEssentials

/// A function a process pool's workers can run, by the name it was
/// registered under; typed, so `runInExecutor(pool, square, 3)` knows its
/// result type.
public struct RemoteFunction<Argument: Codable & Sendable, Result: Codable & Sendable>: Sendable {
    public let name: String

    /// A reference to a function registered under `name` in the worker
    /// executable (when the workers are another program).
    public init(_ name: String, argument: Argument.Type = Argument.self, result: Result.Type = Result.self) {
        self.name = name
    }
}

/// What a worker knows how to run, by name. Functions cannot cross a
/// process boundary, so both sides agree on names: the worker executable
/// registers its functions before `runWorkerIfRequested()`.
enum FunctionRegistry {
    /// Decodes the argument, runs the function and appends the response
    /// frame to `output`.
    typealias Handler = @Sendable (_ argument: UnsafeRawBufferPointer, _ coders: Coders,
                                   _ output: inout [UInt8]) -> Void

    /// One JSON encoder and decoder per side, reused for every call.
    final class Coders {
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
    }

    /// Written at the top of `main`, read by the worker once it serves.
    static let handlers = Locked<[String: Handler]>([:])

    static func register<Argument: Codable & Sendable, Result: Codable & Sendable>(
        _ name: String, _ function: @escaping @Sendable (Argument) throws -> Result
    ) {
        let handler: Handler = { argument, coders, output in
            let decoded: Argument
            do {
                decoded = try coders.decoder.decode(Argument.self, from: Data(argument))
            } catch {
                let reason = "cannot decode \(Argument.self): \(error)"
                return Frames.appendResponse(to: &output, .codingFailed, payload: Array(reason.utf8))
            }
            let result: Result
            do {
                result = try function(decoded)
            } catch {
                let remote = RemoteError(function: name, typeName: String(reflecting: type(of: error)),
                                         message: String(describing: error))
                let payload = (try? coders.encoder.encode(remote)) ?? Data()
                return Frames.appendResponse(to: &output, .raised, payload: payload)
            }
            do {
                Frames.appendResponse(to: &output, .value, payload: try coders.encoder.encode(result))
            } catch {
                let reason = "cannot encode \(Result.self): \(error)"
                Frames.appendResponse(to: &output, .codingFailed, payload: Array(reason.utf8))
            }
        }
        handlers.withLock { handlers in
            precondition(handlers[name] == nil, "a process-pool function named '\(name)' is already registered")
            handlers[name] = handler
        }
    }
}

extension ProcessPoolExecutor {
    /// Registers `function` under `name`, for this executable's workers to
    /// run, and returns a typed reference to submit it with. Call it at the
    /// top of `main` for every function, before `runWorkerIfRequested()`:
    ///
    /// ```swift
    /// let square = ProcessPoolExecutor.register("square") { (n: Int) in n * n }
    /// ProcessPoolExecutor.runWorkerIfRequested()
    /// // … later, on the loop:
    /// let nine = try await loop.runInExecutor(pool, square, 3).value
    /// ```
    ///
    /// An error the function throws comes back as a `RemoteError`. A name
    /// registered twice is a programming error.
    @discardableResult
    public nonisolated static func register<Argument: Codable & Sendable, Result: Codable & Sendable>(
        _ name: String, _ function: @escaping @Sendable (Argument) throws -> Result
    ) -> RemoteFunction<Argument, Result> {
        FunctionRegistry.register(name, function)
        return RemoteFunction(name)
    }
}
