import Accounting
import KeyStore
import RouteConfig
import UpstreamClient

/// Everything a connection handler needs, shared by all connections (read-only after start,
/// or internally synchronized).
public final class GatewayServices: Sendable {
    public let catalog: ModelCatalog
    public let keys: KeyStore
    public let secrets: ProviderSecrets
    public let upstream: UpstreamClient
    public let accountant: Accountant
    let activity: ActivityTracker

    public init(config: CompiledConfig, keys: KeyStore, accountant: Accountant, secrets: ProviderSecrets, upstream: UpstreamClient) {
        self.accountant = accountant
        self.catalog = ModelCatalog(config: config)
        self.keys = keys
        self.secrets = secrets
        self.upstream = upstream
        self.activity = ActivityTracker()
    }

    var settings: ServerSettings { catalog.config.server }
}
