/// A chapter of the documentation and the examples that mirror it.
struct Topic: Sendable {
    /// The command-line name, such as `coroutines`.
    let name: String
    /// Other names accepted on the command line.
    var aliases: [String] = []
    /// The documentation section this topic mirrors.
    let section: String
    /// One line on what the chapter teaches.
    let abstract: String
    let examples: [Example]

    func example(named name: String) -> Example? { examples.first { $0.name == name } }
}

/// One example: a function that prints what the documentation's script prints.
struct Example: Sendable {
    let name: String
    /// What the example shows, in one sentence.
    let summary: String
    /// The asyncio APIs it mirrors, in Python spelling.
    let mirrors: String
    let run: @Sendable () throws -> Void
}

/// Every topic's command, in the documentation's order.
let topicCommands: [any TopicCommand.Type] = [
    CoroutinesCommand.self, SchedulingCommand.self, FuturesCommand.self,
    TasksCommand.self, ControlCommand.self, LocksCommand.self, EchoServerCommand.self,
]

let allTopics = topicCommands.map { $0.topic }

func topic(named name: String) -> Topic? {
    allTopics.first { $0.name == name || $0.aliases.contains(name) }
}
