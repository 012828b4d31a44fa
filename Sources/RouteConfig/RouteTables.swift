// The compact table form of a `CompiledConfig`: one string blob and one integer array. This is
// what generated Swift contains — data, not code — so a 5,000-model config compiles in about a
// second instead of the minutes a struct-array literal or a giant `switch` takes.
//
// Layout of `ints` (each string is two ints: byte offset and byte length in `strings`):
//   formatVersion, digest
//   server:    keyPrefix, maxBodyBytes, idleTimeoutMs, requestTimeoutMs, shutdownGraceMs
//   providers: count, then each: id, apiMask, baseURL, authKind, authA, authB,
//              headerCount, (name, value)*, connectTimeoutMs, readTimeoutMs
//   models:    count, then each: id, provider, upstreamID, input, cachedInput, output, active,
//              created, aliasCount, alias*
//   plans:     count, then each: id, requestsPerMinute, dailyTokens, patternCount, pattern*,
//              gateCount, gate*
//   routes:    count, then each: method, path, target

public struct RouteTables: Sendable, Equatable {
    public static let formatVersion: Int64 = 1

    public var strings: [UInt8]
    public var ints: [Int64]

    public init(strings: [UInt8], ints: [Int64]) { self.strings = strings; self.ints = ints }

    public struct DecodingError: Error, CustomStringConvertible {
        public var description: String
    }

    // MARK: Encoding (the route compiler)

    public init(encoding config: CompiledConfig) {
        var writer = Writer()
        writer.int(Self.formatVersion)
        writer.string(config.digest)
        let s = config.server
        writer.string(s.keyPrefix)
        writer.int(s.maxBodyBytes); writer.int(s.idleTimeoutMs); writer.int(s.requestTimeoutMs); writer.int(s.shutdownGraceMs)

        writer.int(config.providers.count)
        for p in config.providers {
            writer.string(p.id)
            var mask: Int64 = 0
            for api in p.apis { mask |= 1 << Int64(WireAPI.allCases.firstIndex(of: api)!) }
            writer.int(mask)
            writer.string(p.baseURL)
            switch p.auth {
            case .none: writer.int(0); writer.string(""); writer.string("")
            case .bearer(let env): writer.int(1); writer.string(""); writer.string(env)
            case .header(let name, let env): writer.int(2); writer.string(name); writer.string(env)
            case .query(let param, let env): writer.int(3); writer.string(param); writer.string(env)
            }
            writer.int(p.headers.count)
            for h in p.headers { writer.string(h.name); writer.string(h.value) }
            writer.int(p.connectTimeoutMs); writer.int(p.readTimeoutMs)
        }

        writer.int(config.models.count)
        for m in config.models {
            writer.string(m.id); writer.int(m.provider); writer.string(m.upstreamID)
            writer.int(m.price.inputMicros); writer.int(m.price.cachedInputMicros); writer.int(m.price.outputMicros)
            writer.int(m.active ? 1 : 0); writer.int(m.created)
            writer.int(m.aliases.count)
            for a in m.aliases { writer.string(a) }
        }

        writer.int(config.plans.count)
        for p in config.plans {
            writer.string(p.id); writer.int(p.requestsPerMinute); writer.int(p.dailyTokens)
            writer.int(p.models.count)
            for m in p.models { writer.string(m) }
            writer.int(p.gates.count)
            for g in p.gates { writer.string(g) }
        }

        writer.int(config.routes.count)
        for r in config.routes {
            writer.string(r.method); writer.string(r.path)
            writer.int(RouteTarget.allCases.firstIndex(of: r.target)!)
        }
        self.strings = writer.blob
        self.ints = writer.ints
    }

    private struct Writer {
        var blob: [UInt8] = []
        var ints: [Int64] = []
        /// By UTF-8 bytes, not `String`: Swift compares strings by canonical equivalence, so a
        /// composed "café" and a decomposed one are equal as `String`s but not as bytes, and a
        /// repeat would have pointed at the other spelling's bytes with its own length.
        var offsets: [[UInt8]: Int] = [:]

        mutating func int(_ v: Int64) { ints.append(v) }
        mutating func int(_ v: Int) { ints.append(Int64(v)) }
        /// Strings are stored once; repeats point at the first copy.
        mutating func string(_ s: String) {
            let bytes = Array(s.utf8)
            let offset: Int
            if let known = offsets[bytes] {
                offset = known
            } else {
                offset = blob.count
                blob.append(contentsOf: bytes)
                offsets[bytes] = offset
            }
            ints.append(Int64(offset)); ints.append(Int64(bytes.count))
        }
    }

    // MARK: Decoding (the gateway, at start-up)

    public func decode() throws(DecodingError) -> CompiledConfig {
        var r = Reader(strings: strings, ints: ints)
        let version = try r.int()
        guard version == Self.formatVersion else {
            throw DecodingError(description: "route tables have format \(version), this build reads \(Self.formatVersion)")
        }
        let digest = try r.string()
        let server = ServerSettings(keyPrefix: try r.string(), maxBodyBytes: try r.count(), idleTimeoutMs: try r.count(),
                                    requestTimeoutMs: try r.count(), shutdownGraceMs: try r.count())
        var providers: [Provider] = []
        for _ in 0..<(try r.count()) {
            let id = try r.string()
            let mask = try r.int()
            let apis = WireAPI.allCases.enumerated().filter { mask & (1 << Int64($0.offset)) != 0 }.map(\.element)
            let baseURL = try r.string()
            let kind = try r.int(), a = try r.string(), b = try r.string()
            let auth: ProviderAuth
            switch kind {
            case 0: auth = .none
            case 1: auth = .bearer(env: b)
            case 2: auth = .header(name: a, env: b)
            case 3: auth = .query(param: a, env: b)
            default: throw DecodingError(description: "unknown auth kind \(kind)")
            }
            var headers: [HeaderField] = []
            for _ in 0..<(try r.count()) { headers.append(HeaderField(name: try r.string(), value: try r.string())) }
            providers.append(Provider(id: id, apis: apis, baseURL: baseURL, auth: auth, headers: headers,
                                      connectTimeoutMs: try r.count(), readTimeoutMs: try r.count()))
        }
        var models: [Model] = []
        models.reserveCapacity(Int(ints.count / 12))
        for _ in 0..<(try r.count()) {
            let id = try r.string(), provider = try r.count(), upstream = try r.string()
            let price = Price(inputMicros: try r.int(), cachedInputMicros: try r.int(), outputMicros: try r.int())
            let active = try r.int() != 0, created = try r.int()
            var aliases: [String] = []
            for _ in 0..<(try r.count()) { aliases.append(try r.string()) }
            guard provider < providers.count else { throw DecodingError(description: "model \(id): provider index out of range") }
            models.append(Model(id: id, provider: provider, upstreamID: upstream, price: price, aliases: aliases,
                                active: active, created: created))
        }
        var plans: [Plan] = []
        for _ in 0..<(try r.count()) {
            let id = try r.string(), rpm = try r.count(), daily = try r.count()
            var patterns: [String] = []
            for _ in 0..<(try r.count()) { patterns.append(try r.string()) }
            var gates: [String] = []
            for _ in 0..<(try r.count()) { gates.append(try r.string()) }
            plans.append(Plan(id: id, models: patterns, requestsPerMinute: rpm, dailyTokens: daily, gates: gates))
        }
        var routes: [Route] = []
        for _ in 0..<(try r.count()) {
            let method = try r.string(), path = try r.string(), t = try r.count()
            guard t < RouteTarget.allCases.count else { throw DecodingError(description: "unknown route target \(t)") }
            routes.append(Route(method: method, path: path, target: RouteTarget.allCases[t]))
        }
        guard r.atEnd else { throw DecodingError(description: "trailing data in route tables") }
        return CompiledConfig(providers: providers, models: models, plans: plans, routes: routes,
                              server: server, digest: digest)
    }

    private struct Reader {
        let strings: [UInt8]
        let ints: [Int64]
        var index = 0

        var atEnd: Bool { index == ints.count }

        mutating func int() throws(DecodingError) -> Int64 {
            guard index < ints.count else { throw DecodingError(description: "route tables end early") }
            defer { index += 1 }
            return ints[index]
        }
        mutating func count() throws(DecodingError) -> Int {
            let v = try int()
            guard v >= 0 else { throw DecodingError(description: "negative count in route tables") }
            return Int(v)
        }
        mutating func string() throws(DecodingError) -> String {
            let offset = try count(), length = try count()
            guard offset + length <= strings.count else { throw DecodingError(description: "string out of range") }
            return String(decoding: strings[offset..<(offset + length)], as: UTF8.self)
        }
    }
}

extension RouteTables {
    /// Reads tables from the generated `StaticString` blob without copying it first.
    public init(strings: StaticString, ints: [Int64]) {
        let bytes = strings.withUTF8Buffer { Array($0) }
        self.init(strings: bytes, ints: ints)
    }

    /// Reads the generated form: the integers as comma-separated decimals in a `StaticString`
    /// (a single literal compiles ~30× faster than an `[Int64]` literal of 65,000 elements).
    public init(strings: StaticString, packedInts: StaticString) {
        var ints: [Int64] = []
        packedInts.withUTF8Buffer { text in
            ints.reserveCapacity(text.count / 3)
            var value: Int64 = 0, negative = false, inNumber = false
            for byte in text {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    value = value * 10 + Int64(byte - UInt8(ascii: "0")); inNumber = true
                case UInt8(ascii: "-"):
                    negative = true
                case UInt8(ascii: ","):
                    ints.append(negative ? -value : value); value = 0; negative = false; inNumber = false
                default:
                    break
                }
            }
            if inNumber { ints.append(negative ? -value : value) }
        }
        self.init(strings: strings, ints: ints)
    }
}
