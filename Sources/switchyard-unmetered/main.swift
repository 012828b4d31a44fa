// The gateway with its limit (Admit) and accounting (Account) stages switched off — for the
// benchmarks only, to measure what those two stages cost per request, side by side with the real
// `switchyard serve` in one run (`make bench`, `make bench-check`). Everything else — key lookup,
// plan check, model resolution, both rewrites, the upstream client — is the same code.
// Never deploy it: nothing is limited and nothing is recorded.
//
//   switchyard-unmetered [--listen HOST:PORT] [--data DIR]
import BenchmarkSupport
import UpstreamClient

BenchmarkGateway.run(name: "switchyard-unmetered", banner: "limits and accounting OFF: benchmarks only", metered: false) {
    let client = UpstreamClient()
    client.start()
    return (client, client.shutdown)
}
