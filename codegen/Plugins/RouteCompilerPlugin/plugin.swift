// Build-tool plugin: compiles the YAML files of the target it is applied to (SwitchyardRoutes,
// whose `path` is the config folder) into `RouteTables.generated.swift`.
//
// Deliberately thin: all parsing and validation is in switchyard-routegen (and the RouteCompiler
// library it uses), which a plugin could not import anyway. The files come from the target's own
// source list, not from listing the folder, so SwiftPM notices added and removed files; the
// generator binary is an input too, so rebuilding it regenerates the tables.

import Foundation
import PackagePlugin

@main
struct RouteCompilerPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        guard let module = target.sourceModule else { return [] }
        // Only files directly in the config folder, as `switchyard-routegen check` reads it: a
        // subfolder (an archive of old plans) must not be compiled in unchecked.
        let folder = module.directoryURL.standardizedFileURL.path
        let configFiles = module.sourceFiles
            .map(\.url)
            .filter { ["yaml", "yml"].contains($0.pathExtension.lowercased()) }
            .filter { $0.deletingLastPathComponent().standardizedFileURL.path == folder }
            .sorted { $0.path < $1.path }
        let generator = try context.tool(named: "switchyard-routegen")
        let output = context.pluginWorkDirectoryURL.appending(path: "RouteTables.generated.swift")
        // Messages name files relative to the package (`routes/models.yaml:12:5`).
        let arguments = ["generate", "--output", output.path, "--display-root", context.package.directoryURL.path]
            + configFiles.map(\.path)
        return [
            .buildCommand(displayName: "Compiling route configuration of \(target.name) (\(configFiles.count) files)",
                          executable: generator.url,
                          arguments: arguments,
                          inputFiles: configFiles + [generator.url],
                          outputFiles: [output]),
        ]
    }
}
