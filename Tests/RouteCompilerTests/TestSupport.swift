// Shared helpers: fixture locations, in-memory configs, running processes.

import Foundation
import RouteCompiler
import RouteConfig

enum Paths {
    /// `Tests/RouteCompilerTests`, found from this file so tests run from any working directory.
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = testsFolder.appending(path: "Fixtures")
    static let packageRoot = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
    static let defaultRoutes = packageRoot.appending(path: "routes")

    static func fixture(_ name: String) -> URL { fixtures.appending(path: name) }
}

/// Loads a config folder with file names relative to it (`models.yaml`), as the plugin would show
/// them relative to the package.
func loadFolder(_ folder: URL) throws -> [ConfigSource] {
    try ConfigSource.load(paths: [folder.path], displayRoot: folder.path)
}

/// A small valid config, one file per section; tests replace one file to introduce a problem.
enum MinimalConfig {
    static let providers = """
        providers:
          openai:
            api: [openai-chat]
            base_url: https://api.openai.com/v1
            auth: { bearer_env: OPENAI_API_KEY }
        """
    static let models = """
        models:
          gpt-4o: { provider: openai }
          gpt-4o-mini: { provider: openai, aliases: [mini] }
        """
    static let plans = """
        plans:
          free: { models: ["gpt-*"], requests_per_minute: 10, daily_tokens: 1000 }
        """
    static let routes = """
        routes:
          - { method: POST, path: /v1/chat/completions, serve: openai-chat }
          - { method: GET, path: /v1/models, serve: models }
        """

    static var files: [String: String] {
        ["providers.yaml": providers, "models.yaml": models, "plans.yaml": plans, "routes.yaml": routes]
    }

    /// The minimal config with some files replaced (or removed, with a nil text).
    static func with(_ replacements: [String: String?]) -> [ConfigSource] {
        var all = files
        for (name, text) in replacements { all[name] = text }
        return all.map { ConfigSource(path: $0.key, text: $0.value) }
    }
}

enum Toolchain {
    /// The Swift compiler of the running toolchain: `$SWIFTC`, else `swiftc` on PATH, else the usual
    /// install locations.
    static func swiftc() -> URL? {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit = environment["SWIFTC"] { candidates.append(explicit) }
        for folder in (environment["PATH"] ?? "").split(separator: ":") { candidates.append("\(folder)/swiftc") }
        candidates += ["/opt/swift/usr/bin/swiftc", "/usr/bin/swiftc"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }.map { URL(fileURLWithPath: $0) }
    }
}

struct ProcessResult {
    var status: Int32
    var output: String
    var seconds: Double
}

/// Runs a program to completion, stdout and stderr together.
func run(_ executable: URL, _ arguments: [String], in folder: URL? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = folder }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let start = ContinuousClock.now
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self), seconds: seconds)
}

func makeTemporaryFolder(_ name: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appending(path: "routecompiler-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// Reads the two literals back out of generated Swift source, undoing the renderer's escapes, so
/// the tables can be decoded without invoking the compiler.
enum GeneratedSourceReader {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func tables(from source: String) throws -> RouteTables {
        guard let stringsStart = source.range(of: "let generatedRouteStrings: StaticString = \"\"\"\n"),
              let stringsEnd = source.range(of: "\n\"\"\"", range: stringsStart.upperBound..<source.endIndex) else {
            throw Failure(description: "no string literal")
        }
        let literal = source[stringsStart.upperBound..<stringsEnd.lowerBound]
        var bytes: [UInt8] = []
        var scalars = Array(literal.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            guard scalar == "\\" else { bytes += Array(String(scalar).utf8); continue }
            switch scalars.popFirst() {
            case "\\": bytes.append(UInt8(ascii: "\\"))
            case "\"": bytes.append(UInt8(ascii: "\""))
            case "\n": break  // line continuation
            case "u":
                guard scalars.popFirst() == "{", let close = scalars.firstIndex(of: "}"),
                      let value = UInt32(String(String.UnicodeScalarView(scalars[..<close])), radix: 16),
                      let decoded = Unicode.Scalar(value) else { throw Failure(description: "bad \\u escape") }
                bytes += Array(String(decoded).utf8)
                scalars = scalars[scalars.index(after: close)...]
            default: throw Failure(description: "unexpected escape")
            }
        }
        guard let intsStart = source.range(of: "let generatedRouteInts: StaticString = \"\"\"\n"),
              let intsEnd = source.range(of: "\n\"\"\"", range: intsStart.upperBound..<source.endIndex) else {
            throw Failure(description: "no packed integers")
        }
        let ints = try source[intsStart.upperBound..<intsEnd.lowerBound]
            .split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == " " || $0 == "\\" })
            .map { token -> Int64 in
                guard let value = Int64(token) else { throw Failure(description: "bad integer '\(token)'") }
                return value
            }
        return RouteTables(strings: bytes, ints: ints)
    }
}
