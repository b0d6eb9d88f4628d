import Foundation
import Testing
@testable import AsyncIO

/// asyncio's debug mode and the reports it makes even without it. Each test
/// names what it creates uniquely and looks only for records naming it: the
/// suite's other tests log too, in parallel.
@Suite struct DebugModeTests {
    /// What the exception handler was given, kept past the loop's run.
    struct Report: Sendable {
        let message: String
        let error: (any Error)?
        let futureRepr: String?
        @LoopActor init(_ context: ExceptionContext) {
            (message, error, futureRepr) = (context.message, context.error, context.futureRepr)
        }
    }

    init() { LogCapture.install() }

    private static func unique(_ base: String) -> String { "\(base)-\(UUID().uuidString.prefix(8))" }

    @Test func aSlowTaskStepIsLoggedWithTheTaskAndWhereItWasCreated() throws {
        let name = Self.unique("slow")
        let loop = EventLoop()
        defer { try? loop.close() }
        loop.debug = true
        loop.slowCallbackDuration = 0.01
        _ = try loop.runUntilComplete {
            // Sleeping 30 ms blocks the loop for at least that long.
            try await loop.createTask(name: name, coroutine: "inner") { _ = usleep(30_000) }.value
        }
        // Only the step of this task: the awaiting task's repr names it too.
        let records = LogCapture.records(containing: "Executing <Task finished name='\(name)'")
        try #require(records.count == 1)
        #expect(records[0].level == .warning)
        #expect(records[0].label == "asyncio")
        let message = records[0].message
        #expect(message.hasPrefix("Executing <Task finished name='\(name)' coro=<inner() done, defined at DebugModeTests.swift:"))
        #expect(message.contains("> result=None created at DebugModeTests.swift:"))
        #expect(message.wholeMatch(of: /.* took \d+\.\d{3} seconds/) != nil)
    }

    @Test func aSlowCallbackIsLoggedByItsLabel() throws {
        let label = Self.unique("slow-callback")
        let loop = EventLoop()
        defer { try? loop.close() }
        loop.debug = true
        loop.slowCallbackDuration = 0.01
        _ = try loop.runUntilComplete {
            loop.callSoon(label: label) { usleep(30_000) }
            try await sleep(0)
            try await sleep(0)
        }
        let messages = LogCapture.records(containing: label).map(\.message)
        try #require(messages.count == 1)
        // In debug mode a handle knows where it was made, as asyncio's do.
        #expect(messages[0].hasPrefix("Executing <Handle \(label) created at DebugModeTests.swift:"))
        #expect(messages[0].wholeMatch(of: /.*> took \d+\.\d{3} seconds/) != nil)
    }

    @Test func withoutDebugModeNothingIsTimed() throws {
        let name = Self.unique("not-debug")
        let loop = EventLoop()
        defer { try? loop.close() }
        #expect(!loop.debug)
        loop.slowCallbackDuration = 0.001
        _ = try loop.runUntilComplete {
            try await loop.createTask(name: name) { usleep(10_000) }.value
        }
        #expect(LogCapture.records(containing: name).isEmpty)
    }

    @Test func runTurnsDebugModeOnAndReprsShowWhereTasksWereCreated() throws {
        let debugRepr = try run(debug: true) { createTask { 1 }.repr }
        #expect(debugRepr.contains(" created at DebugModeTests.swift:"))
        let plainRepr = try run { createTask { 1 }.repr }
        #expect(!plainRepr.contains("created at"))
    }

    @Test func creatingALoopLogsItsSelectorAtDebugLevel() {
        let loop = EventLoop()
        try? loop.close()
        let records = LogCapture.records(containing: "Using selector: EpollSelector")
        #expect(records.contains { $0.level == .debug && $0.label == "asyncio" })
    }

    // MARK: Errors nobody retrieved

    @Test func aFailedTaskNobodyAwaitedIsReportedWhenFreed() throws {
        let name = Self.unique("failing")
        let contexts = try runLoop { loop -> [Report] in
            var contexts: [Report] = []
            loop.setExceptionHandler { _, context in contexts.append(Report(context)) }
            _ = loop.createTask(name: name) { throw Boom() }
            // The task fails on its first step and is freed when that step
            // ends; the report is a callback after that.
            try await sleep(0)
            try await sleep(0)
            try await sleep(0)
            return contexts
        }
        try #require(contexts.count == 1)
        #expect(contexts[0].message == "Task exception was never retrieved")
        #expect(contexts[0].error as? Boom == Boom())
        #expect(contexts[0].futureRepr?.hasPrefix("<Task finished name='\(name)' coro=<closure() done") == true)
        #expect(contexts[0].futureRepr?.contains("exception=") == true)
    }

    @Test func aFailedFutureNobodyAskedIsReportedAndOneAskedIsNot() throws {
        let contexts = try runLoop { loop -> [Report] in
            var contexts: [Report] = []
            loop.setExceptionHandler { _, context in contexts.append(Report(context)) }
            do {
                let unasked = Future<Int>(loop: loop)
                try unasked.setException(Boom(tag: "unasked"))
                let asked = Future<Int>(loop: loop)
                try asked.setException(Boom(tag: "asked"))
                _ = try asked.exception()
                let awaited = Future<Int>(loop: loop)
                try awaited.setException(Boom(tag: "awaited"))
                _ = try? await awaited.value
            }
            try await sleep(0)
            try await sleep(0)
            return contexts
        }
        try #require(contexts.count == 1)
        #expect(contexts[0].message == "Future exception was never retrieved")
        #expect(contexts[0].error as? Boom == Boom(tag: "unasked"))
    }

    @Test func aTaskWhoseErrorWasAwaitedOrGatheredIsNotReported() throws {
        let contexts = try runLoop { loop -> [Report] in
            var contexts: [Report] = []
            loop.setExceptionHandler { _, context in contexts.append(Report(context)) }
            _ = try? await loop.createTask { () async throws -> Int in throw Boom() }.value
            _ = try? await gather(loop.createTask { () async throws -> Int in throw Boom() },
                                  loop.createTask { () async throws -> Int in 2 })
            // Two failures: gather throws the first and reads the second.
            _ = try? await gather([loop.createTask { () async throws -> Int in throw Boom(tag: "one") },
                                   loop.createTask { () async throws -> Int in throw Boom(tag: "two") }])
            let cancelled = loop.createTask { try await sleep(10) }
            try await sleep(0)
            cancelled.cancel()
            try await sleep(0)
            try await sleep(0)
            return contexts
        }
        #expect(contexts.isEmpty)
    }

    // MARK: Resources left open

    @Test func closingADebugLoopWarnsOfTheServerAndTransportsLeftOpen() throws {
        let loop = EventLoop()
        loop.debug = true
        let port = try loop.runUntilComplete { () -> Int in
            let server = try await loop.startServer({ _, _ in try await sleep(60) }, host: "127.0.0.1", port: 0)
            let port = server.addresses[0].port
            let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
            writer.write(Array("hi".utf8))
            try await sleep(0.01)
            return port
        }
        let mark = LogCapture.count
        try loop.close()
        let server = LogCapture.records(containing: "ResourceWarning: unclosed server <Server sockets=[('127.0.0.1', \(port))]>")
        #expect(server.count == 1)
        #expect(server.first?.level == .warning)
        // Both ends of the connection: the server's and the client's. Only
        // a debug loop reports, and no other test leaves one open.
        let transports = LogCapture.messages(since: mark).filter { $0.hasPrefix("ResourceWarning: unclosed transport <") }
        #expect(transports.count == 2)
    }

    @Test func aDebugLoopFreedWithoutCloseIsReported() {
        let before = LogCapture.records(containing: "ResourceWarning: unclosed event loop").count
        do {
            let loop = EventLoop()
            loop.debug = true
        }
        // Other tests may free unclosed debug loops too, never fewer.
        #expect(LogCapture.records(containing: "ResourceWarning: unclosed event loop").count > before)
    }

    // MARK: Wrong thread

    @Test func aLoopMethodCalledFromAnotherLoopsThreadStopsTheProgram() async {
        await #expect(processExitsWith: .failure) {
            let first = EventLoop()
            first.debug = true
            let running = DispatchSemaphore(value: 0)
            spawnThread {
                _ = try? first.runUntilComplete {
                    running.signal()
                    try await sleep(30)
                }
            }
            running.wait()
            let second = EventLoop()
            _ = try? second.runUntilComplete { first.callSoon {} }
        }
    }
}
