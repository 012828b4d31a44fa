// The generated Swift for a fixture config, compared byte for byte with a committed file.
// `UPDATE_GOLDEN=1 swift test ... --filter RouteCompilerTests` rewrites it after an intended change.

import Foundation
import Testing
import RouteCompiler

@Suite struct GoldenOutputTests {
    static let goldenFile = Paths.fixture("golden/RouteTables.generated.swift.golden")

    @Test func goldenConfigRendersTheCommittedSource() throws {
        let compilation = RouteCompiler.compile(try loadFolder(Paths.fixture("golden/config")))
        #expect(compilation.diagnostics.isEmpty, "\(compilation.diagnostics)")
        let config = try #require(compilation.config)
        let rendered = RouteCompiler.render(config)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: Self.goldenFile, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: Self.goldenFile, encoding: .utf8)
        #expect(rendered == golden, "run with UPDATE_GOLDEN=1 to accept the new output")
    }

    @Test func outputHasNoPathsOrTimestamps() throws {
        let config = try #require(RouteCompiler.compile(try loadFolder(Paths.fixture("golden/config"))).config)
        let rendered = RouteCompiler.render(config)
        #expect(!rendered.contains(Paths.packageRoot.path))
        #expect(!rendered.contains(".yaml"))
        #expect(rendered.contains("// config digest: sha256:\(config.digest)"))
        // Only ASCII: everything else is escaped.
        #expect(rendered.utf8.allSatisfy { $0 < 0x80 })
    }
}
