import Foundation
import NIOCore
import NIOPosix

// switchyard-mock: a fake OpenAI Chat Completions provider on loopback, for tests, benchmarks and
// `make run`. See Tests/mock/README.md for the endpoints, options and faults.

let usage = """
    usage: switchyard-mock [--listen HOST:PORT] [--words N] [--chunk-delay-ms MS]
                           [--first-byte-delay-ms MS] [--threads N]

      --listen HOST:PORT       address to bind (default 127.0.0.1:9100; port 0 picks a free port)
      --words N                default reply length in words (default 20)
      --chunk-delay-ms MS      default delay between streamed chunks (default 0)
      --first-byte-delay-ms MS default delay before the response head (default 0)
      --threads N              event loop threads (default: number of cores)

    Prints "switchyard-mock listening on HOST:PORT" once bound. Stops on SIGTERM/SIGINT.

    """

struct CommandLineOptions {
    var host = "127.0.0.1"
    var port = 9100
    var threads = System.coreCount
    var defaults = MockDefaults()
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("switchyard-mock: \(message)\n\n\(usage)".utf8))
    exit(2)
}

func parseArguments(_ args: [String]) -> CommandLineOptions {
    var options = CommandLineOptions()
    var i = 0
    // Accepts both `--flag value` and `--flag=value`.
    func value(_ flag: String, _ inline: String?) -> String {
        if let inline { return inline }
        i += 1
        guard i < args.count else { fail("\(flag) needs a value") }
        return args[i]
    }
    func number(_ flag: String, _ text: String, min: Int = 0) -> Int {
        guard let n = Int(text), n >= min else { fail("\(flag): expected a number >= \(min), got '\(text)'") }
        return n
    }
    while i < args.count {
        let parts = args[i].split(separator: "=", maxSplits: 1).map(String.init)
        let flag = parts[0]
        let inline = parts.count > 1 ? parts[1] : nil
        switch flag {
        case "--listen":
            let text = value(flag, inline)
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                  (0...65535).contains(port) else { fail("--listen: expected HOST:PORT, got '\(text)'") }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            options.host = host.isEmpty ? "127.0.0.1" : host
            options.port = port
        case "--words":
            options.defaults.words = number(flag, value(flag, inline))
        case "--chunk-delay-ms":
            options.defaults.chunkDelayMs = number(flag, value(flag, inline))
        case "--first-byte-delay-ms":
            options.defaults.firstByteDelayMs = number(flag, value(flag, inline))
        case "--threads":
            options.threads = number(flag, value(flag, inline), min: 1)
        case "-h", "--help":
            print(usage, terminator: "")
            exit(0)
        default:
            fail("unknown argument '\(args[i])'")
        }
        i += 1
    }
    return options
}

func run(_ options: CommandLineOptions) -> Never {
    // A client that vanishes mid-write must not kill the process.
    signal(SIGPIPE, SIG_IGN)
    // Block SIGTERM/SIGINT before any thread exists, so every thread inherits the mask and the
    // signals wait for the sigwait() below instead of killing the process or being lost.
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    sigaddset(&stopSignals, SIGTERM)
    sigaddset(&stopSignals, SIGINT)
    pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

    let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
    let server = MockServer(host: options.host, port: options.port, defaults: options.defaults)
    let channel: any Channel
    do {
        channel = try server.start(group: group)
    } catch {
        FileHandle.standardError.write(Data("switchyard-mock: cannot listen on \(options.host):\(options.port): \(error)\n".utf8))
        try? group.syncShutdownGracefully()
        exit(1)
    }

    // Stop on SIGTERM/SIGINT by closing the listener; the main thread then shuts the loops down.
    Thread.detachNewThread {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        var received: Int32 = 0
        sigwait(&signals, &received)
        let name = received == SIGTERM ? "SIGTERM" : "SIGINT"
        FileHandle.standardError.write(Data("switchyard-mock: \(name), stopping\n".utf8))
        channel.close(promise: nil)
    }

    let port = channel.localAddress?.port ?? options.port
    let shownHost = options.host.contains(":") ? "[\(options.host)]" : options.host
    // Written unbuffered, so a script waiting on a pipe sees it at once.
    FileHandle.standardOutput.write(Data("switchyard-mock listening on \(shownHost):\(port)\n".utf8))

    try? channel.closeFuture.wait()
    try? group.syncShutdownGracefully()
    exit(0)
}

run(parseArguments(Array(CommandLine.arguments.dropFirst())))
