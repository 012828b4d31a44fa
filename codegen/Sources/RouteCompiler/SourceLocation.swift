// Where a value came from, so every problem can be reported as `path:line:col`.

/// A position in a config file. `file` is the display path (relative, as given on the command line),
/// never an absolute path baked in by the compiler itself.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    /// 1-based.
    public var line: Int
    /// 1-based, counted in Unicode scalars (libyaml's convention).
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file; self.line = line; self.column = column
    }

    /// The start of a file: where whole-file problems point.
    public static func start(of file: String) -> SourceLocation { SourceLocation(file: file, line: 1, column: 1) }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }

    public var description: String { "\(file):\(line):\(column)" }

    /// How a message at `other` refers to this place: "line 6" within the same file, the full
    /// `file:line:col` otherwise.
    func reference(from other: SourceLocation) -> String {
        other.file == file ? "line \(line)" : description
    }
}

/// A value together with the place it was written.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var location: SourceLocation
    public init(_ value: Value, at location: SourceLocation) { self.value = value; self.location = location }
}

extension Located: Equatable where Value: Equatable {}
extension Located: Hashable where Value: Hashable {}
