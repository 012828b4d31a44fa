import SwitchyardJSON

/// `GET /v1/models`: the active models the caller's plan allows, in OpenAI's list format.
struct ListModels {
    let catalog: ModelCatalog

    func callAsFunction(_ caller: Caller) -> [UInt8] {
        let data = JSONDocument.array()
        for index in caller.plan.allowedModels where catalog.config.models[index].active {
            data.append(Self.entry(catalog, index))
        }
        let root = JSONDocument.object()
        root.set("object", "list")
        root.set("data", data)
        return root.serialized()
    }

    /// One model in OpenAI's model-object format.
    static func entry(_ catalog: ModelCatalog, _ index: Int) -> JSONDocument {
        let model = catalog.config.models[index]
        let entry = JSONDocument.object()
        entry.set("id", model.id)
        entry.set("object", "model")
        entry.set("created", Int(model.created))
        entry.set("owned_by", catalog.config.providers[model.provider].id)
        return entry
    }
}
