#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// The loop's view of epoll: one epoll instance plus an eventfd that other
/// threads write to wake the loop from `epoll_wait`.
struct Selector: ~Copyable {
    let epollFD: Int32
    let wakeFD: Int32
    private let events: UnsafeMutableBufferPointer<epoll_event>

    /// The token epoll returns for the wake-up eventfd.
    private static let wakeToken: UInt64 = .max

    init() {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epollFD >= 0, "epoll_create1 failed: \(String(cString: strerror(errno)))")
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(wakeFD >= 0, "eventfd failed: \(String(cString: strerror(errno)))")
        events = .allocate(capacity: 256)
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = Self.wakeToken
        precondition(epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0, "epoll_ctl failed")
    }

    deinit {
        events.deallocate()
        SystemCall.close(wakeFD)
        SystemCall.close(epollFD)
    }

    /// Changes the events epoll reports for `fd` from `old` to `new`
    /// (`EPOLLIN`/`EPOLLOUT` bits; 0 means not watched).
    func update(fd: Int32, from old: UInt32, to new: UInt32) throws(OSError) {
        guard old != new else { return }
        var event = epoll_event()
        event.events = new
        event.data.u64 = UInt64(UInt32(bitPattern: fd))
        let operation = old == 0 ? EPOLL_CTL_ADD : (new == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD)
        if epoll_ctl(epollFD, operation, fd, &event) != 0 {
            throw OSError(errno: errno, operation: "epoll_ctl")
        }
    }

    /// Wakes a loop blocked in `wait`; safe from any thread.
    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Blocks until an fd is ready or `timeout` seconds pass (nil: forever).
    /// Calls `ready(token, events)` for every ready fd except the wake-up one;
    /// returns whether the wake-up fd fired.
    func wait(timeout: Double?, _ ready: (UInt64, UInt32) -> Void) -> Bool {
        let milliseconds: Int32
        if let timeout {
            // Round up, as asyncio does, so a timer is never woken for early.
            milliseconds = timeout <= 0 ? 0 : Int32(min((timeout * 1000).rounded(.up), Double(Int32.max)))
        } else {
            milliseconds = -1
        }
        let count = epoll_wait(epollFD, events.baseAddress, Int32(events.count), milliseconds)
        guard count > 0 else {
            precondition(count == 0 || errno == EINTR, "epoll_wait failed: \(String(cString: strerror(errno)))")
            return false
        }
        var woken = false
        for index in 0..<Int(count) {
            let event = events[index]
            if event.data.u64 == Self.wakeToken {
                var value: UInt64 = 0
                _ = read(wakeFD, &value, 8)
                woken = true
            } else {
                ready(event.data.u64, event.events)
            }
        }
        return woken
    }
}
