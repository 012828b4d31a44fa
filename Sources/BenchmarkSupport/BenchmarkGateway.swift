// The start-up the benchmark builds of the gateway share (`switchyard-unmetered`,
// `switchyard-nio-upstream`): the same embedded config, stores and server as `switchyard serve`,
// with one stage switched off or another provider client in.
#if canImport(Glibc)
import Glibc
#endif
import Accounting
@_spi(Benchmarks) import Gateway
import KeyStore
import SwitchyardJSON
import SwitchyardRoutes
import UpstreamClient

public enum BenchmarkGateway {
    /// Parses `[--listen HOST:PORT] [--data DIR]`, serves until SIGTERM or SIGINT, then exits.
    /// `metered`: whether the limit and accounting stages run. `upstream` makes the provider
    /// client and says how to stop it.
    public static func run(name: String, banner: String, metered: Bool, threads: Int = GatewayServer.defaultEventLoopThreads,
                           upstream: () -> (client: any UpstreamCalling, stop: () -> Void)) -> Never {
        var listen = "127.0.0.1:8080"
        var data = "var/data"
        var arguments = CommandLine.arguments.dropFirst()
        while let flag = arguments.popFirst() {
            guard let value = arguments.popFirst() else { fail(name, "\(flag) needs a value") }
            switch flag {
            case "--listen": listen = value
            case "--data": data = value
            default: fail(name, "unknown option \(flag); usage: \(name) [--listen HOST:PORT] [--data DIR]")
            }
        }
        let address: ListenAddress
        do { address = try ListenAddress(parsing: listen) } catch { fail(name, error.description) }
        do {
            var config = try EmbeddedRoutes.load()
            for message in try! ProviderBaseURLOverrides.apply(to: &config) { log(name, message) }
            prepareJSONForThreads()
            let keys = try KeyStore(directory: data)
            let accountant = try Accountant(directory: data)
            let (client, stop) = upstream()
            let services = GatewayServices(config: config, keys: keys, accountant: accountant,
                                           secrets: ProviderSecrets(config: config), upstream: client,
                                           metering: metered ? .on : .off)
            let server = try GatewayServer(services: services, host: address.host, port: address.port, threads: threads)
            let bound = server.localAddress.map {
                ListenAddress.display(host: $0.ipAddress ?? address.host, port: $0.port ?? address.port)
            } ?? listen
            print("\(name) listening on \(bound) (\(banner))")
            fflush(nil)
            server.runUntilSignalled()
            stop()
            accountant.close()
            exit(0)
        } catch {
            fail(name, "\(error)")
        }
    }

    static func log(_ name: String, _ message: String) {
        let line = "\(name): \(message)\n"
        line.utf8CString.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count - 1) }
    }

    static func fail(_ name: String, _ message: String) -> Never {
        log(name, message)
        exit(2)
    }
}
