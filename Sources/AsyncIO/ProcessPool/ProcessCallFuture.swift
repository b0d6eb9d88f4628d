import FoundationEssentials

/// A call waiting for a worker: what to send, and the future its outcome
/// goes to. Encoded when submitted, so an argument that cannot be encoded
/// is an error at the call site.
struct PoolCall {
    let future: any PoolCallFuture
    let argument: Data
}

/// The type-erased side of a call's future that the pool and its workers
/// use: they hold calls of every result type in one queue.
@LoopActor
protocol PoolCallFuture: AnyObject {
    var function: String { get }
    var isDone: Bool { get }
    /// Sets the outcome from a response frame, unless the future was
    /// cancelled meanwhile (the result is then dropped).
    func complete(_ status: ResponseStatus, _ payload: UnsafeRawBufferPointer, coders: FunctionRegistry.Coders)
    /// Fails the call with `error`, unless the future is done already.
    func failCall(_ error: any Error)
    /// Cancels the call's future (`shutdown(cancelFutures: true)`).
    func cancelCall()
}

/// The future of a call to a process pool (what `runInExecutor(pool, …)`
/// returns). Cancelling it before the call was sent to a worker means the
/// call is never sent; once sent, the call runs and its result is dropped,
/// as `concurrent.futures.Future.cancel` cannot stop a running call either.
final class ProcessCallFuture<T: Decodable & Sendable>: Future<T>, PoolCallFuture {
    let function: String

    init(loop: EventLoop, function: String) {
        self.function = function
        super.init(loop: loop)
    }

    func complete(_ status: ResponseStatus, _ payload: UnsafeRawBufferPointer, coders: FunctionRegistry.Coders) {
        guard !isDone else { return }
        switch status {
        case .value:
            do {
                succeed(try coders.decoder.decode(T.self, from: Data(payload)))
            } catch {
                fail(ProcessPoolError.codingFailed(function: function, reason: "cannot decode \(T.self): \(error)"))
            }
        case .raised:
            let remote = (try? coders.decoder.decode(RemoteError.self, from: Data(payload)))
                ?? RemoteError(function: function, typeName: "Error", message: "(undecodable)")
            fail(remote)
        case .unknownFunction:
            fail(ProcessPoolError.unknownFunction(function))
        case .codingFailed:
            fail(ProcessPoolError.codingFailed(function: function, reason: String(decoding: payload, as: UTF8.self)))
        }
    }

    func failCall(_ error: any Error) {
        guard !isDone else { return }
        fail(error)
    }

    func cancelCall() { cancel() }
}
