import Glibc

/// Who owns a reservation: a process id plus the process's start time, so that a pid reused by
/// an unrelated process after a crash is not mistaken for the owner.
///
/// The start time is field 22 of `/proc/<pid>/stat` (clock ticks since boot), Linux only; where it
/// cannot be read it is 0 and only the pid is compared. Processes sharing a data folder must share
/// a pid namespace (same host or same container) — a process in another namespace would be
/// judged dead and its reservations dropped.
struct ProcessIdentity: Hashable, Sendable {
    let pid: Int32
    let startTicks: UInt64

    static let current = ProcessIdentity(pid: getpid(), startTicks: startTicks(of: getpid()) ?? 0)

    /// False only when the process certainly no longer exists (ESRCH, or the pid now belongs to
    /// a process started at another time).
    var isAlive: Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard startTicks != 0, let now = Self.startTicks(of: pid) else { return true }
        return now == startTicks
    }

    static func startTicks(of pid: Int32) -> UInt64? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        // The command name (field 2) is in parentheses and may contain spaces or ')': fields are
        // counted from the last ')'. The field after it is 3 (state); starttime is 22.
        guard let close = buffer[0..<n].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = buffer[(close + 1)..<n].split(separator: UInt8(ascii: " "))
        guard fields.count > 19 else { return nil }
        var value: UInt64 = 0
        for byte in fields[19] {
            guard byte >= 48, byte <= 57 else { return nil }
            value = value &* 10 &+ UInt64(byte - 48)
        }
        return value
    }
}
