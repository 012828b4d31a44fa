/// What the key store knows about one API key. The secret itself is never part of a record:
/// only its SHA-256 is stored, as the record's LMDB key (see `RecordCoding` for the layout).
public struct KeyRecord: Sendable, Equatable, Codable {
    /// Short, stable, printable handle for a key ("key_" + 12 hex chars, random), safe to log and
    /// to pass on the command line (`switchyard keys revoke key_…`).
    public var id: String
    /// Free-form label given at creation; "" if none.
    public var name: String
    /// Name of the plan (limits) this key belongs to; checked against the config by the caller.
    public var plan: String
    /// Creation time, Unix seconds.
    public var createdAt: Int64
    /// Revoked keys stay in the store so the gateway can answer "key revoked" instead of
    /// "invalid key", and so `list` still shows them.
    public var revoked: Bool
    /// Per-key override of the plan's requests per minute; nil = use the plan's value.
    public var rpmOverride: Int?
    /// Per-key override of the plan's daily token budget; nil = use the plan's value.
    public var dailyTokensOverride: Int?

    public init(id: String, name: String, plan: String, createdAt: Int64, revoked: Bool = false,
                rpmOverride: Int? = nil, dailyTokensOverride: Int? = nil) {
        self.id = id
        self.name = name
        self.plan = plan
        self.createdAt = createdAt
        self.revoked = revoked
        self.rpmOverride = rpmOverride
        self.dailyTokensOverride = dailyTokensOverride
    }
}
