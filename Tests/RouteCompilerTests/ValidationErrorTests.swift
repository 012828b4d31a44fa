// Each validation rule, with the exact `file:line:col` it reports. Configs are in memory: the
// minimal valid config with one file replaced.

import Foundation
import Testing
import RouteCompiler

struct ValidationCase: Sendable, CustomTestStringConvertible {
    var name: String
    var files: [String: String?]
    /// The full diagnostic line expected among the output.
    var expected: String

    var testDescription: String { name }
}

@Suite struct ValidationErrorTests {
    static let cases: [ValidationCase] = [
        ValidationCase(name: "misspelt key suggests the closest known key", files: ["providers.yaml": """
            providers:
              openai:
                api: [openai-chat]
                base-url: https://api.openai.com/v1
                auth: { bearer_env: OPENAI_API_KEY }
            """], expected: "providers.yaml:4:5: error: unknown key 'base-url' in provider 'openai' (did you mean 'base_url'?)"),

        ValidationCase(name: "unknown section", files: ["routes.yaml": """
            routes:
              - { method: POST, path: /v1/chat/completions, serve: openai-chat }
              - { method: GET, path: /v1/models, serve: models }
            sever: { key_prefix: sk- }
            """], expected: "routes.yaml:4:1: error: unknown section 'sever' (did you mean 'server'?); sections are providers, models, plans, routes, server"),

        ValidationCase(name: "missing required key", files: ["models.yaml": """
            models:
              gpt-4o: { upstream: gpt-4o-2024-08-06 }
              gpt-4o-mini: { provider: openai, aliases: [mini] }
            """], expected: "models.yaml:2:3: error: model 'gpt-4o' is missing required key 'provider'"),

        ValidationCase(name: "wrong value type", files: ["plans.yaml": """
            plans:
              free: { models: ["gpt-*"], requests_per_minute: "10", daily_tokens: 1000 }
            """], expected: "plans.yaml:2:51: error: 'requests_per_minute' of plan 'free' must be an integer, found the string '10'"),

        ValidationCase(name: "a section of the wrong shape", files: ["routes.yaml": """
            routes:
              openai-chat: /v1/chat/completions
            """], expected: "routes.yaml:2:3: error: 'routes' must be a list of {method, path, serve}, found a mapping"),

        ValidationCase(name: "model names an unknown provider", files: ["models.yaml": """
            models:
              gpt-4o: { provider: openia }
              gpt-4o-mini: { provider: openai, aliases: [mini] }
            """], expected: "models.yaml:2:23: error: model 'gpt-4o' names unknown provider 'openia' (did you mean 'openai'?)"),

        ValidationCase(name: "plan pattern matches no model", files: ["plans.yaml": """
            plans:
              free: { models: ["claude-*"], requests_per_minute: 10, daily_tokens: 1000 }
            """], expected: "plans.yaml:2:20: error: model pattern 'claude-*' in plan 'free' matches no model"),

        ValidationCase(name: "plan pattern names an alias", files: ["plans.yaml": """
            plans:
              free: { models: [mini], requests_per_minute: 10, daily_tokens: 1000 }
            """], expected: "plans.yaml:2:20: error: model pattern 'mini' in plan 'free' matches no model (it matches an alias of 'gpt-4o-mini'; plans list model ids)"),

        ValidationCase(name: "duplicate model id", files: ["models.yaml": """
            models:
              gpt-4o: { provider: openai }
              gpt-4o-mini: { provider: openai, aliases: [mini] }
              gpt-4o: { provider: openai, upstream: other }
            """], expected: "models.yaml:4:3: error: duplicate key 'gpt-4o' (first defined at line 2); keys must be unique"),

        ValidationCase(name: "alias collides with a model id", files: ["models.yaml": """
            models:
              gpt-4o: { provider: openai, aliases: [gpt-4o-mini] }
              gpt-4o-mini: { provider: openai, aliases: [mini] }
            """], expected: "models.yaml:2:41: error: alias 'gpt-4o-mini' of model 'gpt-4o' is already the id of a model (line 3)"),

        ValidationCase(name: "alias collides with another alias", files: ["models.yaml": """
            models:
              gpt-4o: { provider: openai }
              gpt-4o-mini: { provider: openai, aliases: [mini] }
              gpt-4.1-mini: { provider: openai, aliases: [mini] }
            """], expected: "models.yaml:4:47: error: alias 'mini' of model 'gpt-4.1-mini' is already an alias of model 'gpt-4o-mini' (line 3)"),

        ValidationCase(name: "unknown route target", files: ["routes.yaml": """
            routes:
              - { method: POST, path: /v1/chat/completions, serve: openai-chat }
              - { method: GET, path: /v1/models, serve: modles }
            """], expected: "routes.yaml:3:45: error: unknown route target 'modles' (did you mean 'models'?); targets: openai-chat, openai-responses, anthropic-messages, models, health, usage, model"),

        ValidationCase(name: "unknown api", files: ["providers.yaml": """
            providers:
              openai:
                api: [openai-chat, anthropic]
                base_url: https://api.openai.com/v1
                auth: { bearer_env: OPENAI_API_KEY }
            """], expected: "providers.yaml:3:24: error: unknown api 'anthropic' in provider 'openai' (did you mean 'anthropic-messages'?); known apis: openai-chat, openai-responses, anthropic-messages, gemini, elevenlabs"),

        ValidationCase(name: "URL with a query", files: ["providers.yaml": """
            providers:
              openai:
                api: [openai-chat]
                base_url: https://api.openai.com/v1?x=1
                auth: { bearer_env: OPENAI_API_KEY }
            """], expected: "providers.yaml:4:15: error: base_url 'https://api.openai.com/v1?x=1' of provider 'openai' must not have a query ('?…'); put auth in 'auth'"),

        ValidationCase(name: "URL without scheme", files: ["providers.yaml": """
            providers:
              openai:
                api: [openai-chat]
                base_url: api.openai.com/v1
                auth: { bearer_env: OPENAI_API_KEY }
            """], expected: "providers.yaml:4:15: error: base_url 'api.openai.com/v1' of provider 'openai' must start with http:// or https://"),

        ValidationCase(name: "URL with a bad port", files: ["providers.yaml": """
            providers:
              openai:
                api: [openai-chat]
                base_url: http://localhost:99999/v1
                auth: { bearer_env: OPENAI_API_KEY }
            """], expected: "providers.yaml:4:15: error: base_url 'http://localhost:99999/v1' of provider 'openai' has an invalid port '99999'"),

        ValidationCase(name: "negative price", files: ["models.yaml": """
            models:
              gpt-4o: { provider: openai, price: { input: -1, output: 2 } }
              gpt-4o-mini: { provider: openai, aliases: [mini] }
            """], expected: "models.yaml:2:47: error: 'input' of price of model 'gpt-4o' is -1: a price cannot be negative"),

        ValidationCase(name: "price finer than a millionth", files: ["models.yaml": """
            models:
              gpt-4o: { provider: openai, price: { input: 0.0000015, output: 2 } }
              gpt-4o-mini: { provider: openai, aliases: [mini] }
            """], expected: "models.yaml:2:47: error: 'input' of price of model 'gpt-4o' is 0.0000015: a price has at most 6 decimal places (millionths of a credit)"),

        ValidationCase(name: "price written as a string", files: ["models.yaml": """
            models:
              gpt-4o: { provider: openai, price: { input: "2.50", output: 2 } }
              gpt-4o-mini: { provider: openai, aliases: [mini] }
            """], expected: "models.yaml:2:47: error: 'input' of price of model 'gpt-4o' must be a number (credits per million tokens), found the string '2.50'"),

        ValidationCase(name: "provider with an empty api list", files: ["providers.yaml": """
            providers:
              openai:
                api: []
                base_url: https://api.openai.com/v1
                auth: { bearer_env: OPENAI_API_KEY }
            """], expected: "providers.yaml:3:10: error: provider 'openai' has an empty 'api' list: it could serve nothing"),

        ValidationCase(name: "plan gate names no provider", files: ["plans.yaml": """
            plans:
              free:
                models: ["gpt-*"]
                requests_per_minute: 10
                daily_tokens: 1000
                gates: [openai, elevenlabs]
            """], expected: "plans.yaml:6:21: error: gate 'elevenlabs' in plan 'free' names no provider"),

        ValidationCase(name: "duplicate route", files: ["routes.yaml": """
            routes:
              - { method: POST, path: /v1/chat/completions, serve: openai-chat }
              - { method: GET, path: /v1/models, serve: models }
              - { method: POST, path: /v1/chat/completions, serve: openai-chat }
            """], expected: "routes.yaml:4:5: error: route POST /v1/chat/completions is already defined at line 2"),

        ValidationCase(name: "invalid method", files: ["routes.yaml": """
            routes:
              - { method: FETCH, path: /v1/chat/completions, serve: openai-chat }
            """], expected: "routes.yaml:2:15: error: invalid method 'FETCH'; methods: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"),

        ValidationCase(name: "lowercase method", files: ["routes.yaml": """
            routes:
              - { method: post, path: /v1/chat/completions, serve: openai-chat }
            """], expected: "routes.yaml:2:15: error: invalid method 'post' (did you mean 'POST'?); methods: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"),

        ValidationCase(name: "relative route path", files: ["routes.yaml": """
            routes:
              - { method: POST, path: v1/chat/completions, serve: openai-chat }
            """], expected: "routes.yaml:2:27: error: route path 'v1/chat/completions' must start with '/'"),

        ValidationCase(name: "model route without its parameter", files: ["routes.yaml": """
            routes:
              - { method: GET, path: /v1/models/one, serve: model }
            """], expected: "routes.yaml:2:26: error: a 'model' route's path must end in '/{model}', e.g. /v1/models/{model}"),

        ValidationCase(name: "model parameter on another target", files: ["routes.yaml": """
            routes:
              - { method: GET, path: "/v1/models/{model}", serve: models }
            """], expected: "routes.yaml:2:26: error: only 'model' routes take the '{model}' parameter; 'models' routes match their path exactly"),

        ValidationCase(name: "parameter before the last segment", files: ["routes.yaml": """
            routes:
              - { method: GET, path: "/v1/{model}/info", serve: model }
            """], expected: "routes.yaml:2:26: error: route path '/v1/{model}/info' may have one parameter, '{model}', and only as its last segment"),

        ValidationCase(name: "section in a second file", files: ["zz-more.yaml": """
            plans:
              other: { models: ["*"], requests_per_minute: 1, daily_tokens: 1 }
            """], expected: "zz-more.yaml:1:1: error: section 'plans' is already defined in plans.yaml (line 1); a section may appear in one file only"),

        ValidationCase(name: "header auth without env", files: ["providers.yaml": """
            providers:
              openai:
                api: [openai-chat]
                base_url: https://api.openai.com/v1
                auth: { header: x-api-key }
            """], expected: "providers.yaml:5:11: error: auth of provider 'openai' is missing required key 'env' (the environment variable holding the secret)"),

        ValidationCase(name: "auth as an unknown word", files: ["providers.yaml": """
            providers:
              openai:
                api: [openai-chat]
                base_url: https://api.openai.com/v1
                auth: bearer
            """], expected: "providers.yaml:5:11: error: auth of provider 'openai' must be 'none', {bearer_env: VAR}, {header: NAME, env: VAR} or {query: PARAM, env: VAR}, found 'bearer'"),

        ValidationCase(name: "bad environment variable name", files: ["providers.yaml": """
            providers:
              openai:
                api: [openai-chat]
                base_url: https://api.openai.com/v1
                auth: { bearer_env: openai-key }
            """], expected: "providers.yaml:5:25: error: 'openai-key' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"),

        ValidationCase(name: "header the gateway owns", files: ["providers.yaml": """
            providers:
              openai:
                api: [openai-chat]
                base_url: https://api.openai.com/v1
                auth: { bearer_env: OPENAI_API_KEY }
                headers: { Content-Length: "5" }
            """], expected: "providers.yaml:6:16: error: header 'Content-Length' is set by the gateway and cannot be configured"),

        ValidationCase(name: "keys YAML tells apart but the config reads as the same text", files: ["plans.yaml": """
            plans:
              free: { models: ["gpt-*"], requests_per_minute: 10, daily_tokens: 1000 }
              !x free: { models: ["*"], requests_per_minute: 100000, daily_tokens: 1000 }
            """], expected: "plans.yaml:3:3: error: duplicate key 'free' (first at line 2, column 3); each key may appear once"),

        ValidationCase(name: "a literal credential header even without bearer auth", files: ["providers.yaml": """
            providers:
              openai:
                api: [openai-chat]
                base_url: https://api.openai.com/v1
                headers: { Authorization: "Bearer sk-live-abc" }
            """], expected: "providers.yaml:5:16: error: header 'Authorization' carries a credential and cannot be written in the config; use `auth` (bearer or header), which reads the secret from an environment variable at start-up"),

        ValidationCase(name: "a timeout past a day", files: ["providers.yaml": """
            providers:
              openai:
                api: [openai-chat]
                base_url: https://api.openai.com/v1
                auth: { bearer_env: OPENAI_API_KEY }
                read_timeout_ms: 9223372036854775807
            """], expected: "providers.yaml:6:22: error: 'read_timeout_ms' of provider 'openai' must be at most 86400000 (24 hours)"),

        ValidationCase(name: "model id with the pattern wildcard", files: ["models.yaml": """
            models:
              gpt-*: { provider: openai }
            """], expected: "models.yaml:2:3: error: model id 'gpt-*' must not contain '*' (it is the wildcard of plan patterns)"),

        ValidationCase(name: "non-positive rate limit", files: ["plans.yaml": """
            plans:
              free: { models: ["gpt-*"], requests_per_minute: 0, daily_tokens: 1000 }
            """], expected: "plans.yaml:2:51: error: 'requests_per_minute' of plan 'free' must be at least 1, found 0"),

        ValidationCase(name: "no routes section", files: ["routes.yaml": nil],
                       expected: "error: no 'routes' section in any config file: the gateway would serve nothing"),

        ValidationCase(name: "top level that is not a mapping", files: ["routes.yaml": """
            - { method: GET, path: /healthz, serve: health }
            """], expected: "routes.yaml:1:1: error: a config file is a mapping of sections (providers, models, plans, routes, server), found a list"),
    ]

    @Test(arguments: cases)
    func reportsProblemAtItsPosition(_ testCase: ValidationCase) {
        let compilation = RouteCompiler.compile(MinimalConfig.with(testCase.files))
        let lines = compilation.diagnostics.map(\.description)
        #expect(lines.contains(testCase.expected), "got:\n\(lines.joined(separator: "\n"))")
        #expect(!compilation.succeeded)
    }

    /// Nested aliases expand exponentially (a few hundred bytes to billions of values): the
    /// compiler once ran out of memory on one; now it stops at a fixed number of values.
    @Test func aliasExpansionIsBounded() {
        var bomb = "server:\n  l0: &a0 [q, q, q, q, q, q, q, q, q, q, q, q, q, q, q, q, q, q, q, q]\n"
        for level in 1...6 {
            bomb += "  l\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 20).joined(separator: ", ") + "]\n"
        }
        let compilation = RouteCompiler.compile(MinimalConfig.with(["bomb.yaml": bomb]))
        #expect(compilation.diagnostics.contains { $0.description.contains("expands to more than 1000000 values") })
        #expect(!compilation.succeeded)
    }

    @Test func minimalConfigIsValid() {
        let compilation = RouteCompiler.compile(MinimalConfig.with([:]))
        #expect(compilation.diagnostics.isEmpty, "\(compilation.diagnostics)")
        #expect(compilation.succeeded)
    }

    @Test func yamlSyntaxErrorIsReportedAndOtherFilesStillChecked() {
        let compilation = RouteCompiler.compile(MinimalConfig.with([
            "providers.yaml": """
                providers:
                  openai: { api: [openai-chat, base_url: x
                """,
            "plans.yaml": """
                plans:
                  free: { models: ["gpt-*"], requests_per_minute: -1, daily_tokens: 1000 }
                """,
        ]))
        let lines = compilation.diagnostics.map(\.description)
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.hasPrefix("plans.yaml:2:51: error: 'requests_per_minute'") == true)
        #expect(lines.last?.hasPrefix("providers.yaml:") == true)
        #expect(lines.last?.contains("error: YAML syntax error") == true)
        // The providers section is unreadable, so models naming 'openai' are not called dangling.
        #expect(!lines.contains { $0.contains("unknown provider") })
    }

    @Test func unreachableProviderIsAWarningNotAnError() {
        let providers = MinimalConfig.providers + """

              anthropic:
                api: [anthropic-messages]
                base_url: https://api.anthropic.com/v1
                auth: { header: x-api-key, env: ANTHROPIC_API_KEY }
              elevenlabs:
                api: [elevenlabs]
                base_url: https://api.elevenlabs.io
                auth: { header: xi-api-key, env: ELEVENLABS_API_KEY }
            """
        let models = MinimalConfig.models + "\n  claude: { provider: anthropic }"
        let compilation = RouteCompiler.compile(MinimalConfig.with(["providers.yaml": providers, "models.yaml": models]))
        #expect(compilation.succeeded)
        #expect(compilation.diagnostics.map(\.description) == [
            "providers.yaml:6:3: warning: provider 'anthropic' speaks anthropic-messages but routes serve only openai-chat and no plan gates it: its 1 model(s) cannot be served yet",
            "providers.yaml:10:3: warning: provider 'elevenlabs' is unused: it has no models and no plan gates it",
        ])

        // Gating the pass-through provider makes it used.
        let plans = """
            plans:
              free: { models: ["gpt-*"], requests_per_minute: 10, daily_tokens: 1000, gates: [elevenlabs] }
            """
        let gated = RouteCompiler.compile(MinimalConfig.with(["providers.yaml": providers, "models.yaml": models, "plans.yaml": plans]))
        #expect(gated.succeeded)
        #expect(gated.diagnostics.count == 1)
        #expect(gated.diagnostics.first?.message.contains("'anthropic'") == true)
    }

    @Test func noConfigFilesAtAll() {
        let compilation = RouteCompiler.compile([])
        #expect(compilation.diagnostics.map(\.description) == ["error: no config files (*.yaml, *.yml) given"])
    }

    /// Many problems across four files: all of them in one run, sorted by file and line.
    @Test func everyProblemIsReportedInOneRun() throws {
        let folder = Paths.fixture("many-errors")
        let compilation = RouteCompiler.compile(try loadFolder(folder))
        let expectedFile = folder.appending(path: "expected-diagnostics.txt")
        let actual = compilation.diagnostics.map(\.description).joined(separator: "\n") + "\n"
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try actual.write(to: expectedFile, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: expectedFile, encoding: .utf8)
        #expect(actual == expected, "run with UPDATE_GOLDEN=1 to accept the new output")
        #expect(compilation.errors.count >= 20)
        #expect(compilation.diagnostics == compilation.diagnostics.sorted())
    }
}
