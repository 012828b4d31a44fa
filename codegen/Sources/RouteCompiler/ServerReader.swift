// Reads the `server` section; every key is optional and defaults to `ServerSettings()`.

import RouteConfig

enum ServerReader {
    static let keys = ["key_prefix", "max_body_bytes", "idle_timeout_ms", "request_timeout_ms", "shutdown_grace_ms"]

    static func read(_ section: ParsedConfig.Section?, diagnostics: inout Diagnostics) -> ServerSettings {
        var settings = ServerSettings()
        guard let section, !section.value.isNull else { return settings }
        guard let reader = MappingReader(section.value, subject: "server", owner: section.keyLocation, keys: keys,
                                         diagnostics: &diagnostics) else { return settings }
        if let prefix = reader.string("key_prefix", diagnostics: &diagnostics) {
            let safe = prefix.value.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
            }
            if !safe || prefix.value.count > 32 {
                diagnostics.error(prefix.location, "key_prefix must be at most 32 letters, digits, '-' or '_'")
            } else {
                settings.keyPrefix = prefix.value
            }
        }
        if let v = reader.int("max_body_bytes", minimum: 1024, diagnostics: &diagnostics) { settings.maxBodyBytes = v.value }
        if let v = reader.int("idle_timeout_ms", minimum: 1, diagnostics: &diagnostics) { settings.idleTimeoutMs = v.value }
        if let v = reader.int("request_timeout_ms", minimum: 1, diagnostics: &diagnostics) { settings.requestTimeoutMs = v.value }
        if let v = reader.int("shutdown_grace_ms", minimum: 0, diagnostics: &diagnostics) { settings.shutdownGraceMs = v.value }
        return settings
    }
}
