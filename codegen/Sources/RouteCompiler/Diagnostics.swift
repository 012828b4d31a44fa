// Problems found in a config. Every stage appends to one log instead of stopping at the first
// problem, so a single run reports everything that is wrong.

public struct Diagnostic: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Comparable {
        case error
        case warning

        public static func < (a: Severity, b: Severity) -> Bool { a == .error && b == .warning }
    }

    public var severity: Severity
    /// Nil only for problems that belong to no file (e.g. no config files at all).
    public var location: SourceLocation?
    public var message: String

    public init(_ severity: Severity, at location: SourceLocation?, _ message: String) {
        self.severity = severity; self.location = location; self.message = message
    }

    /// Compiler-style, so IDEs and build logs pick it up: `path:line:col: error: message`.
    public var description: String {
        if let location { return "\(location): \(severity.rawValue): \(message)" }
        return "\(severity.rawValue): \(message)"
    }

    /// By file, line and column; location-less problems first.
    public static func < (a: Diagnostic, b: Diagnostic) -> Bool {
        switch (a.location, b.location) {
        case (nil, .some): return true
        case (.some, nil): return false
        case let (la?, lb?) where la != lb: return la < lb
        default: return (a.severity, a.message) < (b.severity, b.message)
        }
    }
}

/// The running log of one compilation.
public struct Diagnostics: Sendable {
    public private(set) var all: [Diagnostic] = []

    public init() {}

    public mutating func error(_ location: SourceLocation?, _ message: String) {
        all.append(Diagnostic(.error, at: location, message))
    }

    public mutating func warning(_ location: SourceLocation?, _ message: String) {
        all.append(Diagnostic(.warning, at: location, message))
    }

    public var hasErrors: Bool { all.contains { $0.severity == .error } }
    public var errorCount: Int { all.count { $0.severity == .error } }
    public var warningCount: Int { all.count { $0.severity == .warning } }

    /// Sorted and without exact repeats (an alias-shared YAML node can be reached twice).
    public var sorted: [Diagnostic] {
        var seen = Set<Diagnostic>()
        return all.sorted().filter { seen.insert($0).inserted }
    }
}
