import Foundation
import SHA256
import Testing
@testable import KeyStore

/// What is on disk, checked from outside: the raw file bytes, and LMDB's own command-line tools
/// (lmdb-utils) running as separate processes while the store is open, the way the CLI and the
/// server share the folder.
@Suite struct OnDisk {
    static let toolsInstalled = ["/usr/bin/mdb_stat", "/usr/bin/mdb_dump", "/usr/bin/mdb_load"]
        .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }

    @Test func secretsNeverReachTheFiles() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        var made: [(KeyRecord, String)] = []
        for i in 0..<20 { made.append(try store.create(plan: "free", name: "key \(i)", prefix: "sk-sy-")) }
        try store.revoke(id: made[3].0.id)
        store.close()

        let data = try Data(contentsOf: URL(fileURLWithPath: folder.environmentPath + "/data.mdb"))
        let lock = try Data(contentsOf: URL(fileURLWithPath: folder.environmentPath + "/lock.mdb"))
        for (record, secret) in made {
            let body = String(secret.dropFirst("sk-sy-".count))
            for file in [data, lock] {
                #expect(file.range(of: Data(secret.utf8)) == nil)
                #expect(file.range(of: Data(body.utf8)) == nil)
                // Nor the first half of it, in case of a split across pages.
                #expect(file.range(of: Data(body.prefix(20).utf8)) == nil)
            }
            // The search would find things: the hash and the id are there.
            #expect(data.range(of: Data(SHA256.hash(secret.utf8))) != nil)
            #expect(data.range(of: Data(record.id.utf8)) != nil)
        }
    }

    @Test(.enabled(if: toolsInstalled)) func lmdbToolsSeeTheLayoutWhileOpen() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        var ids: [String] = []
        var hashes: [String] = []
        for _ in 0..<3 {
            let (record, secret) = try store.create(plan: "pro", name: "", prefix: "sk-sy-")
            ids.append(record.id)
            hashes.append(SHA256.hexString(SHA256.hash(secret.utf8)))
        }

        let stat = try run("/usr/bin/mdb_stat", ["-s", "key_by_hash", folder.environmentPath])
        #expect(stat.contains("Entries: 3"), "\(stat)")
        let statIDs = try run("/usr/bin/mdb_stat", ["-s", "hash_by_id", folder.environmentPath])
        #expect(statIDs.contains("Entries: 3"), "\(statIDs)")

        // hash_by_id: printable id → 32-byte hash; key_by_hash: 32-byte keys.
        let byID = try run("/usr/bin/mdb_dump", ["-s", "hash_by_id", folder.environmentPath])
        let byHash = try run("/usr/bin/mdb_dump", ["-s", "key_by_hash", folder.environmentPath])
        for (id, hash) in zip(ids, hashes) {
            #expect(byID.contains(" " + Data(id.utf8).hex + "\n " + hash + "\n"), "\(byID)")
            #expect(byHash.contains(" " + hash + "\n"))
        }
        let all = try run("/usr/bin/mdb_stat", ["-a", folder.environmentPath])
        #expect(all.contains("Status of key_by_hash") && all.contains("Status of hash_by_id"))
        store.close()
    }

    /// The multi-process property the server relies on: another process (here `mdb_load`, standing
    /// in for `switchyard keys create/revoke` until the CLI exists) commits while this store is
    /// open and has pooled read transactions, and the very next lookup sees the change.
    /// TODO(integration): repeat with the real CLI against a running server.
    @Test(.enabled(if: toolsInstalled)) func writesByAnotherProcessAreSeenAtOnce() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        let (record, secret) = try store.create(plan: "pro", name: "server side", prefix: "sk-sy-")
        for _ in 0..<3 { #expect(store.lookup(secret: secret) == record) }  // pools a read txn

        // Revoke from outside: rewrite the record with the revoked flag.
        var revoked = record
        revoked.revoked = true
        let hash = SHA256.hash(secret.utf8)
        try load("key_by_hash", key: hash, value: RecordCoding.encode(revoked), into: folder.environmentPath)
        #expect(store.lookup(secret: secret)?.revoked == true)

        // Create from outside: both sub-databases, as two separate commits.
        let outsideSecret = "sk-sy-made-by-another-process"
        let outsideHash = SHA256.hash(outsideSecret.utf8)
        let outside = KeyRecord(id: "key_0000000000aa", name: "cli", plan: "free", createdAt: 1_700_000_000)
        #expect(store.lookup(secret: outsideSecret) == nil)
        try load("key_by_hash", key: outsideHash, value: RecordCoding.encode(outside), into: folder.environmentPath)
        try load("hash_by_id", key: Array(outside.id.utf8), value: outsideHash, into: folder.environmentPath)
        #expect(store.lookup(secret: outsideSecret) == outside)
        #expect(try store.list().map(\.id).contains(outside.id))
        try store.revoke(id: outside.id)
        #expect(store.lookup(secret: outsideSecret)?.revoked == true)
        store.close()
    }

    // MARK: Helpers

    private func load(_ database: String, key: [UInt8], value: [UInt8], into path: String) throws {
        let input = "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n"
            + " \(Data(key).hex)\n \(Data(value).hex)\nDATA=END\n"
        _ = try run("/usr/bin/mdb_load", ["-s", database, path], stdin: input)
    }

    @discardableResult
    private func run(_ tool: String, _ arguments: [String], stdin: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(tool) \(arguments): \(text)")
        return text
    }
}

extension Data {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
