// The real gateway — key, plan, limits, ledger, rewrites — over a NIO provider client instead of
// libcurl, for the benchmarks only: `make bench` runs it beside `switchyard` to measure what the
// libcurl client and its thread cost (see NIOUpstreamClient.swift for what that client leaves out).
// Never deploy it.
//
//   switchyard-nio-upstream [--listen HOST:PORT] [--data DIR]
#if canImport(Glibc)
import Glibc
#endif
import Accounting
@_spi(Benchmarks) import Gateway
import KeyStore
import NIOCore
import SwitchyardJSON
import SwitchyardRoutes

func log(_ message: String) {
    let line = "switchyard-nio-upstream: \(message)\n"
    line.utf8CString.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count - 1) }
}

func fail(_ message: String) -> Never {
    log(message)
    exit(2)
}

var listen = "127.0.0.1:8080"
var data = "var/data"
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
    switch flag {
    case "--listen": listen = value
    case "--data": data = value
    default: fail("unknown option \(flag); usage: switchyard-nio-upstream [--listen HOST:PORT] [--data DIR]")
    }
}
let address: ListenAddress
do { address = try ListenAddress(parsing: listen) } catch { fail(error.description) }

do {
    var config = try EmbeddedRoutes.load()
    for message in ProviderBaseURLOverrides.apply(to: &config) { log(message) }
    prepareJSONForThreads()
    let keys = try KeyStore(directory: data)
    let accountant = try Accountant(directory: data)
    let services = GatewayServices(config: config, keys: keys, accountant: accountant, secrets: ProviderSecrets(config: config),
                                   upstream: NIOUpstreamClient(), metering: .on)
    // One event loop per core: with no upstream thread, the loops are the only threads that work.
    let server = try GatewayServer(services: services, host: address.host, port: address.port,
                                   threads: System.coreCount)
    print("switchyard-nio-upstream listening on \(listen) (NIO provider client: benchmarks only)")
    fflush(nil)
    server.runUntilSignalled()
    accountant.close()
} catch {
    fail("\(error)")
}
