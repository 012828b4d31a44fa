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
    /// The provider client: libcurl's `UpstreamClient` in the product.
    public let upstream: any UpstreamCalling
    public let accountant: Accountant
    let activity: ActivityTracker
    let providerCalls: ProviderCalls

    /// Whether requests go through the limit (Admit) and accounting (Account) stages. Always on
    /// in `switchyard`; only the `switchyard-unmetered` benchmark build turns it off, to measure
    /// what those stages cost.
    let metering: Metering

    public convenience init(config: CompiledConfig, keys: KeyStore, accountant: Accountant, secrets: ProviderSecrets,
                            upstream: UpstreamClient) {
        self.init(config: config, keys: keys, accountant: accountant, secrets: secrets, upstream: upstream, metering: .on)
    }

    @_spi(Benchmarks)
    public init(config: CompiledConfig, keys: KeyStore, accountant: Accountant, secrets: ProviderSecrets,
                upstream: any UpstreamCalling, metering: Metering) {
        self.metering = metering
        self.accountant = accountant
        self.catalog = ModelCatalog(config: config)
        self.keys = keys
        self.secrets = secrets
        self.providerCalls = ProviderCalls(providers: catalog.config.providers, secrets: secrets)
        self.upstream = upstream
        self.activity = ActivityTracker()
    }

    var settings: ServerSettings { catalog.config.server }
}

@_spi(Benchmarks)
public enum Metering: Sendable {
    /// Limits enforced, usage recorded: the product.
    case on
    /// Neither: for measuring what the two stages add. Never deploy a build that uses it.
    case off
}
