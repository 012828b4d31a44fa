import ArgumentParser

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version and the digest of the compiled config.")
    func run() throws {
        let config = try loadEmbeddedConfig()
        print("switchyard \(Switchyard.version)")
        print("config sha256:\(config.digest)")
    }
}
