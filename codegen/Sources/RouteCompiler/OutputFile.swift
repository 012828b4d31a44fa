// Writes generated source only when it changed, so an unchanged config does not touch the file's
// modification time and the build system does not recompile SwitchyardRoutes.

import Foundation

public enum OutputFile {
    /// Returns whether the file was written.
    @discardableResult
    public static func write(_ contents: String, to path: String) throws -> Bool {
        let data = Data(contents.utf8)
        if let existing = FileManager.default.contents(atPath: path), existing == data { return false }
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
        return true
    }
}
