// The input of a compilation: config files as (display path, text) pairs. Tests build these in
// memory; the CLI reads them from disk.

import Foundation

public struct ConfigSource: Sendable, Hashable {
    /// How the file is named in messages: relative, as given on the command line.
    public var path: String
    public var text: String

    public init(path: String, text: String) { self.path = path; self.text = text }

    public static let fileExtensions: Set<String> = ["yaml", "yml"]

    public static func isConfigFile(_ path: String) -> Bool {
        fileExtensions.contains((path as NSString).pathExtension.lowercased())
    }

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the given files, and every `*.yaml`/`*.yml` directly inside the given directories
    /// (not recursive: a config folder is flat). Display paths are relative to `displayRoot`
    /// when the file is inside it, otherwise as given.
    public static func load(paths: [String], displayRoot: String? = nil) throws(LoadError) -> [ConfigSource] {
        let fileManager = FileManager.default
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw LoadError(description: "\(path): no such file or directory")
            }
            if isDirectory.boolValue {
                let names: [String]
                do { names = try fileManager.contentsOfDirectory(atPath: path) } catch {
                    throw LoadError(description: "\(path): cannot list directory: \(error.localizedDescription)")
                }
                let base = path.hasSuffix("/") ? String(path.dropLast()) : path
                files += names.filter(isConfigFile).sorted().map { "\(base)/\($0)" }
            } else {
                files.append(path)
            }
        }
        var sources: [ConfigSource] = []
        var seen = Set<String>()
        for file in files {
            let display = displayPath(of: file, relativeTo: displayRoot)
            guard seen.insert(display).inserted else { continue }
            guard let data = fileManager.contents(atPath: file) else {
                throw LoadError(description: "\(display): cannot read file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw LoadError(description: "\(display): not valid UTF-8")
            }
            sources.append(ConfigSource(path: display, text: text))
        }
        return sources
    }

    /// `root/sub/file.yaml` → `sub/file.yaml`; anything outside `root` keeps its given path.
    static func displayPath(of file: String, relativeTo root: String?) -> String {
        guard let root else { return file }
        let standardFile = URL(fileURLWithPath: file).standardizedFileURL.path
        var standardRoot = URL(fileURLWithPath: root).standardizedFileURL.path
        if !standardRoot.hasSuffix("/") { standardRoot += "/" }
        guard standardFile.hasPrefix(standardRoot) else { return file }
        return String(standardFile.dropFirst(standardRoot.count))
    }
}
