// swift-tools-version: 6.2
import PackageDescription

/// Every project target builds in Swift 6 language mode with warnings treated as errors.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "async-patterns",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AsyncPatterns", targets: ["AsyncPatterns"]),
        .library(name: "MockServer", targets: ["MockServer"]),
        .library(name: "HTTPEngines", targets: ["HTTPEngines"]),
        .executable(name: "experiments", targets: ["experiments"]),
        .executable(name: "report", targets: ["report"]),
        .executable(name: "mock-server", targets: ["mock-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // SHA-256 for cell ids and spec fingerprints. The floor is swift-certificates' own; the range admits the 4.x
        // that the graph already pins through it, so adding this changes no other version.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // Core: models, seeded randomness, clocks and the resilience patterns. Imports nothing of the project.
        .target(name: "AsyncPatterns", swiftSettings: strict),

        // System libraries, each with a small C shim.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),

        .target(
            name: "MockServer",
            dependencies: [
                "AsyncPatterns",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HTTPEngines",
            dependencies: [
                "AsyncPatterns",
                "CCurl",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Discrete-event simulation of an engine cell in virtual time: the engines' load models and the library's own
        // patterns against the mock server's own fault, latency and capacity decisions.
        .target(
            name: "Simulation", dependencies: ["AsyncPatterns", "HTTPEngines", "MockServer"], swiftSettings: strict),
        .target(name: "LabStore", dependencies: ["AsyncPatterns", "CSQLite"], swiftSettings: strict),
        .target(
            name: "Reporting",
            dependencies: [
                "AsyncPatterns",
                "LabStore",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Lab",
            dependencies: [
                "AsyncPatterns", "HTTPEngines", "MockServer", "LabStore", "Reporting", "Simulation",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        // Not product code: synthetic lab databases (the report's fixture, `report --synthesize`) and the report's
        // speed figure; the benchmarks and `make perf` figures behind the `experiments` subcommands.
        .target(
            name: "ReportingSynthetic",
            dependencies: ["AsyncPatterns", "LabStore", "Reporting"],
            swiftSettings: strict
        ),
        .target(
            name: "LabBenchmarks",
            dependencies: [
                "AsyncPatterns", "HTTPEngines", "MockServer", "LabStore", "Reporting", "ReportingSynthetic", "Lab",
                "Simulation", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),

        // Thin command-line shells.
        .executableTarget(
            name: "experiments",
            dependencies: [
                "Lab", "LabBenchmarks", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "report",
            dependencies: [
                "Reporting", "ReportingSynthetic", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "mock-server",
            dependencies: [
                "MockServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        // Helpers shared by the test targets (manual clock, raw loopback server and client, polling, temporary
        // folders); no product target depends on it.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),

        .testTarget(
            name: "AsyncPatternsTests", dependencies: ["AsyncPatterns", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "MockServerTests",
            dependencies: ["MockServer", "TestSupport", .product(name: "NIOEmbedded", package: "swift-nio")],
            swiftSettings: strict),
        .testTarget(
            name: "HTTPEnginesTests", dependencies: ["HTTPEngines", "MockServer", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "SimulationTests", dependencies: ["Simulation", "AsyncPatterns", "HTTPEngines", "MockServer"],
            swiftSettings: strict),
        .testTarget(name: "LabStoreTests", dependencies: ["LabStore", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "ReportingTests", dependencies: ["Reporting", "ReportingSynthetic", "LabStore"],
            exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "PipelineTests", dependencies: ["AsyncPatterns", "LabStore", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LabTests", dependencies: ["Lab", "LabBenchmarks", "ReportingSynthetic", "LabStore", "TestSupport"],
            exclude: ["Fixtures"], swiftSettings: strict),
    ]
)
