/// Renders a `ChatReply` in the Chat Completions wire format (wire-formats.md §1.2, §1.3).
extension ChatReply {
    /// The `x-request-id` response header: `req_mock…`, sharing the reply id's suffix.
    var requestID: String { "req_" + id.dropFirst("chatcmpl-".count) }

    var usageJSON: String {
        "{\"prompt_tokens\":\(promptTokens),\"completion_tokens\":\(completionTokens),\"total_tokens\":\(totalTokens)"
            + ",\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}"
    }

    /// The non-streaming `chat.completion` object. `extraFields` (already JSON, with a leading
    /// comma) is spliced in at the top level, e.g. `mock_received_headers`.
    func completionJSON(extraFields: String = "") -> String {
        var out = "{\"id\":\"\(id)\",\"object\":\"chat.completion\",\"created\":\(created),\"model\":"
        out.append(JSONText.quoted(model))
        out.append(",\"system_fingerprint\":\"fp_mock\",\"service_tier\":\"default\",\"choices\":[{\"index\":0,\"message\":")
        switch body {
        case .text(let chunks):
            out.append("{\"role\":\"assistant\",\"content\":\"")
            for c in chunks { JSONText.appendEscaped(c, to: &out) }
            out.append("\",\"refusal\":null,\"annotations\":[]}")
        case .toolCall(let callID, let name, let arguments, _):
            out.append("{\"role\":\"assistant\",\"content\":null,\"refusal\":null,\"annotations\":[],\"tool_calls\":[{\"id\":\"")
            out.append(callID)
            out.append("\",\"type\":\"function\",\"function\":{\"name\":")
            out.append(JSONText.quoted(name))
            out.append(",\"arguments\":")
            out.append(JSONText.quoted(arguments))
            out.append("}}]}")
        }
        out.append(",\"logprobs\":null,\"finish_reason\":\"\(finishReason)\"}],\"usage\":")
        out.append(usageJSON)
        out.append(extraFields)
        out.append("}")
        return out
    }
}

/// The SSE frames of a streamed reply, produced one at a time so a million-word stream is never
/// held in memory as text. Every frame is complete (`data: …` plus the blank line).
struct ChatStreamFrames {
    private enum Frame {
        case role, content(Int), toolStart, toolArguments(Int), finish, usage, broken, done
    }

    private let reply: ChatReply
    private let includeUsage: Bool
    private let malformed: Bool
    /// Frames between the role chunk and the finish chunk (words, or tool-call fragments).
    private let bodyFrames: Int
    /// Shared head of every chunk: `data: {"id":…,"model":…,"choices":[`.
    private let head: String
    /// Closes a chunk whose `choices` array is written: `]` (+ `"usage":null`) `}` and the blank line.
    private let tail: String
    private let firstChunkExtra: String

    /// Layout: role chunk, body frames, finish chunk, usage chunk (if asked), `[DONE]`.
    /// `malformed`: role chunk, the first body frame, a frame whose data is truncated JSON, `[DONE]`.
    init(reply: ChatReply, includeUsage: Bool, malformed: Bool, firstChunkExtraFields: String = "") {
        self.reply = reply
        self.includeUsage = includeUsage
        self.malformed = malformed
        head = "data: {\"id\":\"\(reply.id)\",\"object\":\"chat.completion.chunk\",\"created\":\(reply.created),\"model\":"
            + JSONText.quoted(reply.model) + ",\"system_fingerprint\":\"fp_mock\",\"choices\":["
        tail = includeUsage ? "],\"usage\":null}\n\n" : "]}\n\n"
        firstChunkExtra = firstChunkExtraFields
        let full: Int
        switch reply.body {
        case .text(let chunks): full = chunks.count
        case .toolCall(_, _, _, let fragments): full = 1 + fragments.count
        }
        bodyFrames = malformed ? min(1, full) : full
    }

    var count: Int { 1 + bodyFrames + (malformed ? 2 : (includeUsage ? 3 : 2)) }
    var requestID: String { reply.requestID }

    /// Frames before the finish chunk: where the `disconnect` fault may cut the stream.
    var contentFrameCount: Int { 1 + bodyFrames }

    private func kind(at index: Int) -> Frame {
        if index == 0 { return .role }
        if index <= bodyFrames {
            switch reply.body {
            case .text: return .content(index - 1)
            case .toolCall: return index == 1 ? .toolStart : .toolArguments(index - 2)
            }
        }
        let rest = index - 1 - bodyFrames
        if malformed { return rest == 0 ? .broken : .done }
        if rest == 0 { return .finish }
        return rest == 1 && includeUsage ? .usage : .done
    }

    func frame(at index: Int) -> String {
        switch kind(at: index) {
        case .role:
            if firstChunkExtra.isEmpty {
                return choice(delta: "{\"role\":\"assistant\",\"content\":\"\"}")
            }
            // Splice the extra top-level fields in before the chunk's closing brace.
            var s = choice(delta: "{\"role\":\"assistant\",\"content\":\"\"}")
            s.removeLast(3)  // "}\n\n"
            return s + firstChunkExtra + "}\n\n"
        case .content(let i):
            guard case .text(let chunks) = reply.body else { return "" }
            var delta = "{\"content\":\""
            JSONText.appendEscaped(chunks[i], to: &delta)
            delta.append("\"}")
            return choice(delta: delta)
        case .toolStart:
            guard case .toolCall(let callID, let name, _, _) = reply.body else { return "" }
            return choice(delta: "{\"tool_calls\":[{\"index\":0,\"id\":\"\(callID)\",\"type\":\"function\",\"function\":{\"name\":"
                + JSONText.quoted(name) + ",\"arguments\":\"\"}}]}")
        case .toolArguments(let i):
            guard case .toolCall(_, _, _, let fragments) = reply.body else { return "" }
            return choice(delta: "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
                + JSONText.quoted(fragments[i]) + "}}]}")
        case .finish:
            return choice(delta: "{}", finishReason: reply.finishReason)
        case .usage:
            return head + "],\"usage\":" + reply.usageJSON + "}\n\n"
        case .broken:
            return "data: {\"id\":\"\(reply.id)\",\"object\":\"chat.completion.chunk\",\"choices\":[{\n\n"
        case .done:
            return "data: [DONE]\n\n"
        }
    }

    private func choice(delta: String, finishReason: String? = nil) -> String {
        let finish = finishReason.map { "\"\($0)\"" } ?? "null"
        return head + "{\"index\":0,\"delta\":" + delta + ",\"logprobs\":null,\"finish_reason\":" + finish + "}" + tail
    }
}
