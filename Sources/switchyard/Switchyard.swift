import ArgumentParser

/// `switchyard`: the gateway and its admin commands.
@main
struct Switchyard: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "switchyard",
        abstract: "An LLM API gateway: one base URL and one key for every provider.",
        version: version,
        subcommands: [Serve.self, Keys.self, Usage.self, Version.self, Routes.self],
        defaultSubcommand: Serve.self
    )
}

/// Options every command that touches the data folder takes.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Folder for keys and counters (LMDB).")
    var data: String = "var/data"
}
