// The compiled form of the YAML files in this folder. The route compiler plugin generates
// `generatedRouteStrings` and `generatedRouteInts` from them at build time.
import RouteConfig

public enum EmbeddedRoutes {
    /// The configuration this binary was built with.
    public static func load() throws(RouteTables.DecodingError) -> CompiledConfig {
        try RouteTables(strings: generatedRouteStrings, packedInts: generatedRouteInts).decode()
    }
}
