// swift-tools-version: 6.1
// Benchmarks live in their own package so `swift test` at the root never
// builds package-benchmark. Run them from this folder:
//   swift package benchmark                      (package-benchmark suites)
//   swift build -c release && ../scripts/bench/compare   (vs CPython asyncio and uvloop)
import Foundation
import PackageDescription

/// A path dependency is known by its folder's name, whatever the clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "asyncio-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "Workloads", dependencies: [.product(name: "AsyncIO", package: root)]),
        .executableTarget(name: "asyncio-bench", dependencies: ["Workloads"]),
        .executableTarget(
            name: "AsyncIOBenchmarks",
            dependencies: ["Workloads", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/AsyncIOBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets {
    target.swiftSettings = [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]
}
