import Foundation
import NIOCore

/// Typed reads of `JSONSerialization` output. On Linux numbers and booleans arrive as `NSNumber`,
/// which bridges to `Int`/`Double`/`Bool`.
enum JSONValue {
    static func string(_ v: Any?) -> String? { v as? String }

    static func int(_ v: Any?) -> Int? {
        if let i = v as? Int { return i }
        if let d = v as? Double, d.isFinite, d.magnitude < 1e15 { return Int(d) }
        return nil
    }

    static func bool(_ v: Any?) -> Bool? { v as? Bool }
    static func object(_ v: Any?) -> [String: Any]? { v as? [String: Any] }
    static func array(_ v: Any?) -> [Any]? { v as? [Any] }

    /// Message content is a string or an array of parts; only text parts count here.
    static func text(ofContent v: Any?) -> String {
        if let s = v as? String { return s }
        guard let parts = v as? [Any] else { return "" }
        var out = ""
        for case let part as [String: Any] in parts {
            if let t = part["text"] as? String {
                if !out.isEmpty { out.append(" ") }
                out.append(t)
            }
        }
        return out
    }
}

/// The parts of a Chat Completions request the mock reacts to.
struct ChatRequest {
    struct Tool {
        let name: String
        let parameters: [String: Any]?
    }

    let model: String
    let messages: [[String: Any]]
    let stream: Bool
    let includeUsage: Bool
    let tools: [Tool]
    let toolChoiceNone: Bool
    let maxTokens: Int?

    /// A request the mock refuses, phrased as the OpenAI API phrases it.
    struct Invalid: Error {
        let message: String
        let param: String?
        let code: String?
    }

    static func parseJSON(_ body: ByteBuffer) -> [String: Any]? {
        guard body.readableBytes > 0 else { return nil }
        let data = Data(body.readableBytesView)
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    init(_ json: [String: Any]) throws(Invalid) {
        guard let model = json["model"] as? String, !model.isEmpty else {
            throw Invalid(message: "you must provide a model parameter", param: nil, code: nil)
        }
        guard let rawMessages = json["messages"] else {
            throw Invalid(message: "Missing required parameter: 'messages'.", param: "messages",
                          code: "missing_required_parameter")
        }
        guard let list = rawMessages as? [Any] else {
            throw Invalid(message: "Invalid type for 'messages': expected an array.", param: "messages",
                          code: "invalid_type")
        }
        guard !list.isEmpty else {
            throw Invalid(message: "Invalid 'messages': empty array. Expected an array with minimum length 1.",
                          param: "messages", code: "empty_array")
        }
        var messages: [[String: Any]] = []
        messages.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            guard let m = item as? [String: Any], m["role"] is String else {
                throw Invalid(message: "Missing required parameter: 'messages[\(i)].role'.",
                              param: "messages[\(i)].role", code: "missing_required_parameter")
            }
            messages.append(m)
        }
        self.model = model
        self.messages = messages
        self.stream = JSONValue.bool(json["stream"]) ?? false
        self.includeUsage = JSONValue.bool(JSONValue.object(json["stream_options"])?["include_usage"]) ?? false
        var tools: [Tool] = []
        for case let t as [String: Any] in JSONValue.array(json["tools"]) ?? [] {
            if let f = JSONValue.object(t["function"]), let name = f["name"] as? String {
                tools.append(Tool(name: name, parameters: JSONValue.object(f["parameters"])))
            }
        }
        self.tools = tools
        self.toolChoiceNone = (json["tool_choice"] as? String) == "none"
        self.maxTokens = JSONValue.int(json["max_completion_tokens"]) ?? JSONValue.int(json["max_tokens"])
    }

    var lastRole: String? { messages.last?["role"] as? String }
}
