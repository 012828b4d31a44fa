// The pipeline: parse → validate → render. The CLI and the tests call this; each stage is its own
// type (ConfigParser, ConfigValidator, SwiftTableRenderer) and can also be used alone.

import RouteConfig

public struct Compilation: Sendable {
    /// The validated config; nil when there was any error.
    public var config: CompiledConfig?
    /// Every problem found, sorted by file, line and column.
    public var diagnostics: [Diagnostic]

    public var succeeded: Bool { config != nil }
    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }

    /// `12 models, 3 providers, 2 plans, 4 routes — ok`
    public var summary: String {
        guard let config else {
            let count = errors.count
            return "\(count) error\(count == 1 ? "" : "s")"
        }
        let warningNote = warnings.isEmpty ? "" : " (\(warnings.count) warning\(warnings.count == 1 ? "" : "s"))"
        return "\(config.models.count) models, \(config.providers.count) providers, \(config.plans.count) plans, \(config.routes.count) routes — ok\(warningNote)"
    }
}

public enum RouteCompiler {
    /// Parses and validates; never stops at the first problem.
    public static func compile(_ sources: [ConfigSource]) -> Compilation {
        var diagnostics = Diagnostics()
        let parsed = ConfigParser.parse(sources, diagnostics: &diagnostics)
        let config = ConfigValidator.validate(parsed, diagnostics: &diagnostics)
        return Compilation(config: diagnostics.hasErrors ? nil : config, diagnostics: diagnostics.sorted)
    }

    /// The generated Swift source for a validated config.
    public static func render(_ config: CompiledConfig) -> String {
        SwiftTableRenderer.render(config)
    }
}
