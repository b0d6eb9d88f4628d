import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

/// A non-blocking pipe, closed at the end of the test.
struct Pipe: ~Copyable {
    let readFD: Int32
    let writeFD: Int32

    init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }
}

@Suite(.suiteLimit) struct ReadinessTests {
    @Test func readerRunsWhenDataArrivesUntilRemoved() throws {
        let pipe = Pipe()
        let (readFD, writeFD) = (pipe.readFD, pipe.writeFD)
        let received = try runLoop { loop -> [String] in
            let log = Log()
            let done = Future<Void>(loop: loop)
            try loop.addReader(readFD) {
                var buffer = [UInt8](repeating: 0, count: 64)
                let count = read(readFD, &buffer, 64)
                log(String(decoding: buffer[..<max(count, 0)], as: UTF8.self))
                if log.entries.count == 2 {
                    #expect(loop.removeReader(readFD))
                    try done.setResult(())
                }
            }
            loop.callSoon { _ = write(writeFD, "one", 3) }
            loop.callLater(0.01) { _ = write(writeFD, "two", 3) }
            try await done.value
            _ = write(writeFD, "three", 5)  // no reader any more
            try await sleep(0.01)
            #expect(!loop.removeReader(readFD))
            return log.entries
        }
        #expect(received == ["one", "two"])
    }

    /// As asyncio: `addReader` on a watched descriptor cancels the callback
    /// it replaces, even one the same poll has already queued. Two pipes
    /// are ready in one poll; whichever reader runs first replaces the
    /// other's, which must then not run.
    @Test func aReplacedReaderNeverRunsAgain() throws {
        let first = Pipe(), second = Pipe()
        let (readFDs, writeFDs) = ([first.readFD, second.readFD], [first.writeFD, second.writeFD])
        let calls = try runLoop { loop -> [String] in
            var calls: [String] = []
            let done = Future<Void>(loop: loop)
            for fd in writeFDs { _ = write(fd, "x", 1) }
            for (index, fd) in readFDs.enumerated() {
                let other = readFDs[1 - index]
                try loop.addReader(fd) {
                    calls.append("reader \(index)")
                    _ = loop.removeReader(fd)
                    try loop.addReader(other) {
                        calls.append("replacement")
                        for fd in readFDs { _ = loop.removeReader(fd) }
                        try done.setResult(())
                    }
                }
            }
            try await done.value
            return calls
        }
        #expect(calls == ["reader 0", "replacement"] || calls == ["reader 1", "replacement"])
    }

    @Test func writerRunsWhileTheDescriptorIsWritable() throws {
        let pipe = Pipe()
        let writeFD = pipe.writeFD
        let calls = try runLoop { loop -> Int in
            var calls = 0
            let done = Future<Void>(loop: loop)
            try loop.addWriter(writeFD) {
                calls += 1
                if calls == 3 {
                    loop.removeWriter(writeFD)
                    try done.setResult(())
                }
            }
            try await done.value
            try await sleep(0.005)
            return calls
        }
        #expect(calls == 3)
    }

    @Test func watchingABadDescriptorThrowsOSError() throws {
        let error = try runLoop { loop -> OSError? in
            do { try loop.addReader(-1) {}; return nil } catch let error as OSError { return error } catch { return nil }
        }
        #expect(error?.errno == EBADF)
        #expect(error?.description == "[Errno 9] Bad file descriptor (epoll_ctl)")
    }
}
