import SwitchyardJSON

/// `GET /v1/models/{model}` (the SDKs' `models.retrieve`): one model the caller's plan allows, as
/// the entry `GET /v1/models` lists for it (an alias answers with the model's public id). A model
/// the caller cannot use gets the error a chat completion naming it would get.
struct RetrieveModel {
    let catalog: ModelCatalog

    func callAsFunction(_ modelID: String, caller: Caller) throws(GatewayError) -> [UInt8] {
        let index = try ResolveModel.usableModel(modelID, caller: caller, catalog: catalog)
        return ListModels.entry(catalog, index).serialized()
    }
}
