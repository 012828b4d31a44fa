#if canImport(Glibc)
import Glibc
#endif
import RouteConfig

/// Provider secrets, read from the environment once at start-up. Values are never logged,
/// printed or compiled in; only the names of missing variables are reported.
public struct ProviderSecrets: Sendable {
    /// Provider index → the header line or query parameter that authenticates us to it; nil
    /// when the provider needs no auth.
    let credentials: [Credential?]
    /// Providers whose variable is unset: their models answer 502.
    public let missing: [(provider: String, variable: String)]

    enum Credential: Sendable {
        case header(String)
        case query(String)
        case unavailable(variable: String)
    }

    public init(config: CompiledConfig, environment: (String) -> String? = { name in getenv(name).map { String(cString: $0) } }) {
        var credentials: [Credential?] = []
        var missing: [(String, String)] = []
        for provider in config.providers {
            guard let variable = provider.auth.envVar else { credentials.append(nil); continue }
            guard let secret = environment(variable), !secret.isEmpty else {
                credentials.append(.unavailable(variable: variable))
                missing.append((provider.id, variable))
                continue
            }
            switch provider.auth {
            case .none: credentials.append(nil)
            case .bearer: credentials.append(.header("Authorization: Bearer \(secret)"))
            case .header(let name, _): credentials.append(.header("\(name): \(secret)"))
            case .query(let param, _): credentials.append(.query("\(param)=\(ProviderSecrets.percentEncode(secret))"))
            }
        }
        self.credentials = credentials
        self.missing = missing
    }

    static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF")
                out.append("%"); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            }
        }
        return out
    }
}
