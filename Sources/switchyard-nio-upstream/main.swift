// The real gateway — key, plan, limits, ledger, rewrites — over a NIO provider client instead of
// libcurl, for the benchmarks only: `make bench` runs it beside `switchyard` to measure what the
// libcurl client and its thread cost (see BenchmarkSupport/NIOUpstreamClient.swift for what that
// client leaves out). Never deploy it.
//
//   switchyard-nio-upstream [--listen HOST:PORT] [--data DIR]
import BenchmarkSupport
import NIOCore

// One event loop per core: with no upstream thread, the loops are the only threads that work.
BenchmarkGateway.run(name: "switchyard-nio-upstream", banner: "NIO provider client: benchmarks only", metered: true,
                     threads: System.coreCount) {
    (NIOUpstreamClient(), {})
}
