// The parsed YAML as plain Sendable values that remember their source position. Converting out of
// Yams' node type right after parsing keeps Yams (whose nodes hold class references) confined to
// the parse stage.

/// What a plain scalar resolved to under YAML 1.1's rules (`yes` is a bool, `2.50` a float,
/// `"20"` a string).
public enum ScalarKind: String, Sendable, Hashable {
    case string, int, float, bool, null, timestamp, other
}

public struct ConfigScalar: Sendable, Hashable {
    /// The scalar's text as written (without quotes).
    public var text: String
    public var kind: ScalarKind
    /// Set when `kind == .int` and the value fits.
    public var intValue: Int?
    /// Set when `kind == .bool`.
    public var boolValue: Bool?

    public init(text: String, kind: ScalarKind, intValue: Int? = nil, boolValue: Bool? = nil) {
        self.text = text; self.kind = kind; self.intValue = intValue; self.boolValue = boolValue
    }
}

public struct ConfigEntry: Sendable {
    public var key: String
    public var keyLocation: SourceLocation
    public var value: ConfigNode

    public init(key: String, keyLocation: SourceLocation, value: ConfigNode) {
        self.key = key; self.keyLocation = keyLocation; self.value = value
    }
}

public struct ConfigNode: Sendable {
    public enum Content: Sendable {
        case scalar(ConfigScalar)
        /// Entries in file order.
        case mapping([ConfigEntry])
        case sequence([ConfigNode])
    }

    public var content: Content
    public var location: SourceLocation

    public init(_ content: Content, at location: SourceLocation) { self.content = content; self.location = location }

    public var scalar: ConfigScalar? {
        if case .scalar(let s) = content { return s }
        return nil
    }
    public var isNull: Bool { scalar?.kind == .null }

    /// How this node reads in an error message ("a mapping", "the string 'x'").
    var kindDescription: String {
        switch content {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s):
            switch s.kind {
            case .null: return "nothing"
            case .string: return "the string '\(s.text)'"
            case .int: return "the integer \(s.text)"
            case .float: return "the number \(s.text)"
            case .bool: return "the boolean \(s.text)"
            case .timestamp: return "the date '\(s.text)'"
            case .other: return "'\(s.text)'"
            }
        }
    }
}
