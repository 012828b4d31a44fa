// The compiled configuration: what the route compiler produces and the gateway runs on.
// Plain values, validated already; the gateway builds its lookup structures from these once at
// start-up (see `ModelCatalog` in Gateway).

/// A wire format a provider speaks natively or a client speaks to us.
public enum WireAPI: String, Sendable, CaseIterable, Hashable, Comparable {
    case openaiChat = "openai-chat"
    case openaiResponses = "openai-responses"
    case anthropicMessages = "anthropic-messages"
    case gemini = "gemini"
    case elevenlabs = "elevenlabs"

    public static func < (a: WireAPI, b: WireAPI) -> Bool { a.rawValue < b.rawValue }
}

/// What a route does when it matches.
public enum RouteTarget: String, Sendable, CaseIterable, Hashable {
    /// A model endpoint in the given client format.
    case openaiChat = "openai-chat"
    case openaiResponses = "openai-responses"
    case anthropicMessages = "anthropic-messages"
    /// `GET /v1/models` in OpenAI's list format.
    case models = "models"
    /// Unauthenticated liveness for load balancers.
    case health = "health"
    /// `GET /v1/usage`: the calling key's own usage today and its remaining limits.
    case usage = "usage"
    /// `GET /v1/models/{model}`: one model in OpenAI's format (the SDKs' `models.retrieve`). The
    /// only target with a path parameter, which is its path's last segment.
    case model = "model"

    /// The path parameter a `model` route ends with.
    public static let modelParameter = "{model}"

    /// The client wire format of a model endpoint, nil for the others.
    public var clientAPI: WireAPI? {
        switch self {
        case .openaiChat: return .openaiChat
        case .openaiResponses: return .openaiResponses
        case .anthropicMessages: return .anthropicMessages
        case .models, .health, .usage, .model: return nil
        }
    }

    /// Whether the route needs a key.
    public var requiresKey: Bool { self != .health }
}

public struct HeaderField: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(name: String, value: String) { self.name = name; self.value = value }
}

/// How the gateway authenticates to a provider. The secret itself is never in config: only the
/// name of the environment variable that holds it at start-up.
public enum ProviderAuth: Sendable, Hashable {
    case none
    /// `Authorization: Bearer $ENV`
    case bearer(env: String)
    /// `<header>: $ENV`
    case header(name: String, env: String)
    /// `?<param>=$ENV` on the URL (Gemini's `key=`).
    case query(param: String, env: String)

    public var envVar: String? {
        switch self {
        case .none: return nil
        case .bearer(let env), .header(_, let env), .query(_, let env): return env
        }
    }
}

public struct Provider: Sendable, Hashable {
    public var id: String
    public var apis: [WireAPI]
    /// Without a trailing slash, e.g. `https://api.openai.com/v1`.
    public var baseURL: String
    public var auth: ProviderAuth
    public var headers: [HeaderField]
    /// Connect timeout for a new upstream connection.
    public var connectTimeoutMs: Int
    /// Longest silence from the upstream (before the first byte, or between two bytes of a
    /// stream) before the request fails with 504.
    public var readTimeoutMs: Int

    public init(id: String, apis: [WireAPI], baseURL: String, auth: ProviderAuth, headers: [HeaderField] = [],
                connectTimeoutMs: Int = 10_000, readTimeoutMs: Int = 600_000) {
        self.id = id; self.apis = apis; self.baseURL = baseURL; self.auth = auth; self.headers = headers
        self.connectTimeoutMs = connectTimeoutMs; self.readTimeoutMs = readTimeoutMs
    }
}

/// Prices in credits per million tokens, stored as integer millionths of a credit so that
/// accounting is exact (2.50 → 2_500_000).
public struct Price: Sendable, Hashable {
    public var inputMicros: Int64
    public var cachedInputMicros: Int64
    public var outputMicros: Int64
    public init(inputMicros: Int64, cachedInputMicros: Int64, outputMicros: Int64) {
        self.inputMicros = inputMicros; self.cachedInputMicros = cachedInputMicros; self.outputMicros = outputMicros
    }
    public static let free = Price(inputMicros: 0, cachedInputMicros: 0, outputMicros: 0)
}

public struct Model: Sendable, Hashable {
    /// The public id clients send.
    public var id: String
    /// Index into `CompiledConfig.providers`.
    public var provider: Int
    /// The id sent upstream.
    public var upstreamID: String
    public var price: Price
    public var aliases: [String]
    /// Inactive models stay known (so callers get a clear 404) but are never served.
    public var active: Bool
    /// `created` in the models list (Unix seconds); 0 when not configured.
    public var created: Int64

    public init(id: String, provider: Int, upstreamID: String, price: Price = .free, aliases: [String] = [],
                active: Bool = true, created: Int64 = 0) {
        self.id = id; self.provider = provider; self.upstreamID = upstreamID; self.price = price
        self.aliases = aliases; self.active = active; self.created = created
    }
}

public struct Plan: Sendable, Hashable {
    public var id: String
    /// Model id patterns; `*` matches any run of characters.
    public var models: [String]
    public var requestsPerMinute: Int
    public var dailyTokens: Int
    /// Pass-through provider routes this plan may use (`/proxy/<gate>/…`).
    public var gates: [String]

    public init(id: String, models: [String], requestsPerMinute: Int, dailyTokens: Int, gates: [String] = []) {
        self.id = id; self.models = models; self.requestsPerMinute = requestsPerMinute
        self.dailyTokens = dailyTokens; self.gates = gates
    }
}

public struct Route: Sendable, Hashable {
    public var method: String
    public var path: String
    public var target: RouteTarget
    public init(method: String, path: String, target: RouteTarget) {
        self.method = method; self.path = path; self.target = target
    }
}

public struct ServerSettings: Sendable, Hashable {
    public var keyPrefix: String
    public var maxBodyBytes: Int
    /// Close a keep-alive connection after this long without a request.
    public var idleTimeoutMs: Int
    /// Answer 408 when a request has not finished arriving after this long.
    public var requestTimeoutMs: Int
    /// On SIGTERM, how long streams in flight may take to finish.
    public var shutdownGraceMs: Int

    public init(keyPrefix: String = "sk-sy-", maxBodyBytes: Int = 32 << 20, idleTimeoutMs: Int = 60_000,
                requestTimeoutMs: Int = 30_000, shutdownGraceMs: Int = 10_000) {
        self.keyPrefix = keyPrefix; self.maxBodyBytes = maxBodyBytes; self.idleTimeoutMs = idleTimeoutMs
        self.requestTimeoutMs = requestTimeoutMs; self.shutdownGraceMs = shutdownGraceMs
    }
}

public struct CompiledConfig: Sendable, Hashable {
    public var providers: [Provider]
    public var models: [Model]
    public var plans: [Plan]
    public var routes: [Route]
    public var server: ServerSettings
    /// Hex SHA-256 of the normalized config.
    public var digest: String

    public init(providers: [Provider], models: [Model], plans: [Plan], routes: [Route],
                server: ServerSettings, digest: String) {
        self.providers = providers; self.models = models; self.plans = plans; self.routes = routes
        self.server = server; self.digest = digest
    }
}
