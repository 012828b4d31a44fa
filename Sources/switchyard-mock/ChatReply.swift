/// The deterministic answer to one chat request: what the assistant "says" and the usage it
/// reports. Same request in, same reply out (apart from id and timestamp), so tests can assert on
/// exact text and token counts.
struct ChatReply {
    enum Body {
        /// Text split the way a provider streams it: the first word bare, every later word with
        /// its leading space, so `chunks.joined()` is the full content.
        case text(chunks: TextChunks)
        /// One call to the request's first tool. `fragments.joined() == arguments`.
        case toolCall(id: String, name: String, arguments: String, fragments: [String])
    }

    let id: String
    let created: Int
    let model: String
    let body: Body
    let finishReason: String
    let promptTokens: Int
    let completionTokens: Int

    var totalTokens: Int { promptTokens + completionTokens }

    init(request: ChatRequest, words: Int, sequence: Int, created: Int) {
        let suffix = ChatReply.idSuffix(sequence)
        id = "chatcmpl-mock" + suffix
        self.created = created
        model = request.model
        promptTokens = ChatReply.estimateTokens(request.messages)

        let wantsTool = !request.tools.isEmpty && !request.toolChoiceNone && request.lastRole == "user"
        if wantsTool, let tool = request.tools.first {
            let arguments = ChatReply.placeholderArguments(tool.parameters)
            body = .toolCall(id: "call_mock" + suffix, name: tool.name, arguments: arguments,
                             fragments: ChatReply.split(arguments))
            finishReason = "tool_calls"
            // Roughly 4 characters a token, like the prompt estimate.
            completionTokens = (tool.name.unicodeScalars.count + arguments.unicodeScalars.count + 3) / 4
            return
        }

        // The echo sentence is never cut (a test must be able to find the tool result in it);
        // filler words pad it up to `words`.
        let sentence: [Substring]
        if request.lastRole == "tool" {
            let result = JSONValue.text(ofContent: request.messages.last?["content"])
            // Split on single spaces only, so the chunks join back to the result verbatim.
            sentence = ["The", "tool", "said:"]
                + result.prefix(1000).split(separator: " ", omittingEmptySubsequences: false)
        } else {
            let lastUser = request.messages.last(where: { ($0["role"] as? String) == "user" })
                ?? request.messages[request.messages.count - 1]
            sentence = ["Mock", "reply", "to:"] + ChatReply.words(of: JSONValue.text(ofContent: lastUser["content"]), limit: 40)
        }
        var count = max(words, sentence.count)
        // max_completion_tokens / max_tokens below the reply length truncates it, as a provider would.
        var finish = "stop"
        if let cap = request.maxTokens, cap >= 1, cap < count {
            count = cap
            finish = "length"
        }
        let chunks = TextChunks(sentence: sentence.map(String.init), count: count)
        body = .text(chunks: chunks)
        finishReason = finish
        completionTokens = chunks.count
    }

    /// ceil(characters of all message text / 4): cheap, deterministic, and the right order of
    /// magnitude for English.
    static func estimateTokens(_ messages: [[String: Any]]) -> Int {
        var chars = 0
        for m in messages {
            chars += JSONValue.text(ofContent: m["content"]).unicodeScalars.count
        }
        return (chars + 3) / 4
    }

    /// The first `limit` characters of `text`, split on whitespace (which also flattens newlines).
    static func words(of text: String, limit: Int) -> [Substring] {
        text.prefix(limit).split(whereSeparator: { $0.isWhitespace })
    }

    /// A JSON object string with one placeholder value per declared parameter property, keys sorted
    /// so the output is stable: `{"city":"Oslo","days":1}`.
    static func placeholderArguments(_ parameters: [String: Any]?) -> String {
        guard let properties = JSONValue.object(parameters?["properties"]), !properties.isEmpty else {
            return "{}"
        }
        var out = "{"
        for (n, key) in properties.keys.sorted().enumerated() {
            if n > 0 { out.append(",") }
            out.append(JSONText.quoted(key))
            out.append(":")
            out.append(placeholder(for: key, schema: JSONValue.object(properties[key])))
        }
        out.append("}")
        return out
    }

    private static func placeholder(for key: String, schema: [String: Any]?) -> String {
        if let options = JSONValue.array(schema?["enum"]), let first = options.first {
            if let s = first as? String { return JSONText.quoted(s) }
            if let i = JSONValue.int(first) { return String(i) }
        }
        let type = (schema?["type"] as? String) ?? (JSONValue.array(schema?["type"])?.first as? String) ?? "string"
        switch type {
        case "integer": return "1"
        case "number": return "1.5"
        case "boolean": return "true"
        case "array": return "[]"
        case "object": return "{}"
        case "null": return "null"
        default:
            switch key.lowercased() {
            case "city", "location", "place": return "\"Oslo\""
            default: return JSONText.quoted("mock-" + key)
            }
        }
    }

    /// Splits `s` into 3 pieces (2 if very short) the way providers fragment streamed arguments.
    static func split(_ s: String) -> [String] {
        let chars = Array(s)
        let pieces = chars.count >= 6 ? 3 : (chars.count >= 2 ? 2 : 1)
        var out: [String] = []
        var start = 0
        for p in 0..<pieces {
            let end = p == pieces - 1 ? chars.count : start + chars.count / pieces
            out.append(String(chars[start..<end]))
            start = end
        }
        return out
    }

    /// 24 lowercase alphanumerics, unique per process run: a per-process salt plus the sequence.
    static func idSuffix(_ sequence: Int) -> String {
        let n = String(sequence, radix: 36)
        return processSalt + String(repeating: "0", count: max(0, 16 - n.count)) + n
    }

    static let processSalt: String = {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var g = SystemRandomNumberGenerator()
        return String((0..<8).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
    }()
}

/// The words of a text reply, computed on demand: the echo sentence, then filler words cycling
/// from a fixed list. A million-word reply costs no memory until a chunk is asked for.
struct TextChunks: RandomAccessCollection {
    static let filler = [" lorem", " ipsum", " dolor", " sit", " amet", " consectetur", " adipiscing",
                         " elit", " sed", " do", " eiusmod", " tempor", " incididunt", " ut", " labore",
                         " et", " dolore", " magna", " aliqua"]

    /// Chunks of the sentence, the first bare and the rest with their leading space.
    private let lead: [String]
    let count: Int

    init(sentence: [String], count: Int) {
        lead = sentence.enumerated().map { $0.offset == 0 ? $0.element : " " + $0.element }
        self.count = count
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(i: Int) -> String {
        if i < lead.count { return lead[i] }
        let word = Self.filler[(i - lead.count) % Self.filler.count]
        return i == 0 ? String(word.dropFirst()) : word
    }
}
