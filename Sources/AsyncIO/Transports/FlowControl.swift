/// Write flow control shared by every transport (asyncio's
/// `_FlowControlMixin`): the protocol is paused when the buffer goes over
/// the high-water mark and resumed once it is back at or under the low one.
@LoopActor
struct FlowControl {
    private(set) var highWater = 64 * 1024
    private(set) var lowWater = 16 * 1024
    /// The protocol has been told to pause and not yet to resume.
    private(set) var protocolPaused = false

    /// asyncio's defaults: high 64 KiB, low a quarter of high (or, given
    /// only low, high four times low).
    mutating func setLimits(high: Int?, low: Int?) {
        let high = high ?? (low.map { $0 * 4 } ?? 64 * 1024)
        let low = low ?? high / 4
        precondition(high >= low && low >= 0, "high (\(high)) must be >= low (\(low)) must be >= 0")
        highWater = high
        lowWater = low
    }

    /// Whether the protocol must now be told to pause, with `buffered`
    /// bytes waiting; the caller tells it.
    @inline(__always)
    mutating func shouldPause(buffered: Int) -> Bool {
        guard buffered > highWater, !protocolPaused else { return false }
        protocolPaused = true
        return true
    }

    /// Whether the protocol must now be told to resume.
    @inline(__always)
    mutating func shouldResume(buffered: Int) -> Bool {
        guard protocolPaused, buffered <= lowWater else { return false }
        protocolPaused = false
        return true
    }
}
