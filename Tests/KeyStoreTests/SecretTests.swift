import Testing
@testable import KeyStore

@Suite struct Secrets {
    static let base62 = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    @Test func secretShape() throws {
        let folder = try TempFolder(); defer { folder.remove() }
        let store = try KeyStore(directory: folder.path)
        let (_, a) = try store.create(plan: "free", name: "", prefix: "sk-sy-")
        let (_, b) = try store.create(plan: "free", name: "", prefix: "sk-sy-")
        for secret in [a, b] {
            #expect(secret.hasPrefix("sk-sy-"))
            let body = secret.dropFirst("sk-sy-".count)
            // 43 base-62 digits carry 256 bits: 32 random bytes.
            #expect(body.count == 43)
            #expect(body.allSatisfy { Self.base62.contains($0) })
        }
        #expect(a != b)
        let (_, bare) = try store.create(plan: "free", name: "", prefix: "")
        #expect(bare.count == 43)
    }

    @Test func secretsDoNotRepeat() {
        var seen = Set<String>()
        for _ in 0..<2_000 { seen.insert(SecretGenerator.makeSecret(prefix: "t-")) }
        #expect(seen.count == 2_000)
    }

    @Test func base62IsExactFixedWidth() {
        let zero = [UInt8](repeating: 0, count: 32)
        #expect(String(decoding: SecretGenerator.base62(zero, width: 43), as: UTF8.self) == String(repeating: "0", count: 43))
        #expect(String(decoding: SecretGenerator.base62([1], width: 3), as: UTF8.self) == "001")
        #expect(String(decoding: SecretGenerator.base62([0, 62], width: 2), as: UTF8.self) == "10")
        #expect(String(decoding: SecretGenerator.base62([0x0F, 0x0F], width: 3), as: UTF8.self) == "10B")  // 3855 = 1·62² + 0·62 + 11
        // The largest 32-byte value still fits in 43 digits (the precondition would trap otherwise).
        let max = SecretGenerator.base62([UInt8](repeating: 0xFF, count: 32), width: 43)
        #expect(max.count == 43)
        #expect(max.first != UInt8(ascii: "0"))
    }

    @Test func base62RoundTripsRandomInputs() {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        for _ in 0..<200 {
            let bytes = SecretGenerator.randomBytes(32)
            let digits = SecretGenerator.base62(bytes, width: 43)
            // Decode: number = Σ digit · 62^k, rebuilt big-endian in 32 bytes.
            var number = [UInt8](repeating: 0, count: 32)
            for digit in digits {
                var carry = alphabet.firstIndex(of: digit)!
                for i in number.indices.reversed() {
                    let value = Int(number[i]) * 62 + carry
                    number[i] = UInt8(value & 0xFF)
                    carry = value >> 8
                }
                #expect(carry == 0)
            }
            #expect(number == bytes)
        }
    }

    @Test func randomBytesLengths() {
        for count in [0, 1, 6, 8, 9, 32, 33] { #expect(SecretGenerator.randomBytes(count).count == count) }
        #expect(SecretGenerator.randomBytes(32) != SecretGenerator.randomBytes(32))
    }
}
