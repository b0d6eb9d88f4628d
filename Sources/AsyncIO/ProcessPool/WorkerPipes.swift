// The protocols of the three pipes between the pool and one worker (see
// PoolWorker): each passes what happens on its pipe to the worker. They hold
// the worker until their transport's `connectionLost`.

/// The protocol of the request pipe, which never receives anything: tells
/// the worker when it closes.
@LoopActor
final class RequestPipe: StreamingProtocol {
    private let worker: PoolWorker

    init(worker: PoolWorker) { self.worker = worker }

    func dataReceived(_ data: [UInt8]) {}
    func connectionLost(_ error: (any Error)?) { worker.pipeClosed(.requests) }
}

/// The protocol of the worker's stdout pipe.
@LoopActor
final class OutputRelay: StreamingProtocol {
    private let worker: PoolWorker

    init(worker: PoolWorker) { self.worker = worker }

    func dataReceived(_ data: [UInt8]) { worker.relay(data) }
    func connectionLost(_ error: (any Error)?) { worker.pipeClosed(.output) }
}

/// The protocol of the response pipe: reads straight into the worker's
/// frame buffer.
@LoopActor
final class ResponseReader: BufferedProtocol {
    private let worker: PoolWorker

    init(worker: PoolWorker) { self.worker = worker }

    func getBuffer(_ sizeHint: Int) -> UnsafeMutableRawBufferPointer { worker.responseBuffer() }
    func bufferUpdated(_ count: Int) { worker.responsesArrived(count) }
    func connectionLost(_ error: (any Error)?) { worker.pipeClosed(.responses) }
}
