import Foundation

/// Runs `body` with a fresh temporary folder (named after `label`), and removes the folder afterwards.
public func withTemporaryFolder<R>(_ label: String = "test", _ body: (URL) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}
