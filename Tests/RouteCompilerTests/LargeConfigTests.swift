// A 5,000-model config: validate, render, then compile the output with swiftc. Timings are printed,
// not asserted (the machine is shared); the point is that it compiles at all in reasonable time.

import Foundation
import Testing
import RouteCompiler
import RouteConfig

@Suite struct LargeConfigTests {
    static let modelCount = 5_000

    static func largeConfig() -> [ConfigSource] {
        var providers = "providers:\n"
        for p in 0..<10 {
            providers += """
                  p\(p):
                    api: [openai-chat]
                    base_url: https://p\(p).example/v1
                    auth: { bearer_env: P\(p)_KEY }

                """
        }
        var models = "models:\n"
        for m in 0..<modelCount {
            let id = String(format: "model-%05d", m)
            models += "  \(id): { provider: p\(m % 10), upstream: vendor/\(id)-2025, price: { input: \(m % 7).25, cached_input: 0.\(m % 10)5, output: \(m % 13) }, aliases: [m\(m)] }\n"
        }
        let rest = """
            plans:
              all: { models: ["*"], requests_per_minute: 600, daily_tokens: 1000000 }
              some: { models: ["model-0*"], requests_per_minute: 60, daily_tokens: 1000 }
            routes:
              - { method: POST, path: /v1/chat/completions, serve: openai-chat }
              - { method: GET, path: /v1/models, serve: models }
            """
        return [ConfigSource(path: "providers.yaml", text: providers), ConfigSource(path: "models.yaml", text: models),
                ConfigSource(path: "rest.yaml", text: rest)]
    }

    @Test(.timeLimit(.minutes(10)))
    func fiveThousandModelsGenerateAndCompile() throws {
        let sources = Self.largeConfig()
        let clock = ContinuousClock()
        var compilation: Compilation?
        let validateTime = clock.measure { compilation = RouteCompiler.compile(sources) }
        let config = try #require(compilation?.config, "\(compilation?.diagnostics.prefix(5) ?? [])")
        #expect(config.models.count == Self.modelCount)

        var source = ""
        let renderTime = clock.measure { source = RouteCompiler.render(config) }
        #expect(try GeneratedSourceReader.tables(from: source).decode() == config)

        let swiftc = try #require(Toolchain.swiftc(), "no swiftc found; set SWIFTC")
        let folder = try makeTemporaryFolder("large")
        defer { try? FileManager.default.removeItem(at: folder) }
        try source.write(to: folder.appending(path: "RouteTables.generated.swift"), atomically: true, encoding: .utf8)
        let build = try run(swiftc, ["-parse-as-library", "-swift-version", "6", "-c", "RouteTables.generated.swift",
                                     "-o", "RouteTables.generated.o"], in: folder)
        #expect(build.status == 0, "\(build.output)")
        print("""
            5,000-model config: parse+validate \(validateTime), render \(renderTime) \
            (\(source.utf8.count / 1024) KiB of Swift), swiftc -c \(String(format: "%.2f", build.seconds)) s
            """)
    }
}
