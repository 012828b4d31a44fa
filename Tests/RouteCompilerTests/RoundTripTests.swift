// Validated config → tables / generated Swift → decoded config: nothing lost or changed.

import Foundation
import Testing
import RouteCompiler
import RouteConfig

@Suite struct RoundTripTests {
    static let configFolders = ["golden/config", "golden-reshuffled"]

    @Test(arguments: configFolders)
    func tablesDecodeToTheValidatedConfig(_ folder: String) throws {
        let config = try #require(RouteCompiler.compile(try loadFolder(Paths.fixture(folder))).config)
        #expect(try RouteTables(encoding: config).decode() == config)
    }

    /// Reads the literals back out of the rendered source (undoing the escapes), then decodes.
    @Test(arguments: configFolders)
    func renderedSourceDecodesToTheValidatedConfig(_ folder: String) throws {
        let config = try #require(RouteCompiler.compile(try loadFolder(Paths.fixture(folder))).config)
        let tables = try GeneratedSourceReader.tables(from: RouteCompiler.render(config))
        #expect(tables == RouteTables(encoding: config))
        #expect(try tables.decode() == config)
    }

    /// Strings are stored once by their bytes: a composed "café" and a decomposed one are equal
    /// as Swift `String`s, and used to share one copy with the wrong length.
    @Test func canonicallyEqualStringsKeepTheirOwnBytes() throws {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        let config = try #require(RouteCompiler.compile(MinimalConfig.with(["models.yaml": """
            models:
              \(composed): { provider: openai, upstream: \(decomposed) }
              gpt-4o-mini: { provider: openai, aliases: [mini] }
            """])).config)
        let decoded = try RouteTables(encoding: config).decode()
        let model = try #require(decoded.models.first { Array($0.id.utf8) == Array(composed.utf8) })
        #expect(Array(model.upstreamID.utf8) == Array(decomposed.utf8))
    }

    @Test func defaultRoutesRoundTrip() throws {
        let config = try #require(RouteCompiler.compile(try loadFolder(Paths.defaultRoutes)).config)
        let tables = try GeneratedSourceReader.tables(from: RouteCompiler.render(config))
        #expect(try tables.decode() == config)
    }

    /// The real test of the escaping: let the Swift compiler read the generated literal, and decode
    /// it in a program built from RouteConfig's own sources. Compiled as module `RouteConfig` so
    /// `String(reflecting:)` names the types exactly as this process does.
    @Test(.timeLimit(.minutes(5)))
    func compiledSourceDecodesToTheValidatedConfig() throws {
        let swiftc = try #require(Toolchain.swiftc(), "no swiftc found; set SWIFTC")
        let config = try #require(RouteCompiler.compile(try loadFolder(Paths.fixture("golden/config"))).config)
        let folder = try makeTemporaryFolder("roundtrip")
        defer { try? FileManager.default.removeItem(at: folder) }
        try RouteCompiler.render(config).write(to: folder.appending(path: "RouteTables.generated.swift"), atomically: true, encoding: .utf8)
        try """
            let decoded = try RouteTables(strings: generatedRouteStrings, packedInts: generatedRouteInts).decode()
            print(String(reflecting: decoded), terminator: "")
            """.write(to: folder.appending(path: "main.swift"), atomically: true, encoding: .utf8)
        let routeConfigSources = Paths.packageRoot.appending(path: "Sources/RouteConfig")
        let modelSources = try FileManager.default.contentsOfDirectory(atPath: routeConfigSources.path)
            .filter { $0.hasSuffix(".swift") }.sorted().map { routeConfigSources.appending(path: $0).path }
        let program = folder.appending(path: "decode").path
        let build = try run(swiftc, ["-swift-version", "6", "-module-name", "RouteConfig", "-Onone"] + modelSources
                            + ["RouteTables.generated.swift", "main.swift", "-o", program], in: folder)
        #expect(build.status == 0, "\(build.output)")
        guard build.status == 0 else { return }
        let decoded = try run(URL(fileURLWithPath: program), [])
        #expect(decoded.status == 0, "\(decoded.output)")
        #expect(decoded.output == String(reflecting: config))
    }
}
