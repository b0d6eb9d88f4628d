import ArgumentParser

/// What turns a networking topic's example into a server or a client on
/// its own: `--serve [--host H] [--port P]`, or `--connect HOST:PORT
/// [MESSAGE …]`. Shared by `echo-server` and `ssl-echo`.
struct ServeOptions: ParsableArguments {
    @Argument(help: "With --connect: the messages to send (default: the documentation's three).")
    var messages: [String] = []
    @Flag(help: "Run only the server, until SIGINT or SIGTERM.") var serve = false
    @Option(help: "With --serve: the host to listen on.") var host = "localhost"
    // Unconditional, so that `--port -1` is read as a number and rejected
    // by the range check rather than taken for an option.
    @Option(parsing: .unconditional, help: "With --serve: the port to listen on.") var port = 10000
    @Option(help: "Run only the client, against HOST:PORT.") var connect: String?

    /// True when only the server or only the client runs.
    var isServerOrClient: Bool { serve || connect != nil }

    /// `--connect`'s host and port.
    var endpoint: Endpoint? { connect.flatMap(Endpoint.init) }

    /// The messages as the process received them, or the documentation's.
    var payload: [[UInt8]] { messages.isEmpty ? EchoDemo.documentMessages : rawBytes(of: messages) }

    func validate() throws {
        guard !(serve && connect != nil) else { throw ValidationError("use either --serve or --connect, not both") }
        if let connect, Endpoint(connect) == nil {
            throw ValidationError("--connect expects HOST:PORT, got '\(connect)'")
        }
        if !messages.isEmpty, connect == nil { throw ValidationError("messages can only be given with --connect") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
    }
}
