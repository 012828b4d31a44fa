// The configuration shipped in `routes/` must always compile cleanly.

import Testing
import RouteCompiler
import RouteConfig

@Suite struct DefaultRoutesTests {
    @Test func defaultRoutesHaveNoErrors() throws {
        let compilation = RouteCompiler.compile(try loadFolder(Paths.defaultRoutes))
        #expect(compilation.errors.isEmpty, "\(compilation.errors)")
        // Only the documented warnings: providers whose wire format no route serves yet.
        #expect(compilation.warnings.allSatisfy { $0.message.contains("cannot be served yet") }, "\(compilation.warnings)")
        let config = try #require(compilation.config)

        #expect(config.routes.map(\.target) == [.openaiChat, .models, .model, .usage, .health])
        #expect(Set(config.plans.map(\.id)).isSuperset(of: ["free", "pro", "test"]))
        #expect(config.plans.first { $0.id == "pro" }?.gates == ["elevenlabs"])

        let mock = try #require(config.providers.firstIndex { $0.id == "mock" })
        #expect(config.providers[mock].auth == .none)
        #expect(config.providers[mock].baseURL == "http://127.0.0.1:9100/v1")
        #expect(config.providers[mock].readTimeoutMs == 5_000)
        let faults = ["mock-fault-500", "mock-fault-429", "mock-fault-malformed", "mock-fault-disconnect",
                      "mock-fault-hang", "mock-fault-400"]
        for id in faults {
            let model = try #require(config.models.first { $0.id == id }, "\(id)")
            #expect(model.upstreamID == id && model.provider == mock && model.active)
        }
        #expect(config.models.first { $0.id == "mock-gpt" }?.upstreamID == "mock-gpt-1")
        #expect(config.models.first { $0.id == "mock-retired" }?.active == false)
        #expect(config.server.keyPrefix == "sk-sy-")
    }
}
