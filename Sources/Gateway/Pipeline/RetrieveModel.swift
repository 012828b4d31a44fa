import SwitchyardJSON

/// `GET /v1/models/{model}` (the SDKs' `models.retrieve`): one model the caller's plan allows, as
/// the entry `GET /v1/models` lists for it (an alias answers with the model's public id). A model
/// the caller cannot use gets the error a chat completion naming it would get.
struct RetrieveModel {
    let catalog: ModelCatalog

    /// `pathParameter`: the id as it came in the path, percent-encoded.
    func callAsFunction(_ pathParameter: Substring, caller: Caller) throws(GatewayError) -> [UInt8] {
        // An id with a malformed escape can name no model.
        guard let modelID = Self.percentDecoded(pathParameter) else {
            throw GatewayError(.unknownModel, "The model '\(pathParameter)' does not exist. GET /v1/models lists the models your key can use.", param: "model")
        }
        let index = try ResolveModel.usableModel(modelID, caller: caller, catalog: catalog)
        return ListModels.entry(catalog, index).serialized()
    }

    /// `%XX` escapes decoded (clients escape `/` and other reserved characters in an id); nil for
    /// a malformed escape or bytes that are not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        func hex(_ byte: UInt8?) -> UInt8? {
            switch byte {
            case let b? where b >= 0x30 && b <= 0x39: return b - 0x30
            case let b? where b >= 0x41 && b <= 0x46: return b - 0x41 + 10
            case let b? where b >= 0x61 && b <= 0x66: return b - 0x61 + 10
            default: return nil
            }
        }
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = hex(iterator.next()), let low = hex(iterator.next()) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

