/// A callback scheduled on the loop, returned by `callSoon` so it can be
/// cancelled before it runs (asyncio's `Handle`).
@LoopActor
public class Handle: @LoopActor CustomStringConvertible {
    typealias Callback = @LoopActor () throws -> Void

    @exclusivity(unchecked) private(set) var callback: Callback?
    public private(set) var isCancelled = false

    /// The label of a handle given none, as asyncio's reprs name a callback.
    static let defaultLabel = "callback"

    /// Names the callback in reprs and error reports. Most handles come
    /// from a bare `callSoon` and have the default; a named one is a
    /// `NamedHandle`, so the common handle stores and frees no string.
    var label: String { Self.defaultLabel }

    nonisolated init(_ callback: @escaping Callback) {
        self.callback = callback
    }

    /// A handle named `label`, or an unnamed one for nil.
    nonisolated static func make(label: String?, _ callback: @escaping Callback) -> Handle {
        if let label { NamedHandle(label: label, callback) } else { Handle(callback) }
    }

    /// Prevents the callback from running; does nothing if it already ran.
    public func cancel() {
        guard !isCancelled else { return }
        isCancelled = true
        callback = nil  // release what the closure captured at once
    }

    /// Runs the callback unless cancelled; errors go to the caller. For a
    /// watch's handle, which runs each time its descriptor or signal fires.
    @inline(__always)
    func run() throws {
        if let callback { try callback() }
    }

    /// Runs the callback of a one-shot handle (`callSoon`, a timer) unless
    /// cancelled. The handle gives its callback up to run it, so the call
    /// needs no retain and release of the closure.
    @inline(__always)
    func runOnce() throws {
        if let callback = callback.take() { try callback() }
    }

    public var description: String {
        isCancelled ? "<Handle cancelled \(label)>" : "<Handle \(label)>"
    }
}

/// A handle with a label of its own.
final class NamedHandle: Handle {
    private let name: String

    nonisolated init(label: String, _ callback: @escaping Callback) {
        name = label
        super.init(callback)
    }

    override var label: String { name }
}

/// A callback scheduled for a point in the loop's time (asyncio's `TimerHandle`).
@LoopActor
public final class TimerHandle: Handle {
    /// The loop time at which the callback is due.
    public let when: Double
    /// Held strongly, as futures hold theirs: one weak (or unowned)
    /// reference to the loop moves its reference count to a side table for
    /// good, and every retain and release of the loop, which is most of
    /// them, takes the slow path. Closing the loop drops its timers, which
    /// ends the cycle through the timer queue.
    let loop: EventLoop
    /// True while the handle sits in the loop's timer queue.
    @exclusivity(unchecked) var isScheduled = true
    /// Its own, as a timer cannot also be a `NamedHandle`; nil for the default.
    private let givenLabel: String?

    init(when: Double, loop: EventLoop, label: String?, _ callback: @escaping Callback) {
        self.when = when
        self.loop = loop
        givenLabel = label
        super.init(callback)
    }

    override var label: String { givenLabel ?? Handle.defaultLabel }

    public override func cancel() {
        guard !isCancelled else { return }
        super.cancel()
        guard isScheduled else { return }
        loop.timerCancelled()
        if let instruments = loop.instruments { for instrument in instruments { instrument.timerCancelled(self) } }
    }

    public override var description: String {
        let state = isCancelled ? "cancelled " : ""
        return "<TimerHandle \(state)when=\(when) \(label)>"
    }
}
