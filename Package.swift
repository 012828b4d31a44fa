// swift-tools-version:6.1
import PackageDescription

// The config folder compiled into the gateway. `make build ROUTES=dir` stages a tenant's folder
// under .tenant-routes/ and points this at it; the folder is a target's `path`, so adding or
// removing a YAML file there regenerates the tables (see build-notes).
let routesPath = Context.environment["SWITCHYARD_ROUTES_DIR"] ?? "routes"

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Switchyard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "switchyard", targets: ["switchyard"]),
        .executable(name: "switchyard-mock", targets: ["switchyard-mock"]),
        .executable(name: "switchyard-unmetered", targets: ["switchyard-unmetered"]),
        .executable(name: "switchyard-relay-floor", targets: ["switchyard-relay-floor"]),
        .executable(name: "switchyard-nio-upstream", targets: ["switchyard-nio-upstream"]),
        .executable(name: "switchyard-routegen", targets: ["switchyard-routegen"]),
        .plugin(name: "RouteCompilerPlugin", targets: ["RouteCompilerPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // C libraries and the shim Swift cannot do without (curl's variadic setopt/getinfo).
        .systemLibrary(name: "CJansson", path: "Sources/CJansson", pkgConfig: "jansson",
                       providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLMDB", path: "Sources/CLMDB", pkgConfig: "lmdb",
                       providers: [.apt(["liblmdb-dev"])]),
        .target(name: "CSwitchyardShims", dependencies: ["CCurl"], path: "Sources/CSwitchyardShims"),

        // Shared by the route compiler and the runtime.
        .target(name: "SHA256", path: "Sources/SHA256", swiftSettings: strict),
        .target(name: "RouteConfig", path: "Sources/RouteConfig", swiftSettings: strict),

        // The route compiler: library (parse → validate → render), CLI, build-tool plugin.
        .target(name: "RouteCompiler", dependencies: ["RouteConfig", "SHA256", .product(name: "Yams", package: "Yams")],
                path: "codegen/Sources/RouteCompiler", swiftSettings: strict),
        .executableTarget(name: "switchyard-routegen", dependencies: ["RouteCompiler"],
                          path: "codegen/Sources/switchyard-routegen", swiftSettings: strict),
        .plugin(name: "RouteCompilerPlugin", capability: .buildTool(),
                dependencies: ["switchyard-routegen"], path: "codegen/Plugins/RouteCompilerPlugin"),

        // The embedded configuration: routes/*.yaml compiled into tables at build time.
        .target(name: "SwitchyardRoutes", dependencies: ["RouteConfig"], path: routesPath,
                swiftSettings: strict, plugins: ["RouteCompilerPlugin"]),

        // Runtime layers, in request order.
        .target(name: "CJSONScan", path: "Sources/CJSONScan"),
        .target(name: "SwitchyardJSON", dependencies: ["CJansson", "CJSONScan"], path: "Sources/SwitchyardJSON", swiftSettings: strict),
        .target(name: "LMDBSupport", dependencies: ["CLMDB"], path: "Sources/LMDBSupport", swiftSettings: strict),
        .target(name: "KeyStore", dependencies: ["CLMDB", "LMDBSupport", "SHA256"], path: "Sources/KeyStore", swiftSettings: strict),
        .target(name: "Accounting", dependencies: ["CLMDB", "LMDBSupport"], path: "Sources/Accounting", exclude: ["README.md"],
                swiftSettings: strict),
        .target(name: "UpstreamClient",
                dependencies: ["CCurl", "CSwitchyardShims", .product(name: "NIOCore", package: "swift-nio")],
                path: "Sources/UpstreamClient", swiftSettings: strict),
        .target(name: "Gateway",
                dependencies: ["RouteConfig", "SwitchyardJSON", "KeyStore", "Accounting", "UpstreamClient", "CSwitchyardShims", "CJSONScan",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOHTTP1", package: "swift-nio")],
                path: "Sources/Gateway", swiftSettings: strict),
        .executableTarget(name: "switchyard",
                          dependencies: ["Gateway", "SwitchyardRoutes", "KeyStore", "Accounting", "RouteConfig",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Sources/switchyard", swiftSettings: strict),

        // Benchmarks only: the gateway without its limit and accounting stages (see its main.swift).
        // Benchmarks only: what the benchmark builds below share (their start-up, a NIO provider
        // client, plain-HTTP URL parts).
        .target(name: "BenchmarkSupport",
                dependencies: ["Gateway", "KeyStore", "Accounting", "SwitchyardJSON", "SwitchyardRoutes", "UpstreamClient",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOHTTP1", package: "swift-nio")],
                path: "Sources/BenchmarkSupport", swiftSettings: strict),
        .executableTarget(name: "switchyard-unmetered", dependencies: ["BenchmarkSupport", "UpstreamClient"],
                          path: "Sources/switchyard-unmetered", swiftSettings: strict),

        // Benchmarks only: NIO + the libcurl client relaying bodies, nothing else (see its main.swift).
        .executableTarget(name: "switchyard-relay-floor",
                          dependencies: ["UpstreamClient", "BenchmarkSupport", "Gateway",
                                         .product(name: "NIOCore", package: "swift-nio"),
                                         .product(name: "NIOPosix", package: "swift-nio"),
                                         .product(name: "NIOHTTP1", package: "swift-nio")],
                          path: "Sources/switchyard-relay-floor", swiftSettings: strict),

        // Benchmarks only: the gateway over a NIO provider client instead of libcurl (see its main.swift).
        .executableTarget(name: "switchyard-nio-upstream",
                          dependencies: ["BenchmarkSupport", .product(name: "NIOCore", package: "swift-nio")],
                          path: "Sources/switchyard-nio-upstream", swiftSettings: strict),

        // The mock provider used by tests, benchmarks and `make run`.
        .executableTarget(name: "switchyard-mock",
                          dependencies: [.product(name: "NIOCore", package: "swift-nio"),
                                         .product(name: "NIOPosix", package: "swift-nio"),
                                         .product(name: "NIOHTTP1", package: "swift-nio")],
                          path: "Sources/switchyard-mock", swiftSettings: strict),

        .testTarget(name: "RouteCompilerTests", dependencies: ["RouteCompiler", "RouteConfig"],
                    path: "Tests/RouteCompilerTests", exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "KeyStoreTests", dependencies: ["KeyStore", "SHA256"],
                    path: "Tests/KeyStoreTests", swiftSettings: strict),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "Accounting", "RouteConfig", "SwitchyardJSON"],
                    path: "Tests/GatewayTests", swiftSettings: strict),
        .testTarget(name: "AccountingTests", dependencies: ["Accounting"], path: "Tests/AccountingTests", swiftSettings: strict),
    ]
)
