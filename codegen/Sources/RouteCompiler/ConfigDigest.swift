// The config's identity: SHA-256 of a canonical text rendering of the validated config. Because it
// is computed from the compiled values (sorted, defaults filled in, decimals normalized), it does
// not depend on file names, how sections are split across files, key order, comments, quoting or
// whitespace — only on what the gateway will do.

import RouteConfig
import SHA256

public enum ConfigDigest {
    public static func digest(of config: CompiledConfig) -> String {
        SHA256.hex(Array(canonicalText(of: config).utf8))
    }

    /// One line per fact, every string quoted. The `digest` field itself is not part of it.
    public static func canonicalText(of config: CompiledConfig) -> String {
        var lines = ["switchyard-config 1"]
        let s = config.server
        lines.append("server key_prefix=\(q(s.keyPrefix)) max_body_bytes=\(s.maxBodyBytes) idle_timeout_ms=\(s.idleTimeoutMs) request_timeout_ms=\(s.requestTimeoutMs) shutdown_grace_ms=\(s.shutdownGraceMs)")
        for p in config.providers {
            lines.append("provider \(q(p.id)) api=\(p.apis.map(\.rawValue).joined(separator: ",")) base_url=\(q(p.baseURL)) auth=\(auth(p.auth)) connect_timeout_ms=\(p.connectTimeoutMs) read_timeout_ms=\(p.readTimeoutMs)")
            for h in p.headers { lines.append("provider-header \(q(p.id)) \(q(h.name)) \(q(h.value))") }
        }
        for m in config.models {
            let provider = config.providers.indices.contains(m.provider) ? config.providers[m.provider].id : "#\(m.provider)"
            let price = m.price
            lines.append("model \(q(m.id)) provider=\(q(provider)) upstream=\(q(m.upstreamID)) input=\(PriceDecimal.text(micros: price.inputMicros)) cached_input=\(PriceDecimal.text(micros: price.cachedInputMicros)) output=\(PriceDecimal.text(micros: price.outputMicros)) active=\(m.active) created=\(m.created)")
            for a in m.aliases { lines.append("model-alias \(q(m.id)) \(q(a))") }
        }
        for p in config.plans {
            lines.append("plan \(q(p.id)) requests_per_minute=\(p.requestsPerMinute) daily_tokens=\(p.dailyTokens)")
            for pattern in p.models { lines.append("plan-model \(q(p.id)) \(q(pattern))") }
            for gate in p.gates { lines.append("plan-gate \(q(p.id)) \(q(gate))") }
        }
        for r in config.routes { lines.append("route \(q(r.method)) \(q(r.path)) \(r.target.rawValue)") }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func auth(_ auth: ProviderAuth) -> String {
        switch auth {
        case .none: return "none"
        case .bearer(let env): return "bearer(\(q(env)))"
        case .header(let name, let env): return "header(\(q(name)),\(q(env)))"
        case .query(let param, let env): return "query(\(q(param)),\(q(env)))"
        }
    }

    /// Quoted so that no value can run into the next field.
    private static func q(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
