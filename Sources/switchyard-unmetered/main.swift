// The gateway with its limit (Admit) and accounting (Account) stages switched off — for the
// benchmarks only, to measure what those two stages cost per request, side by side with the real
// `switchyard serve` in one run (`make bench`, `make bench-check`). Everything else — key lookup,
// plan check, model resolution, both rewrites, the upstream client — is the same code.
// Never deploy it: nothing is limited and nothing is recorded.
//
//   switchyard-unmetered [--listen HOST:PORT] [--data DIR]
#if canImport(Glibc)
import Glibc
#endif
import Accounting
@_spi(Benchmarks) import Gateway
import KeyStore
import SwitchyardJSON
import SwitchyardRoutes
import UpstreamClient

func log(_ message: String) {
    let line = "switchyard-unmetered: \(message)\n"
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
    default: fail("unknown option \(flag); usage: switchyard-unmetered [--listen HOST:PORT] [--data DIR]")
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
    let upstream = UpstreamClient()
    upstream.start()
    let services = GatewayServices(config: config, keys: keys, accountant: accountant, secrets: ProviderSecrets(config: config),
                                   upstream: upstream, metering: .off)
    let server = try GatewayServer(services: services, host: address.host, port: address.port)
    let bound = server.localAddress.map { ListenAddress.display(host: $0.ipAddress ?? address.host, port: $0.port ?? address.port) } ?? listen
    print("switchyard-unmetered listening on \(bound) (limits and accounting OFF: benchmarks only)")
    fflush(nil)
    server.runUntilSignalled()
    upstream.shutdown()
    accountant.close()
} catch {
    fail("\(error)")
}
