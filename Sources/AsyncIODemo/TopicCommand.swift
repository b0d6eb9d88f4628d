import ArgumentParser

/// The subcommand of a topic: `asyncio-demo <topic> [<example>]`.
protocol TopicCommand: ParsableCommand {
    static var topic: Topic { get }
    var example: String? { get }
    var learner: LearnerOptions { get }
}

extension TopicCommand {
    static func makeConfiguration() -> CommandConfiguration {
        CommandConfiguration(
            commandName: topic.name,
            abstract: topic.abstract,
            discussion: """
                Mirrors "\(topic.section)" in the asyncio chapter of Python Module of the Week.

                Examples, in documentation order:
                \(topic.examples.map(TextLayout.exampleRow).joined(separator: "\n"))
                """,
            aliases: topic.aliases
        )
    }

    func run() throws {
        try runTopic(Self.topic, example: example, learner)
    }
}

