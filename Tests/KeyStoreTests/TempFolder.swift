import Foundation

/// A fresh folder under the system temp dir for one test, removed by `remove()`.
struct TempFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("keystore-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// The LMDB environment folder inside the data folder.
    var environmentPath: String { path + "/keys" }
}
