import Accounting
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
            let price = "in \(Self.price(m.price.inputMicros)) / cached \(Self.price(m.price.cachedInputMicros)) / out \(Self.price(m.price.outputMicros))"
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

    /// Credits per million tokens as a price reads: at least 2 decimals ("2.50", "0.000125").
    static func price(_ micros: Int64) -> String { creditsText(micros: micros, minimumFractionDigits: 2) }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
