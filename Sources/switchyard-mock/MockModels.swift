/// `GET /v1/models`: a fixed list, enough for clients that probe the endpoint at startup.
enum MockModels {
    static let ids = ["mock-gpt", "mock-gpt-mini", "mock-reasoner"]
    static let created = 1_700_000_000

    static func modelJSON(id: String) -> String {
        "{\"id\":" + JSONText.quoted(id) + ",\"object\":\"model\",\"created\":\(created),\"owned_by\":\"switchyard-mock\"}"
    }

    static let listJSON = "{\"object\":\"list\",\"data\":[" + ids.map(modelJSON).joined(separator: ",") + "]}"
}
