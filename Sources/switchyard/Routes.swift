import ArgumentParser
import RouteConfig

struct Routes: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the compiled table: routes, providers, models, plans.")

    func run() throws {
        let c = try loadEmbeddedConfig()
        print("config sha256:\(c.digest)")
        print("\nROUTES")
        for r in c.routes { print("  \(r.method.padding(6)) \(r.path.padding(28)) → \(r.target.rawValue)") }
        print("\nPROVIDERS")
        for p in c.providers {
            let auth: String
            switch p.auth {
            case .none: auth = "none"
            case .bearer(let env): auth = "bearer $\(env)"
            case .header(let name, let env): auth = "\(name): $\(env)"
            case .query(let param, let env): auth = "?\(param)=$\(env)"
            }
            print("  \(p.id.padding(12)) \(p.apis.map(\.rawValue).joined(separator: ",").padding(34)) \(p.baseURL)  [\(auth)]")
        }
        print("\nMODELS")
        for m in c.models {
            let provider = c.providers[m.provider].id
            let price = "in \(Self.credits(m.price.inputMicros)) / cached \(Self.credits(m.price.cachedInputMicros)) / out \(Self.credits(m.price.outputMicros))"
            var line = "  \(m.id.padding(28)) \(provider.padding(12)) → \(m.upstreamID.padding(34)) \(price)"
            if !m.aliases.isEmpty { line += "  aliases: \(m.aliases.joined(separator: ", "))" }
            if !m.active { line += "  (inactive)" }
            print(line)
        }
        print("\nPLANS")
        for p in c.plans {
            var line = "  \(p.id.padding(12)) rpm \(p.requestsPerMinute), daily tokens \(p.dailyTokens), models: \(p.models.joined(separator: " "))"
            if !p.gates.isEmpty { line += ", gates: \(p.gates.joined(separator: " "))" }
            print(line)
        }
    }

    /// Millionths of a credit → decimal text.
    static func credits(_ micros: Int64) -> String {
        let whole = micros / 1_000_000
        var frac = String(micros % 1_000_000)
        frac = String(repeating: "0", count: 6 - frac.count) + frac
        while frac.count > 2 && frac.hasSuffix("0") { frac.removeLast() }
        return "\(whole).\(frac)"
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
