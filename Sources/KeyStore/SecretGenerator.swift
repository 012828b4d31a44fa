/// Makes key secrets and key ids.
///
/// Randomness comes from `SystemRandomNumberGenerator`, which on Linux is `getrandom(2)` with
/// flags 0 (checked with strace on this toolchain): the kernel CSPRNG, blocking only until it is
/// seeded at boot. Swift's Glibc module does not import `getrandom` itself and `syscall` is
/// variadic, so calling it directly would need a C shim; reading /dev/urandom would need a file
/// descriptor and fails where /dev is not mounted. The stdlib falls back to /dev/urandom on its own
/// and traps only when neither source exists, where no secure key could be made anyway.
enum SecretGenerator {
    /// Entropy per secret: 256 bits.
    static let secretByteCount = 32
    /// Digits needed to write any 32-byte number in base 62: 62^43 > 2^256 (43 · log2 62 ≈ 256.03).
    static let encodedLength = 43

    /// Base 62: no character needs escaping in a header, a URL query (`?key=`), JSON or a shell,
    /// and a double click selects the whole key.
    private static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// `prefix` + 43 base-62 digits encoding 32 random bytes (fixed width, so every secret made
    /// with one prefix has the same length).
    static func makeSecret(prefix: String) -> String {
        var random = randomBytes(secretByteCount)
        defer { for i in random.indices { random[i] = 0 } }
        let digits = base62(random, width: encodedLength)
        return prefix + String(decoding: digits, as: UTF8.self)
    }

    /// "key_" + 12 hex chars (48 random bits): short enough to type, and the store retries on the
    /// rare collision.
    static func makeID() -> String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = Array("key_".utf8)
        for byte in randomBytes(6) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(count + 8)
        while out.count < count {
            var word = generator.next() as UInt64
            for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: word)); word >>= 8 }
        }
        out.removeLast(out.count - count)
        return out
    }

    /// Writes `bytes` (a big-endian number) in base 62 with exactly `width` digits, most
    /// significant first. Schoolbook long division: 32 bytes × 43 digits is a few thousand steps,
    /// done once per key creation.
    static func base62(_ bytes: [UInt8], width: Int) -> [UInt8] {
        var number = bytes
        defer { for i in number.indices { number[i] = 0 } }
        var digits = [UInt8](repeating: alphabet[0], count: width)
        for position in stride(from: width - 1, through: 0, by: -1) {
            var remainder = 0
            for i in number.indices {
                let value = remainder << 8 | Int(number[i])
                number[i] = UInt8(value / 62)
                remainder = value % 62
            }
            digits[position] = alphabet[remainder]
        }
        precondition(number.allSatisfy { $0 == 0 }, "base62 width too small for the input")
        return digits
    }
}
