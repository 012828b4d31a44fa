// A thin owning wrapper over jansson's json_t. Used where the gateway builds or reads whole JSON
// documents (error bodies, model lists, upstream error messages); the request hot path uses
// `JSONTopLevelScanner` instead, which reads and splices without building a tree.
import CJansson

/// One jansson value with its own reference. Not shared across threads while mutable.
public final class JSONDocument {
    public let raw: UnsafeMutablePointer<json_t>

    /// Takes ownership of a new reference.
    init(owning raw: UnsafeMutablePointer<json_t>) { self.raw = raw }

    deinit { json_decref(raw) }

    public static func object() -> JSONDocument { JSONDocument(owning: json_object()) }
    public static func array() -> JSONDocument { JSONDocument(owning: json_array()) }

    /// Parses a complete document; nil when it is not valid JSON.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> JSONDocument? {
        guard let base = bytes.baseAddress else { return nil }
        var error = json_error_t()
        guard let value = json_loadb(base.assumingMemoryBound(to: CChar.self), bytes.count, 0, &error) else { return nil }
        return JSONDocument(owning: value)
    }

    public static func parse(_ bytes: [UInt8]) -> JSONDocument? {
        bytes.withUnsafeBytes { parse($0) }
    }

    // MARK: Building

    public func set(_ key: String, _ value: String) { json_object_set_new(raw, key, json_stringn(value, value.utf8.count)) }
    public func set(_ key: String, _ value: Int) { json_object_set_new(raw, key, json_integer(json_int_t(value))) }
    public func set(_ key: String, _ value: Bool) { json_object_set_new(raw, key, value ? json_true() : json_false()) }
    public func setNull(_ key: String) { json_object_set_new(raw, key, json_null()) }
    public func set(_ key: String, _ value: JSONDocument) { json_object_set(raw, key, value.raw) }
    public func set(_ key: String, _ value: String?) {
        if let value { set(key, value) } else { setNull(key) }
    }
    public func append(_ value: JSONDocument) { json_array_append(raw, value.raw) }

    // MARK: Reading

    /// A member of an object, borrowed from this document (kept alive by it).
    public func member(_ key: String) -> JSONMember? {
        guard let value = json_object_get(raw, key) else { return nil }
        return JSONMember(owner: self, raw: value)
    }

    public var root: JSONMember { JSONMember(owner: self, raw: raw) }

    // MARK: Output

    /// Compact serialization (no spaces), as providers send it.
    public func serialized() -> [UInt8] {
        let flags = Int(JSON_COMPACT)
        let size = json_dumpb(raw, nil, 0, flags)
        var out = [UInt8](repeating: 0, count: size)
        _ = out.withUnsafeMutableBytes { json_dumpb(raw, $0.baseAddress!.assumingMemoryBound(to: CChar.self), size, flags) }
        return out
    }
}

/// A borrowed view into a `JSONDocument`.
public struct JSONMember {
    let owner: JSONDocument
    let raw: UnsafeMutablePointer<json_t>

    public func member(_ key: String) -> JSONMember? {
        guard json_is_object_shim(raw), let value = json_object_get(raw, key) else { return nil }
        return JSONMember(owner: owner, raw: value)
    }
    public var string: String? {
        guard raw.pointee.type == JSON_STRING, let s = json_string_value(raw) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: s, count: json_string_length(raw)), as: UTF8.self)
    }
    public var int: Int? { raw.pointee.type == JSON_INTEGER ? Int(json_integer_value(raw)) : nil }
    public var bool: Bool? {
        switch raw.pointee.type {
        case JSON_TRUE: return true
        case JSON_FALSE: return false
        default: return nil
        }
    }
    public var isObject: Bool { json_is_object_shim(raw) }
    public var arrayCount: Int? { raw.pointee.type == JSON_ARRAY ? json_array_size(raw) : nil }
    public subscript(index: Int) -> JSONMember? {
        guard let v = json_array_get(raw, index) else { return nil }
        return JSONMember(owner: owner, raw: v)
    }
}

@inline(__always) func json_is_object_shim(_ v: UnsafeMutablePointer<json_t>) -> Bool { v.pointee.type == JSON_OBJECT }

/// Call once, before threads start, so jansson's hash seed is not initialised concurrently.
public func prepareJSONForThreads() { json_object_seed(0) }
