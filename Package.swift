// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "asyncio-demo",
    products: [
        .library(name: "AsyncIO", targets: ["AsyncIO"]),
        .executable(name: "asyncio-demo", targets: ["AsyncIODemo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "CLinux"),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "AsyncIO",
            dependencies: [
                "CLinux",
                "COpenSSL",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "AsyncIODemo",
            dependencies: [
                "AsyncIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedExampleSources"]
        ),
        // Build-time tool: the demo's topic sources, embedded for `--source`.
        .executableTarget(name: "EmbedSources"),
        .plugin(name: "EmbedExampleSources", capability: .buildTool(), dependencies: ["EmbedSources"]),
        // docs/library.md's three programs, built and run by the tests.
        .executableTarget(name: "FanOut", dependencies: ["AsyncIO"], path: "Examples/FanOut"),
        .executableTarget(name: "QueuePipeline", dependencies: ["AsyncIO"], path: "Examples/QueuePipeline"),
        .executableTarget(name: "LineChat", dependencies: ["AsyncIO"], path: "Examples/LineChat"),
        .target(name: "TestSupport", dependencies: ["CLinux"], path: "Tests/TestSupport"),
        .testTarget(
            name: "AsyncIOTests",
            dependencies: ["AsyncIO", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "AsyncIODemoTests",
            dependencies: ["AsyncIODemo", "FanOut", "QueuePipeline", "LineChat", "TestSupport"],
            exclude: ["Golden"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Nonisolated async functions run on their caller's executor, so a plain
// `async` helper called from loop code stays on the loop thread.
for target in package.targets where target.type != .system && target.type != .plugin {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
    ]
}
