import Foundation
import Testing
@testable import KeyStore

@Suite struct KeyStoreBasics {
    @Test func createThenLookup() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        let before = Int64(Date().timeIntervalSince1970)
        let (record, secret) = try store.create(plan: "pro", name: "ci runner", prefix: "sk-sy-")

        #expect(record.plan == "pro")
        #expect(record.name == "ci runner")
        #expect(!record.revoked)
        #expect(record.rpmOverride == nil && record.dailyTokensOverride == nil)
        #expect(record.createdAt >= before && record.createdAt <= before + 5)
        #expect(store.lookup(secret: secret) == record)
        #expect(store.lookup(secret: Substring(secret)) == record)
        let viaBytes = Array(secret.utf8).withUnsafeBytes { store.lookup(secretBytes: $0) }
        #expect(viaBytes == record)
    }

    @Test func wrongSecretsAreRefused() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        let (_, secret) = try store.create(plan: "free", name: "", prefix: "sk-sy-")

        var altered = Array(secret.utf8)
        altered[altered.count - 1] = altered.last == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        #expect(store.lookup(secret: String(decoding: altered, as: UTF8.self)) == nil)
        #expect(store.lookup(secret: String(secret.dropLast())) == nil)
        #expect(store.lookup(secret: secret + "x") == nil)
        #expect(store.lookup(secret: "") == nil)
        #expect(store.lookup(secret: "sk-sy-") == nil)
        #expect(store.lookup(secret: String(repeating: "a", count: 100_000)) == nil)
        #expect(try store.find(secret: "nope") == nil)
    }

    @Test func idFormat() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        let (a, _) = try store.create(plan: "free", name: "", prefix: "sk-sy-")
        let (b, _) = try store.create(plan: "free", name: "", prefix: "sk-sy-")
        for id in [a.id, b.id] {
            #expect(id.hasPrefix("key_"))
            #expect(id.count == 16)
            #expect(id.dropFirst(4).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        }
        #expect(a.id != b.id)
    }

    @Test func listIsSortedAndHasNoSecrets() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        #expect(try store.list().isEmpty)
        var created: [KeyRecord] = []
        var secrets: [String] = []
        for i in 0..<12 {
            let (record, secret) = try store.create(plan: i % 2 == 0 ? "free" : "pro", name: "k\(i)", prefix: "sk-sy-")
            created.append(record)
            secrets.append(secret)
        }
        let listed = try store.list()
        #expect(listed.count == 12)
        #expect(Set(listed.map(\.id)) == Set(created.map(\.id)))
        // Same second → ordered by id.
        for (earlier, later) in zip(listed, listed.dropFirst()) {
            #expect((earlier.createdAt, earlier.id) < (later.createdAt, later.id))
        }
        // KeyRecord has no secret field; make sure none leaked into a string field either.
        let text = listed.map { "\($0)" }.joined()
        for secret in secrets { #expect(!text.contains(secret)) }
    }

    @Test func revokeKeepsTheRecordMarked() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        let (record, secret) = try store.create(plan: "pro", name: "to revoke", prefix: "sk-sy-")
        let (other, otherSecret) = try store.create(plan: "pro", name: "stays", prefix: "sk-sy-")

        try store.revoke(id: record.id)
        let found = try #require(store.lookup(secret: secret))
        #expect(found.revoked)
        #expect(found.id == record.id && found.plan == record.plan && found.name == record.name)
        #expect(store.lookup(secret: otherSecret) == other)
        #expect(try store.list().first { $0.id == record.id }?.revoked == true)

        try store.revoke(id: record.id)  // idempotent
        #expect(store.lookup(secret: secret)?.revoked == true)
    }

    /// A key found once is remembered until the store changes: revoking it (or any other write)
    /// makes the next lookup read the store again.
    @Test func rememberedKeysFollowRevocation() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        let (record, secret) = try store.create(plan: "pro", name: "kept", prefix: "sk-sy-")
        #expect(store.recent.count == 0)

        #expect(store.lookup(secret: secret) == record)
        #expect(store.recent.count == 1)
        #expect(store.lookup(secret: secret) == record)  // from memory
        #expect(store.recent.count == 1)

        try store.revoke(id: record.id)
        #expect(store.lookup(secret: secret)?.revoked == true)
        #expect(store.lookup(secret: secret)?.revoked == true)

        // Any commit starts over, even one about another key.
        _ = try store.create(plan: "pro", name: "other", prefix: "sk-sy-")
        #expect(store.recent.count == 1)
        #expect(store.lookup(secret: secret)?.revoked == true)
        #expect(store.recent.count == 1)
    }

    /// At most `capacity` keys are kept; one more starts the cache over, and an older
    /// generation's record never replaces a newer generation's entries.
    @Test func rememberedKeysAreBounded() {
        let recent = RecentKeys()
        let record = KeyRecord(id: "key_000000000000", name: "", plan: "pro", createdAt: 0)
        for i in 0..<RecentKeys.capacity {
            Array("sk-\(i)".utf8).withUnsafeBytes { recent.remember(record, for: $0, generation: 7) }
        }
        #expect(recent.count == RecentKeys.capacity)
        Array("sk-one-more".utf8).withUnsafeBytes { recent.remember(record, for: $0, generation: 7) }
        #expect(recent.count == 1)
        Array("sk-one-more".utf8).withUnsafeBytes { secret in
            #expect(recent.record(for: secret, generation: 7) == record)
            #expect(recent.record(for: secret, generation: 8) == nil)
        }
        Array("sk-stale".utf8).withUnsafeBytes { recent.remember(record, for: $0, generation: 6) }
        #expect(recent.count == 1)
    }

    /// Unknown secrets are not remembered: guessing cannot fill the cache.
    @Test func unknownSecretsAreNotRemembered() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        _ = try store.create(plan: "pro", name: "", prefix: "sk-sy-")
        for i in 0..<50 { #expect(store.lookup(secret: "sk-sy-guess-\(i)") == nil) }
        #expect(store.recent.count == 0)
    }

    @Test func revokeUnknownIDFails() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        _ = try store.create(plan: "pro", name: "", prefix: "sk-sy-")
        let error = #expect(throws: KeyStoreError.self) { try store.revoke(id: "key_abc") }
        #expect(error?.isUnknownID == true)
        #expect(error?.description == "no key with id key_abc")
        // Ids LMDB cannot hold as keys (empty, over 511 bytes) are unknown too, not a storage error.
        for id in ["", String(repeating: "k", count: 600)] {
            let odd = #expect(throws: KeyStoreError.self) { try store.revoke(id: id) }
            #expect(odd?.isUnknownID == true)
        }
    }

    @Test func reopenAfterClose() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        var first: (record: KeyRecord, secret: String)
        var second: (record: KeyRecord, secret: String)
        do {
            let store = try KeyStore(directory: folder.path)
            first = try store.create(plan: "free", name: "one", prefix: "sk-sy-")
            second = try store.create(plan: "pro", name: "two", prefix: "sk-sy-", rpmOverride: 5)
            try store.revoke(id: first.record.id)
            store.close()
            #expect(store.lookup(secret: second.secret) == nil)
            let error = #expect(throws: KeyStoreError.self) { try store.list() }
            #expect(error?.description.contains("is closed") == true)
            store.close()  // twice is fine
        }
        let reopened = try KeyStore(directory: folder.path)
        #expect(reopened.directory == folder.path)
        #expect(reopened.lookup(secret: first.secret)?.revoked == true)
        #expect(reopened.lookup(secret: second.secret) == second.record)
        #expect(try reopened.list().map(\.id).sorted() == [first.record.id, second.record.id].sorted())
    }

    @Test func deinitClosesSoTheFolderCanBeReopened() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        var secret = ""
        do {
            let store = try KeyStore(directory: folder.path)
            secret = try store.create(plan: "free", name: "", prefix: "p-").secret
        }
        let again = try KeyStore(directory: folder.path)
        #expect(again.lookup(secret: secret) != nil)
    }

    @Test func overridesRoundTrip() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        let cases: [(Int?, Int?)] = [(nil, nil), (60, nil), (nil, 1_000_000), (1, 1), (Int(Int32.max), Int.max)]
        var made: [(KeyRecord, String)] = []
        for (rpm, daily) in cases {
            let (record, secret) = try store.create(plan: "team", name: "ü名", prefix: "sk-sy-",
                                                    rpmOverride: rpm, dailyTokensOverride: daily)
            #expect(record.rpmOverride == rpm && record.dailyTokensOverride == daily)
            made.append((record, secret))
        }
        store.close()
        let reopened = try KeyStore(directory: folder.path)
        for (record, secret) in made {
            let found = try #require(reopened.lookup(secret: secret))
            #expect(found == record)
            #expect(found.name == "ü名")
        }
    }

    @Test func createValidatesItsArguments() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        let bad: [() throws -> Void] = [
            { _ = try store.create(plan: "", name: "", prefix: "sk-") },
            { _ = try store.create(plan: "free", name: "", prefix: "sk -") },
            { _ = try store.create(plan: "free", name: "", prefix: "sk-é") },
            { _ = try store.create(plan: "free", name: "", prefix: String(repeating: "x", count: 65)) },
            { _ = try store.create(plan: "free", name: String(repeating: "n", count: 1025), prefix: "sk-") },
            { _ = try store.create(plan: "free", name: "", prefix: "sk-", rpmOverride: -1) },
            { _ = try store.create(plan: "free", name: "", prefix: "sk-", dailyTokensOverride: -5) },
            // Enforced limits are at least 1: a 0 override would silently have meant 1.
            { _ = try store.create(plan: "free", name: "", prefix: "sk-", rpmOverride: 0) },
            { _ = try store.create(plan: "free", name: "", prefix: "sk-", dailyTokensOverride: 0) },
        ]
        for call in bad {
            let error = #expect(throws: KeyStoreError.self) { try call() }
            #expect(error?.isInvalidArgument == true)
        }
        #expect(try store.list().isEmpty)
        let empty = #expect(throws: KeyStoreError.self) { _ = try KeyStore(directory: "") }
        #expect(empty?.isInvalidArgument == true)
    }
}

@Suite struct KeyStoreOpenErrors {
    @Test func folderUnderAFile() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let file = folder.path + "/plain-file"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        let error = #expect(throws: KeyStoreError.self) { _ = try KeyStore(directory: file) }
        #expect(error?.description == "cannot create key store folder \(file)/keys: not a directory")
    }

    @Test func createsMissingParents() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let nested = folder.path + "/a/b/c/"
        let store = try KeyStore(directory: nested)
        #expect(FileManager.default.fileExists(atPath: folder.path + "/a/b/c/keys/data.mdb"))
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.path + "/a/b/c/keys")
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
        store.close()
    }

    @Test func notAnLMDBFile() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder.environmentPath, withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: 16_384).write(to: URL(fileURLWithPath: folder.environmentPath + "/data.mdb"))
        let error = #expect(throws: KeyStoreError.self) { _ = try KeyStore(directory: folder.path) }
        let text = error?.description ?? ""
        #expect(text.hasPrefix("cannot open key store at \(folder.environmentPath): MDB_INVALID"), "\(text)")
    }

    /// Root ignores permission bits, so this only means something for other users.
    @Test(.enabled(if: getuid() != 0)) func permissionDenied() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let locked = folder.path + "/locked"
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o500])
        defer { chmod(locked, 0o700) }
        let error = #expect(throws: KeyStoreError.self) { _ = try KeyStore(directory: locked) }
        #expect(error?.description == "cannot create key store folder \(locked)/keys: permission denied")
    }
    /// The reason texts (shared with the usage store through LMDBSupport, the hints are the key
    /// store's own): LMDB codes in LMDB's words plus a hint, errno values lower-cased.
    @Test func storageFailureWording() {
        #expect(KeyStoreError.storage("/d/keys", "cannot save the new key", rc: -30792).description
                == "key store at /d/keys: cannot save the new key: MDB_MAP_FULL: Environment mapsize limit reached "
                + "(the key store is full; raise its map size)")
        #expect(KeyStoreError.storage("/d/keys", "cannot list keys", rc: -30783).lmdbCode == -30783)
        #expect(KeyStoreError.storage("/d/keys", "cannot list keys", rc: -30783).description
                == "key store at /d/keys: cannot list keys: MDB_BAD_RSLOT: Invalid reuse of reader locktable slot")
        #expect(KeyStoreError.cannotOpen("/d/keys", rc: EACCES).description
                == "cannot open key store at /d/keys: permission denied")
        #expect(KeyStoreError.closed("/d/keys").description == "key store at /d/keys is closed")
    }
}
