import SwitchyardJSON
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Prints what rewriting `model` in a ~100 KB agent turn costs two ways: jansson parse + set +
/// dump, and the scanner + splice the gateway uses. Asserts only that both give the same value;
/// timings are printed, never asserted (`swift test -c release --filter PassThroughCost`).
@Suite struct PassThroughCostReport {
    static func agentTurn() -> [UInt8] {
        var messages: [String] = []
        for i in 0..<60 {
            let text = String(repeating: "Line \(i) of the file with some code: let x = foo(bar, \\\"baz\\\"); ", count: 25)
            messages.append(#"{"role":"\#(i % 2 == 0 ? "user" : "assistant")","content":"\#(text)"}"#)
        }
        let tools = (0..<20).map { #"{"type":"function","function":{"name":"tool_\#($0)","description":"Does thing \#($0)","parameters":{"type":"object","properties":{"path":{"type":"string"},"line":{"type":"integer"}},"required":["path"]}}}"# }
        let body = #"{"model":"gpt-4o","stream":true,"messages":[\#(messages.joined(separator: ","))],"tools":[\#(tools.joined(separator: ","))],"temperature":0.2}"#
        return Array(body.utf8)
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    @Test func rewriteModelInAHundredKilobyteBody() throws {
        let body = Self.agentTurn()
        #expect(body.count > 90_000)
        let iterations = 50

        var janssonOut: [UInt8] = []
        let t0 = Self.now()
        for _ in 0..<iterations {
            let doc = try #require(JSONDocument.parse(body))
            doc.set("model", "gpt-4o-2024-08-06")
            janssonOut = doc.serialized()
        }
        let t1 = Self.now()
        var spliced: [UInt8] = []
        for _ in 0..<iterations {
            let span = try JSONTopLevelScanner.scanObject(body, keys: ["model"])[0]!
            var quoted: [UInt8] = []
            JSONTopLevelScanner.appendQuoted("gpt-4o-2024-08-06", to: &quoted)
            spliced = body.withUnsafeBytes { JSONTopLevelScanner.splice($0, replacing: span.value, with: quoted) }
        }
        let t2 = Self.now()

        #expect(JSONDocument.parse(spliced)?.member("model")?.string == "gpt-4o-2024-08-06")
        #expect(JSONDocument.parse(janssonOut)?.member("model")?.string == "gpt-4o-2024-08-06")
        let jansson = Double(t1 - t0) / Double(iterations) / 1000, scan = Double(t2 - t1) / Double(iterations) / 1000
        print("pass-through cost, \(body.count)-byte body: jansson parse+dump \(Int(jansson)) µs, scan+splice \(Int(scan)) µs (\(String(Int(jansson / scan)))× less)")
    }
}
