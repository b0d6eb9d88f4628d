import Testing
import TestSupport

/// `asyncio-demo dns` beside Python running the chapter's own lookups on
/// the same targets: the same lines, byte for byte.
@Suite(.suiteLimit) struct DNSDemoTests {
    private func python(_ code: String) throws -> String {
        let run = try ChildProcess.run("/usr/bin/env", ["python3", "-c", code])
        try #require(run.status == 0, "\(run.stderr)")
        return run.stdoutText
    }

    @Test func getaddrinfoPrintsWhatPythonPrints() throws {
        let run = try Demo.run(["dns", "getaddrinfo"])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = try python("""
            import asyncio, socket
            loop = asyncio.new_event_loop()
            for host in ['localhost', '127.0.0.1', '::1']:
                for info in loop.run_until_complete(loop.getaddrinfo(host, 'https', proto=socket.IPPROTO_TCP)):
                    print('{:20}: {}'.format(host, info[4][0]))
            """)
        #expect(run.stdout == expected)
    }

    @Test func getnameinfoPrintsWhatPythonPrints() throws {
        let run = try Demo.run(["dns", "getnameinfo"])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = try python("""
            import asyncio
            loop = asyncio.new_event_loop()
            for address in ['127.0.0.1', '::1']:
                print('{:15}: {} {}'.format(address, *loop.run_until_complete(loop.getnameinfo((address, 443)))))
            """)
        #expect(run.stdout == expected)
    }

    @Test func aNameThatDoesNotResolveIsReportedAndTheOthersStillRun() throws {
        let run = try Demo.run(["dns", "getaddrinfo", "no-such-host.invalid", "127.0.0.1"])
        #expect(run.status == 1)
        #expect(run.stdout == "127.0.0.1           : 127.0.0.1\n")
        #expect(run.stderr.hasPrefix("asyncio-demo: no-such-host.invalid: socket.gaierror: [Errno -"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test func targetsNeedAnExample() throws {
        let run = try Demo.run(["dns", "localhost"])
        #expect(run.status == 64)
    }
}
