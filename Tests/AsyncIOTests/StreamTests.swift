import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AsyncIO
import TestSupport

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

@Suite(.suiteLimit) struct StreamReaderTests {
    @Test func readlineAndReaduntilFindSeparators() throws {
        let lines = try runLoop { loop -> [String] in
            let reader = StreamReader(loop: loop)
            reader.feedData(bytes("one\ntwo||three"))
            loop.callSoon { reader.feedData(bytes("||four")); reader.feedEof() }
            var out = [text(try await reader.readline())]
            out.append(text(try await reader.readuntil(bytes("||"))))
            out.append(text(try await reader.readuntil(bytes("||"))))
            out.append(text(try await reader.read()))
            out.append("atEof=\(reader.atEof)")
            return out
        }
        #expect(lines == ["one\n", "two||", "three||", "four", "atEof=true"])
    }

    @Test func readexactlyAtEarlyEofGivesThePartialBytes() throws {
        let error = try runLoop { loop -> IncompleteReadError? in
            let reader = StreamReader(loop: loop)
            reader.feedData(bytes("abc"))
            reader.feedEof()
            do { _ = try await reader.readexactly(5); return nil } catch let error as IncompleteReadError { return error }
        }
        #expect(error == IncompleteReadError(partial: bytes("abc"), expected: 5))
        #expect(error?.description == "3 bytes read on a total of 5 expected bytes")
    }

    @Test func readlineBeyondTheLimitRaisesAndKeepsTheData() throws {
        let (error, rest) = try runLoop { loop -> (LimitOverrunError?, String) in
            let reader = StreamReader(limit: 8, loop: loop)
            reader.feedData(bytes("0123456789abcdef\nnext\n"))
            reader.feedEof()
            var caught: LimitOverrunError?
            do { _ = try await reader.readline() } catch let error as LimitOverrunError { caught = error }
            return (caught, text(try await reader.read()))
        }
        #expect(error?.message == "Separator is found, but chunk is longer than limit")
        #expect(rest == "0123456789abcdef\nnext\n")  // nothing lost
    }

    @Test func readuntilWithoutSeparatorBeyondTheLimitRaises() throws {
        let error = try runLoop { loop -> LimitOverrunError? in
            let reader = StreamReader(limit: 4, loop: loop)
            reader.feedData(bytes("abcdefgh"))
            do { _ = try await reader.readuntil(bytes("\n")); return nil } catch let error as LimitOverrunError { return error }
        }
        #expect(error?.message == "Separator is not found, and chunk exceed the limit")
        #expect(error?.consumed == 8)
    }

    @Test func readuntilAtEofWithoutSeparatorIsIncomplete() throws {
        let error = try runLoop { loop -> IncompleteReadError? in
            let reader = StreamReader(loop: loop)
            reader.feedData(bytes("tail"))
            reader.feedEof()
            do { _ = try await reader.readuntil(bytes("\n")); return nil } catch let error as IncompleteReadError { return error }
        }
        #expect(error == IncompleteReadError(partial: bytes("tail"), expected: nil))
    }

    @Test func linesIterateUntilEof() throws {
        let lines = try runLoop { loop -> [String] in
            let reader = StreamReader(loop: loop)
            reader.feedData(bytes("a\nb\nc"))
            reader.feedEof()
            var out: [String] = []
            for try await line in reader.lines { out.append(text(line)) }
            return out
        }
        #expect(lines == ["a\n", "b\n", "c"])
    }
}

@Suite(.serialized, .suiteLimit) struct StreamNetworkTests {
    @Test func streamEchoServerAndClient() throws {
        let (reply, peerSeen) = try runLoop { loop -> (String, Bool) in
            var peerSeen = false
            let server = try await loop.startServer({ reader, writer in
                peerSeen = writer.getExtraInfo("peername") is SocketAddress
                while true {
                    let data = try await reader.read(128)
                    if data.isEmpty { break }
                    writer.write(data)
                    try await writer.drain()
                }
                writer.close()
            }, host: "127.0.0.1", port: 0)
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.addresses[0].port)
            writer.writelines([bytes("This is the message. "), bytes("It will be sent "), bytes("in parts.")])
            writer.writeEof()
            let reply = try await reader.read()
            writer.close()
            try await writer.waitClosed()
            server.close()
            try await server.waitClosed()
            return (text(reply), peerSeen)
        }
        #expect(reply == "This is the message. It will be sent in parts.")
        #expect(peerSeen)
    }

    @Test func unixDomainStreams() throws {
        let path = "/tmp/asyncio-demo-test-\(getpid()).sock"
        unlink(path)
        defer { unlink(path) }
        let reply = try runLoop { loop -> String in
            let server = try loop.startUnixServer({ reader, writer in
                writer.write(try await reader.readline().reversed().dropFirst() + [10])
                try await writer.drain()
                writer.close()
            }, path: path)
            let (reader, writer) = try await loop.openUnixConnection(path: path)
            writer.write(bytes("olleh\n"))
            let reply = try await reader.readline()
            server.close()
            return text(reply)
        }
        #expect(reply == "hello\n")
    }
}

@Suite struct StreamTextTests {
    @Test func textGoesOutAsUTF8AndLinesComeBackDecoded() throws {
        let lines = try runLoop { loop -> [String] in
            let reader = StreamReader(loop: loop)
            reader.feedData(Array("grüße\n".utf8) + [0x66, 0xff, 0x0a])
            reader.feedEof()
            return [try await reader.readline(as: String.self), try await reader.readline(as: String.self),
                    try await reader.readline(as: String.self)]
        }
        #expect(lines == ["grüße\n", "f\u{FFFD}\n", ""])
    }

    @Test func textLinesEndAtEndOfStreamWithTheLastLineUnterminated() throws {
        let lines = try runLoop { loop -> [String] in
            let reader = StreamReader(loop: loop)
            reader.feedData(Array("one\r\ntwo\nthré".utf8))
            reader.feedEof()
            var lines: [String] = []
            for try await line in reader.lines(as: String.self) { lines.append(line) }
            return lines
        }
        #expect(lines == ["one\r\n", "two\n", "thré"])
    }

    @Test func aStringWrittenIsItsUTF8Bytes() throws {
        let echoed = try runLoop { loop -> [UInt8] in
            let server = try await startStreamEcho(loop)
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.addresses[0].port)
            writer.write("grüße\n")
            let line = try await reader.readline()
            writer.close()
            server.close()
            return line
        }
        #expect(echoed == Array("grüße\n".utf8))
    }
}
