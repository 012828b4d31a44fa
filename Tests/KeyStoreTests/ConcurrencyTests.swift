import Dispatch
import Foundation
import SHA256
import Synchronization
import Testing
@testable import KeyStore

@Suite struct Concurrency {
    @Test func manyThreadsLookUpAtOnce() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        var made: [(record: KeyRecord, secret: String)] = []
        for i in 0..<10 { made.append(try store.create(plan: "free", name: "k\(i)", prefix: "sk-sy-")) }
        let keys = made

        let hits = Atomic<Int>(0)
        let misses = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 10_000) { i in
            let (record, secret) = keys[i % keys.count]
            if store.lookup(secret: secret) == record { hits.add(1, ordering: .relaxed) }
            if store.lookup(secret: "sk-sy-unknown-\(i)") != nil { misses.add(1, ordering: .relaxed) }
        }
        #expect(hits.load(ordering: .relaxed) == 10_000)
        #expect(misses.load(ordering: .relaxed) == 0)
        #expect(store.readers.idleCount <= ReaderPool.maxIdleReaders)
    }

    /// Writers (create, revoke) on some threads while others look up: nothing lost, no crash.
    @Test func lookupsDuringWrites() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        let (stable, stableSecret) = try store.create(plan: "free", name: "stable", prefix: "sk-sy-")
        let failures = Atomic<Int>(0)
        let created = Mutex<[(KeyRecord, String)]>([])
        DispatchQueue.concurrentPerform(iterations: 400) { i in
            if i % 20 == 0 {
                do {
                    let made = try store.create(plan: "pro", name: "w\(i)", prefix: "sk-sy-")
                    if i % 40 == 0 { try store.revoke(id: made.record.id) }
                    created.withLock { $0.append(made) }
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            } else if store.lookup(secret: stableSecret) != stable {
                failures.add(1, ordering: .relaxed)
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        let all = created.withLock { $0 }
        #expect(all.count == 20)
        for (record, secret) in all {
            #expect(store.lookup(secret: secret)?.revoked == (Int(record.name.dropFirst())! % 40 == 0))
        }
        #expect(try store.list().count == 21)
    }

    @Test func closeWaitsForLookupsInFlight() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        let (record, secret) = try store.create(plan: "free", name: "", prefix: "sk-sy-")
        let wrong = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 2_000) { i in
            if i == 1_000 { store.close(); return }
            // Before close: the record; after: nil. Never anything else, never a crash.
            if let found = store.lookup(secret: secret), found != record { wrong.add(1, ordering: .relaxed) }
        }
        #expect(wrong.load(ordering: .relaxed) == 0)
        #expect(store.lookup(secret: secret) == nil)
    }

    #if DEBUG
    let buildKind = "debug"
    #else
    let buildKind = "release"
    #endif

    /// Prints what a lookup costs; no assertion on time (shared, noisy machines).
    @Test func lookupCost() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        var secrets: [String] = []
        for i in 0..<100 { secrets.append(try store.create(plan: "free", name: "k\(i)", prefix: "sk-sy-").secret) }
        let hashes = secrets.map { SHA256.hash($0.utf8) }
        let encoded = RecordCoding.encode(try #require(store.lookup(secret: secrets[0])))
        #if DEBUG
        let n = 20_000
        #else
        let n = 200_000
        #endif
        let secretBytes = secrets.map { Array($0.utf8) }
        let clock = ContinuousClock()

        func measure(_ label: String, _ body: (Int) -> Bool) {
            for i in 0..<1_000 { _ = body(i) }  // warm up
            var ok = 0
            let elapsed = clock.measure { for i in 0..<n { if body(i) { ok += 1 } } }
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            print("KeyStore cost (\(buildKind)): \(label): \(Int(ns / Double(n))) ns/op (\(ok)/\(n) ok)")
        }

        measure("lookup(secret:) full") { store.lookup(secret: secrets[$0 % secrets.count]) != nil }
        measure("lookup(secretBytes:) full") { i in
            secretBytes[i % secretBytes.count].withUnsafeBytes { store.lookup(secretBytes: $0) } != nil
        }
        measure("lookup(secret:) unknown key") { store.lookup(secret: secrets[$0 % secrets.count] + "x") == nil }
        measure("  SHA-256 of the secret") { SHA256.hash(secrets[$0 % secrets.count].utf8).count == 32 }
        measure("  read txn + get + decode (hash given)") { i in
            let env = store.environment
            let found = try? store.readers.read(env, "bench") { txn throws(KeyStoreError) in
                try env.get(txn, env.databases[0], hashes[i % hashes.count], "bench").flatMap(RecordCoding.decode)
            }
            return found != nil
        }
        measure("  read txn (renew + reset) only") { _ in
            (try? store.readers.read(store.environment, "bench") { _ throws(KeyStoreError) in true }) == true
        }
        measure("  decode only") { _ in encoded.withUnsafeBytes { RecordCoding.decode($0) } != nil }
    }
}
