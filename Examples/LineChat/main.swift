// A line-based TCP service on streams: the server answers each command on
// its own line; three clients talk to it at once over loopback.
//
//     upper TEXT   ->  TEXT in capitals
//     count        ->  how many commands this connection has sent
//     quit         ->  "bye", and the server closes the connection
//
//     swift run LineChat

import AsyncIO

/// A line without its line ending ("\r\n" is one Character in Swift).
func command(_ line: String) -> String {
    var line = line
    while line.last?.isNewline == true { line.removeLast() }
    return line
}

@LoopActor
func serve(_ reader: StreamReader, _ writer: StreamWriter) async throws {
    var commands = 0
    for try await line in reader.lines(as: String.self) {
        commands += 1
        let words = command(line).split(separator: " ", maxSplits: 1)
        switch (words.first, words.dropFirst().first) {
        case ("upper", let text?):
            writer.write(text.uppercased() + "\n")
        case ("count", nil):
            writer.write("\(commands)\n")
        case ("quit", nil):
            writer.write("bye\n")
            writer.close()
            try await writer.waitClosed()
            return
        default:
            writer.write("unknown command: \(command(line))\n")
        }
        try await writer.drain()   // waits while the client reads slowly
    }
    writer.close()                 // the client hung up without quit
}

/// Sends `commands` one at a time and returns the conversation.
@LoopActor
func talk(port: Int, _ commands: [String]) async throws -> [String] {
    let (reader, writer) = try await openConnection(host: "127.0.0.1", port: port)
    var transcript: [String] = []
    for line in commands {
        writer.write(line + "\n")
        try await writer.drain()
        let reply = command(try await reader.readline(as: String.self))
        transcript.append("\(line) -> \(reply)")
    }
    writer.close()
    try await writer.waitClosed()
    return transcript
}

try run {
    let server = try await startServer(serve, host: "127.0.0.1", port: 0)
    let port = server.addresses[0].port
    print("serving on 127.0.0.1, an ephemeral port")   // the number changes from run to run

    let conversations = try await gather([
        createTask { try await talk(port: port, ["upper hello", "count", "quit"]) },
        createTask { try await talk(port: port, ["count", "count", "upper é and ß", "quit"]) },
        createTask { try await talk(port: port, ["shout", "quit"]) },
    ])
    for (number, transcript) in conversations.enumerated() {
        print("client \(number + 1):")
        for line in transcript { print("  " + line) }
    }

    server.close()
    try await server.waitClosed()
    print("server closed")
}
