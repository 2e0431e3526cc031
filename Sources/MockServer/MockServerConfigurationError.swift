/// A configuration value the mock server cannot use. The description names the key, the value and what is allowed.
public struct MockServerConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case invalid
        case decoding
    }

    private let code: Code
    /// The offending key, e.g. `latency.jitter` or `--error-rate`.
    public let key: String
    /// The offending value as given.
    public let value: String
    /// What would have been accepted.
    public let allowed: String

    /// A value outside what `key` allows.
    public static func invalid(key: String, value: String, allowed: String) -> MockServerConfigurationError {
        .init(code: .invalid, key: key, value: value, allowed: allowed)
    }

    /// A JSON document that does not decode; `source` names the file or flag it came from.
    static func decoding(source: String, _ error: DecodingError) -> MockServerConfigurationError {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }
            let joined = keys.joined()
            return joined.hasPrefix(".") ? String(joined.dropFirst()) : (joined.isEmpty ? "(top level)" : joined)
        }
        switch error {
        case .typeMismatch(let type, let context):
            return .init(
                code: .decoding, key: "\(source): \(path(context))", value: context.debugDescription,
                allowed: "a value of type \(type)")
        case .valueNotFound(let type, let context):
            return .init(
                code: .decoding, key: "\(source): \(path(context))", value: "null",
                allowed: "a value of type \(type)")
        case .keyNotFound(let key, let context):
            let parent = path(context)
            let full = parent == "(top level)" ? key.stringValue : "\(parent).\(key.stringValue)"
            return .init(code: .decoding, key: "\(source): \(full)", value: "missing", allowed: "a value (required)")
        case .dataCorrupted(let context):
            return .init(
                code: .decoding, key: "\(source): \(path(context))", value: context.debugDescription,
                allowed: "valid JSON matching the mock server configuration")
        @unknown default:
            return .init(code: .decoding, key: source, value: "\(error)", allowed: "a valid configuration")
        }
    }

    /// A short, bounded label for tables: `invalid-config` or `bad-config-json`.
    public var label: String {
        switch code {
        case .invalid: "invalid-config"
        case .decoding: "bad-config-json"
        }
    }

    /// What went wrong and how to fix it.
    public var description: String {
        switch code {
        case .invalid:
            "invalid mock server configuration: \(key) = \(value); allowed: \(allowed)"
        case .decoding:
            "cannot read mock server configuration at \(key): \(value); expected \(allowed)"
        }
    }
}
