@testable import Gateway
import NIOHTTP1
import Testing

@Suite struct PresentedKeyTests {
    func key(_ headers: [(String, String)]) -> String? {
        Authenticate.presentedKey(HTTPHeaders(headers)).map(String.init)
    }

    @Test func bearerSchemeInAnyCaseAndSpacing() {
        #expect(key([("Authorization", "Bearer sk-sy-abc")]) == "sk-sy-abc")
        #expect(key([("authorization", "bearer   sk-sy-abc")]) == "sk-sy-abc")
        #expect(key([("AUTHORIZATION", "  BEARER sk-sy-é")]) == "sk-sy-é")
        #expect(key([("Authorization", "BeArEr x")]) == "x")
    }

    /// Spaces and tabs around a header value are not part of it (RFC 9110 §5.5); NIO keeps
    /// trailing ones, and a key copied with a trailing space was refused as invalid.
    @Test func whitespaceAroundTheValueIsNotPartOfTheKey() {
        #expect(key([("Authorization", "Bearer sk-sy-abc ")]) == "sk-sy-abc")
        #expect(key([("Authorization", "\tBearer sk-sy-abc\t ")]) == "sk-sy-abc")
        #expect(key([("Authorization", "Bearer \tsk-sy-abc")]) == "sk-sy-abc")
        #expect(key([("x-api-key", " sk-sy-k\t")]) == "sk-sy-k")
        #expect(key([("x-api-key", " \t ")]) == nil)
        #expect(key([("Authorization", "Bearer sk-sy a")]) == "sk-sy a")  // inner spaces stay (and fail lookup)
    }

    @Test func otherSchemesAndEmptyKeysAreNotKeys() {
        #expect(key([("Authorization", "Basic c2stc3k=")]) == nil)
        #expect(key([("Authorization", "Bearer ")]) == nil)
        #expect(key([("Authorization", "Bearer     ")]) == nil)
        #expect(key([("Authorization", "Bearersk-sy-abc")]) == nil)
        #expect(key([("Authorization", "Bearer_sk-sy-abc")]) == nil)
        #expect(key([]) == nil)
    }

    @Test func xAPIKeyIsTheFallback() {
        #expect(key([("x-api-key", "sk-sy-anthropic-style")]) == "sk-sy-anthropic-style")
        #expect(key([("Authorization", "Basic x"), ("x-api-key", "sk-sy-k")]) == "sk-sy-k")
        #expect(key([("Authorization", "Bearer a"), ("x-api-key", "b")]) == "a")
    }
}
