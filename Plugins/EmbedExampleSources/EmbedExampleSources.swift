import Foundation
import PackagePlugin

/// Embeds the demo's topic sources in the demo at build time, so that
/// `asyncio-demo <topic> <example> --source` prints the code behind the
/// output from an installed binary, with no checkout beside it.
@main
struct EmbedExampleSources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let topics = target.sourceFiles(withSuffix: "swift").map(\.url)
            .filter { $0.deletingLastPathComponent().lastPathComponent == "Topics" }
            .sorted { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appending(path: "ExampleSources.swift")
        return [
            .buildCommand(
                displayName: "Embedding the example sources of \(target.name)",
                executable: try context.tool(named: "EmbedSources").url,
                arguments: [output.path] + topics.map(\.path),
                inputFiles: topics,
                outputFiles: [output]
            ),
        ]
    }
}
