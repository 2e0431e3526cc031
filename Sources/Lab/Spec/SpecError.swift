/// A problem with an experiment spec file. The description names the file, the key path, the value and
/// what is allowed, so the user can fix it without reading the source.
public struct SpecError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The spec file's path as given.
    public let file: String
    /// The key path, e.g. `axes.concurrency[2]`; empty for whole-file problems.
    public let keyPath: String
    /// What is wrong and what is allowed.
    public let message: String

    public init(file: String, keyPath: String, message: String) {
        self.file = file
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        keyPath.isEmpty ? "\(file): \(message)" : "\(file): \(keyPath): \(message)"
    }
}

/// Several spec problems at once, so the user can fix them all in one go.
public struct SpecErrors: Error, CustomStringConvertible, Sendable {
    /// Every problem found, in file order.
    public let errors: [SpecError]

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
