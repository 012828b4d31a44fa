import ArgumentParser
import KeyStore
import RouteConfig

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API keys.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; prints the secret (once) and nothing else.")
        @Option(help: "Plan the key is on (see `switchyard routes`).") var plan: String
        @Option(help: "A name to recognise the key by.") var name: String = ""
        @Option(help: "Override the plan's requests per minute for this key.") var rpm: Int?
        @Option(name: .customLong("daily-tokens"), help: "Override the plan's daily tokens for this key.") var dailyTokens: Int?
        @Flag(help: "Create the key even if its plan is not in this build (ahead of a config change).") var force = false
        @OptionGroup var data: DataOptions

        func run() throws {
            let config = try loadEmbeddedConfig()
            guard force || config.plans.contains(where: { $0.id == plan }) else {
                throw ValidationError("unknown plan '\(plan)'; plans in this build: \(config.plans.map(\.id).joined(separator: ", "))")
            }
            let store = try KeyStore(directory: data.data)
            let (_, secret) = try store.create(plan: plan, name: name, prefix: config.server.keyPrefix,
                                               rpmOverride: rpm, dailyTokensOverride: dailyTokens)
            print(secret)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys, one per line, id first (never the secret).")
        @Flag(help: "JSON lines for scripts.") var json = false
        @OptionGroup var data: DataOptions

        func run() throws {
            let store = try KeyStore(directory: data.data)
            for key in try store.list() {
                if json {
                    print(KeyListing.json(key))
                } else {
                    let state = key.revoked ? "revoked" : "active"
                    print("\(key.id)\t\(key.plan)\t\(state)\t\(KeyListing.date(key.createdAt))\t\(key.name)")
                }
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id; a running gateway refuses it at once.")
        @Argument(help: "The key id from `keys list`.") var id: String
        @OptionGroup var data: DataOptions

        func run() throws {
            let store = try KeyStore(directory: data.data)
            try store.revoke(id: id)
            print("revoked \(id)")
        }
    }
}
