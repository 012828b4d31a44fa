import RouteConfig
import SwitchyardJSON

/// What the request body says, read without building a tree.
struct ChatRequestFields {
    let modelID: String
    let modelSpan: Range<Int>
    let stream: Bool
    /// The `stream_options` value, if any, and whether it already asks for usage.
    let streamOptions: JSONMemberSpan?
    let clientAskedForUsage: Bool
    /// `max_completion_tokens`, else `max_tokens`: the output cap, when the request sets one.
    let outputCap: Int64?
    let bodyBytes: Int

    /// A rough prompt size for reservations and for estimates when a provider reports nothing:
    /// about four bytes of JSON per token.
    var promptEstimate: Int64 { Int64(bodyBytes / 4) }
}

/// The model a request will be served by.
struct ResolvedModel: Sendable {
    let index: Int
    let model: Model
    let provider: Provider
    let providerIndex: Int
    /// `model.upstreamID` as a JSON string literal.
    let quotedUpstreamID: [UInt8]
}

/// Stage 3: read `model` from the body, resolve id or alias, check it is active, on the caller's
/// plan, and servable in the endpoint's format.
struct ResolveModel {
    let catalog: ModelCatalog
    let secrets: ProviderSecrets

    /// The largest output cap a reservation counts (2⁴⁰ tokens, far above any model's).
    static let maxOutputCap: Int64 = 1 << 40

    private static let requestKeys: JSONKeySet = ["model", "messages", "stream", "stream_options", "max_completion_tokens", "max_tokens"]

    static func readChatFields(_ body: UnsafeRawBufferPointer) throws(GatewayError) -> ChatRequestFields {
        let spans: [JSONMemberSpan?]
        var repeated: UInt64 = 0
        do {
            spans = try JSONTopLevelScanner.scanObject(body, keys: Self.requestKeys, repeated: &repeated)
        } catch {
            throw .malformed(error)
        }
        // Parsers disagree on a repeated member (most keep the last, some the first, some refuse):
        // the model checked against the plan must be the one the provider serves, so a repeated
        // `model` (or `stream`) is refused rather than guessed.
        for (index, name) in [(0, "model"), (2, "stream")] where repeated & (UInt64(1) << UInt64(index)) != 0 {
            throw GatewayError(.invalidField, "The request has more than one '\(name)' member; send it once.", param: name)
        }
        guard let model = spans[0] else {
            throw GatewayError(.invalidField, "Missing required parameter: 'model'.", param: "model")
        }
        guard model.kind == .string else {
            throw GatewayError(.invalidField, "Invalid type for 'model': expected a string.", param: "model")
        }
        guard let messages = spans[1] else {
            throw GatewayError(.invalidField, "Missing required parameter: 'messages'.", param: "messages")
        }
        guard messages.kind == .array else {
            throw GatewayError(.invalidField, "Invalid type for 'messages': expected an array.", param: "messages")
        }
        var stream = false
        if let s = spans[2] {
            switch s.kind {
            case .bool: stream = body[s.value.lowerBound] == UInt8(ascii: "t")
            case .null: stream = false
            default: throw GatewayError(.invalidField, "Invalid type for 'stream': expected a boolean.", param: "stream")
            }
        }
        var askedForUsage = false
        if let options = spans[3], options.kind == .object {
            askedForUsage = JSONDocument.parse(UnsafeRawBufferPointer(rebasing: body[options.value]))?
                .member("include_usage")?.bool ?? false
        }
        var outputCap: Int64?
        // `max_completion_tokens` first, then the older `max_tokens`.
        for index in 4...5 {
            if let span = spans[index], span.kind == .number, outputCap == nil,
               let cap = Int64(String(decoding: UnsafeRawBufferPointer(rebasing: body[span.value]), as: UTF8.self)) {
                // Kept within 0...2⁴⁰ for the reservation: `max_tokens: 9223372036854775807` once
                // overflowed the estimate (prompt + cap) and crashed the gateway. The provider
                // still gets the client's value and judges it.
                outputCap = min(max(cap, 0), Self.maxOutputCap)
            }
        }
        return ChatRequestFields(modelID: JSONTopLevelScanner.decodeString(body, span: model.value), modelSpan: model.value,
                                 stream: stream, streamOptions: spans[3], clientAskedForUsage: askedForUsage,
                                 outputCap: outputCap, bodyBytes: body.count)
    }

    func callAsFunction(_ modelID: String, caller: Caller, clientAPI: WireAPI) throws(GatewayError) -> ResolvedModel {
        let index = try Self.usableModel(modelID, caller: caller, catalog: catalog)
        let model = catalog.config.models[index]
        let provider = catalog.config.providers[model.provider]
        guard provider.apis.contains(clientAPI) else {
            throw GatewayError(.unsupportedAPI, "The model '\(modelID)' is served by provider '\(provider.id)' in the \(provider.apis.map(\.rawValue).joined(separator: ", ")) format, which this endpoint (\(clientAPI.rawValue)) cannot reach yet.", param: "model")
        }
        if case .unavailable = secrets.credentials[model.provider] {
            throw GatewayError(.providerNotConfigured, "The provider '\(provider.id)' behind model '\(modelID)' is not configured on this gateway (its credentials are missing). Ask your admin to set them.")
        }
        return ResolvedModel(index: index, model: model, provider: provider, providerIndex: model.provider,
                             quotedUpstreamID: catalog.quotedUpstreamIDs[index])
    }

    /// The index of a model the caller may use (known, active, on the plan), or the error saying
    /// which of those it is not. Shared with `GET /v1/models/{model}`.
    static func usableModel(_ modelID: String, caller: Caller, catalog: ModelCatalog) throws(GatewayError) -> Int {
        guard let index = catalog.model(named: modelID) else {
            throw GatewayError(.unknownModel, "The model '\(modelID)' does not exist. GET /v1/models lists the models your key can use.", param: "model")
        }
        guard catalog.config.models[index].active else {
            throw GatewayError(.inactiveModel, "The model '\(modelID)' has been retired and is no longer served. GET /v1/models lists the models your key can use.", param: "model")
        }
        guard caller.plan.allows(index) else {
            throw GatewayError(.modelNotOnPlan, "The model '\(modelID)' is not available on your plan '\(caller.plan.plan.id)'. GET /v1/models lists the models your key can use.", param: "model")
        }
        return index
    }
}
