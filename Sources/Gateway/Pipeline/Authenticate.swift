import KeyStore
import NIOHTTP1
import RouteConfig

/// Who is calling: the key's record and the plan it is on.
struct Caller: Sendable {
    let key: KeyRecord
    let plan: ModelCatalog.PlanEntry
}

/// Stage 2: `Authorization: Bearer KEY` or `x-api-key: KEY` → a live key whose plan exists.
struct Authenticate {
    let catalog: ModelCatalog
    let keys: KeyStore

    func callAsFunction(_ headers: HTTPHeaders) throws(GatewayError) -> Caller {
        guard let secret = Self.presentedKey(headers) else { throw .missingKey() }
        // Checked against the store as it is now on every request, so a key revoked from the CLI
        // stops working at once (a key already found is not read again until the store changes).
        guard let record = keys.lookup(secret: secret) else { throw .invalidKey() }
        guard !record.revoked else { throw .revokedKey(record.id) }
        guard let plan = catalog.plan(record.plan) else {
            throw GatewayError(.planNotConfigured,
                               "API key \(record.id) is on plan '\(record.plan)', which this gateway's configuration no longer defines. Ask your admin to move the key to an existing plan.")
        }
        return Caller(key: record, plan: plan)
    }

    /// `bearer `, matched without regard to the case of the header's letters.
    private static let bearerPrefix = Array("bearer ".utf8)

    static func presentedKey(_ headers: HTTPHeaders) -> Substring? {
        if let authorization = headers.first(name: "authorization") {
            // On UTF-8 code units: counting Characters walked the whole key (2.7k instructions).
            let value = HeaderValue.trimmed(Substring(authorization).utf8)
            if value.count > 7, value.prefix(7).elementsEqual(Self.bearerPrefix, by: { (0x41...0x5A).contains($0) ? $0 | 0x20 == $1 : $0 == $1 }) {
                let key = HeaderValue.trimmed(value.dropFirst(7))
                if !key.isEmpty { return Substring(key) }
            }
        }
        if let header = headers.first(name: "x-api-key") {
            let key = HeaderValue.trimmed(Substring(header).utf8)
            if !key.isEmpty { return Substring(key) }
        }
        return nil
    }
}
