#if canImport(Glibc)
import Glibc
#endif
import Accounting
import ArgumentParser
import Gateway
import NIOCore
import KeyStore
import RouteConfig
import SwitchyardJSON
import SwitchyardRoutes
import UpstreamClient

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway.")

    @Option(help: "Address to listen on, HOST:PORT (an IPv6 address in brackets: [::1]:8080).")
    var listen: String = "127.0.0.1:8080"

    @OptionGroup var data: DataOptions

    @Option(help: "Event loop threads (default: one per core, less one for the upstream client's thread).")
    var threads: Int?

    @Option(name: .customLong("idle-timeout-ms"), help: "Override server.idle_timeout_ms from the config.")
    var idleTimeoutMs: Int?

    @Option(name: .customLong("request-timeout-ms"), help: "Override server.request_timeout_ms from the config.")
    var requestTimeoutMs: Int?

    @Option(name: .customLong("shutdown-grace-ms"), help: "Override server.shutdown_grace_ms from the config.")
    var shutdownGraceMs: Int?

    @Option(name: .customLong("usage-sync-ms"),
            help: "Flush the usage store to disk every N ms: the most a power loss can lose. 0: fsync every commit (slower).")
    var usageSyncMs: Int = 100

    /// The same lower bounds the config compiler enforces for the settings these override; a
    /// bad value is refused before anything starts (`--threads 0` trapped inside NIO).
    func validate() throws {
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be from 1 to 256 (event loop threads); got \(threads)")
        }
        if let idleTimeoutMs, idleTimeoutMs < 1 { throw ValidationError("--idle-timeout-ms must be at least 1") }
        if let requestTimeoutMs, requestTimeoutMs < 1 { throw ValidationError("--request-timeout-ms must be at least 1") }
        if let shutdownGraceMs, shutdownGraceMs < 0 { throw ValidationError("--shutdown-grace-ms must be 0 or more") }
        guard usageSyncMs >= 0 else { throw ValidationError("--usage-sync-ms must be 0 or more (0: fsync every commit)") }
        do { _ = try ListenAddress(parsing: listen) } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        var config = try loadEmbeddedConfig()
        applyBaseURLOverrides(&config)
        if let idleTimeoutMs { config.server.idleTimeoutMs = idleTimeoutMs }
        if let requestTimeoutMs { config.server.requestTimeoutMs = requestTimeoutMs }
        if let shutdownGraceMs { config.server.shutdownGraceMs = shutdownGraceMs }
        let address = try ListenAddress(parsing: listen)  // checked in `validate`
        let (host, port) = (address.host, address.port)
        prepareJSONForThreads()
        raiseOpenFileLimit()
        let keys = try KeyStore(directory: data.data)
        var accounting = Accountant.Options()
        accounting.syncIntervalMillis = usageSyncMs
        let accountant = try Accountant(directory: data.data, options: accounting)
        let secrets = ProviderSecrets(config: config)
        for (provider, variable) in secrets.missing {
            log("provider '\(provider)': environment variable \(variable) is not set; its models will answer 502")
        }
        let upstream = UpstreamClient()
        upstream.start()
        let services = GatewayServices(config: config, keys: keys, accountant: accountant, secrets: secrets, upstream: upstream)
        let server = try GatewayServer(services: services, host: host, port: port, threads: threads ?? GatewayServer.defaultEventLoopThreads)
        let bound = server.localAddress.map { ListenAddress.display(host: $0.ipAddress ?? host, port: $0.port ?? port) } ?? listen
        print("switchyard \(Switchyard.version) listening on \(bound) (config \(config.digest.prefix(12)), \(config.models.count) models)")
        fflush(nil)
        server.runUntilSignalled()
        upstream.shutdown()
        accountant.close()
        log("stopped")
    }
}

func loadEmbeddedConfig() throws -> CompiledConfig {
    do {
        return try EmbeddedRoutes.load()
    } catch {
        throw ValidationError("the embedded route tables are unreadable: \(error)")
    }
}

/// Each client connection is a descriptor, and so is each provider connection: the usual soft
/// limit (1,024) would be reached near 500 concurrent streams, while the hard limit is usually far
/// higher. Raised to the hard limit, as nginx's `worker_rlimit_nofile` or Go's runtime do. (At
/// the limit, `accept` fails; see `GatewayServer.acceptBackoff`.)
func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    let before = limit.rlim_cur
    limit.rlim_cur = limit.rlim_max
    if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 {
        log("could not raise the open-file limit from \(before) to \(limit.rlim_max); at most ~\(before / 2) concurrent connections")
    }
}

func log(_ message: String) {
    var line = "switchyard: " + message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func applyBaseURLOverrides(_ config: inout CompiledConfig) {
    do {
        for message in try ProviderBaseURLOverrides.apply(to: &config) { log(message) }
    } catch {
        log("cannot start: \(error)")
        exit(1)
    }
}
