// Same config ⇒ same bytes, however it is split, ordered, quoted or commented.

import Foundation
import Testing
import RouteCompiler
import RouteConfig

@Suite struct DeterminismTests {
    func render(_ sources: [ConfigSource]) throws -> String {
        let compilation = RouteCompiler.compile(sources)
        return RouteCompiler.render(try #require(compilation.config, "\(compilation.diagnostics)"))
    }

    @Test func twoRunsGiveIdenticalBytes() throws {
        let sources = try loadFolder(Paths.fixture("golden/config"))
        #expect(try render(sources) == (try render(sources)))
    }

    @Test func fileOrderDoesNotMatter() throws {
        let sources = try loadFolder(Paths.fixture("golden/config"))
        #expect(try render(sources) == (try render(sources.reversed())))
    }

    /// The reshuffled fixture has other file names and another split, reordered keys and lists,
    /// other quoting, flow instead of block style, redundant defaults and comments.
    @Test func reshuffledConfigGivesIdenticalBytes() throws {
        let golden = try render(loadFolder(Paths.fixture("golden/config")))
        let reshuffled = try render(loadFolder(Paths.fixture("golden-reshuffled")))
        #expect(golden == reshuffled)
    }

    @Test func anyRealChangeChangesTheDigest() throws {
        let base = try #require(RouteCompiler.compile(MinimalConfig.with([:])).config)
        let changed = try #require(RouteCompiler.compile(MinimalConfig.with(["models.yaml": """
            models:
              gpt-4o: { provider: openai, price: { input: 0.000001, output: 0 } }
              gpt-4o-mini: { provider: openai, aliases: [mini] }
            """])).config)
        #expect(base.digest != changed.digest)
        #expect(base.digest.count == 64)
        #expect(ConfigDigest.digest(of: base) == base.digest)
    }

    @Test func routeOrderIsKept() throws {
        let routes = """
            routes:
              - { method: GET, path: /v1/models, serve: models }
              - { method: POST, path: /v1/chat/completions, serve: openai-chat }
            """
        let config = try #require(RouteCompiler.compile(MinimalConfig.with(["routes.yaml": routes])).config)
        #expect(config.routes.map(\.path) == ["/v1/models", "/v1/chat/completions"])
    }

    @Test func outputFileIsWrittenOnlyWhenItChanges() throws {
        let folder = try makeTemporaryFolder("output")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appending(path: "nested/RouteTables.generated.swift").path
        #expect(try OutputFile.write("let a = 1\n", to: file))
        #expect(try !OutputFile.write("let a = 1\n", to: file))
        #expect(try OutputFile.write("let a = 2\n", to: file))
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "let a = 2\n")
    }
}
