// switchyard-routegen: compiles the route configuration (YAML) into Swift tables.
//
//   switchyard-routegen generate --output FILE [--display-root DIR] FILES-OR-DIRS...
//   switchyard-routegen check DIRS...
//
// `generate` is what the build plugin runs: all given files form one config. `check` validates each
// given folder as its own config. Problems go to stderr as `path:line:col: error: message`; the exit
// status is 1 when there is an error, 2 on a usage error.

import Foundation
import RouteCompiler

let usage = """
    usage: switchyard-routegen generate --output FILE [--display-root DIR] FILES-OR-DIRS...
           switchyard-routegen check DIRS...

      generate   validate the config made of all given YAML files (and the *.yaml/*.yml files
                 in given folders) and write the Swift tables to FILE (only if they changed).
                 --display-root DIR names files relative to DIR in messages.
      check      validate each given config folder and print a one-line summary.
    """

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

func fail(usage message: String) -> Never {
    printError("switchyard-routegen: \(message)\n\(usage)")
    exit(2)
}

func report(_ compilation: Compilation) {
    for diagnostic in compilation.diagnostics { printError(diagnostic.description) }
}

func load(_ paths: [String], displayRoot: String?) -> [ConfigSource] {
    do {
        return try ConfigSource.load(paths: paths, displayRoot: displayRoot)
    } catch {
        printError("error: \(error.description)")
        exit(1)
    }
}

func generate(_ arguments: ArraySlice<String>) -> Int32 {
    var output: String?
    var displayRoot: String?
    var inputs: [String] = []
    var rest = arguments
    while let argument = rest.popFirst() {
        switch argument {
        case "--output", "-o":
            guard let value = rest.popFirst() else { fail(usage: "--output needs a file") }
            output = value
        case "--display-root":
            guard let value = rest.popFirst() else { fail(usage: "--display-root needs a folder") }
            displayRoot = value
        case "--":
            inputs += rest
            rest = []
        case let option where option.hasPrefix("-"):
            fail(usage: "unknown option '\(option)'")
        default:
            inputs.append(argument)
        }
    }
    guard let output else { fail(usage: "generate needs --output FILE") }
    guard !inputs.isEmpty else { fail(usage: "generate needs config files or folders") }

    let compilation = RouteCompiler.compile(load(inputs, displayRoot: displayRoot))
    report(compilation)
    guard let config = compilation.config else {
        printError("error: route configuration has \(compilation.summary); tables not generated")
        return 1
    }
    do {
        try OutputFile.write(RouteCompiler.render(config), to: output)
    } catch {
        printError("error: cannot write \(output): \(error.localizedDescription)")
        return 1
    }
    return 0
}

func check(_ folders: ArraySlice<String>) -> Int32 {
    guard !folders.isEmpty else { fail(usage: "check needs config folders") }
    var status: Int32 = 0
    for folder in folders {
        if folder.hasPrefix("-") { fail(usage: "unknown option '\(folder)'") }
        let compilation = RouteCompiler.compile(load([folder], displayRoot: nil))
        report(compilation)
        let name = folder.hasSuffix("/") && folder.count > 1 ? String(folder.dropLast()) : folder
        if compilation.succeeded {
            print("\(name): \(compilation.summary)")
        } else {
            printError("\(name): \(compilation.summary)")
            status = 1
        }
    }
    return status
}

var arguments = CommandLine.arguments.dropFirst()
switch arguments.popFirst() {
case "generate": exit(generate(arguments))
case "check": exit(check(arguments))
case "-h", "--help", "help": print(usage); exit(0)
case let other?: fail(usage: "unknown command '\(other)'")
case nil: fail(usage: "missing command")
}
