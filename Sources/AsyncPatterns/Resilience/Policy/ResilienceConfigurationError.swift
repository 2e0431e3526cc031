/// A resilience configuration value that is not allowed. Its description names the key path, the value and what
/// is allowed, e.g. "retry.maxAttempts: 0 is not allowed; use an integer from 1 to 100".
public struct ResilienceConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case invalidValue
        case unknownKey
    }

    private let code: Code
    /// The key path of the offending value, e.g. "retry.maxAttempts".
    public let keyPath: String
    /// The offending value as written, e.g. "0" or "\"fulll\"".
    public let value: String
    /// What is allowed instead, e.g. "use an integer from 1 to 100".
    public let allowed: String

    private init(code: Code, keyPath: String, value: String, allowed: String) {
        self.code = code
        self.keyPath = keyPath
        self.value = value
        self.allowed = allowed
    }

    /// A value out of range or of the wrong kind.
    public static func invalidValue(_ keyPath: String, _ value: String, allowed: String) -> Self {
        Self(code: .invalidValue, keyPath: keyPath, value: value, allowed: allowed)
    }

    /// A key that the configuration does not have (usually a typo).
    public static func unknownKey(_ keyPath: String, allowedKeys: [String]) -> Self {
        Self(
            code: .unknownKey, keyPath: keyPath, value: "",
            allowed: "use one of " + allowedKeys.joined(separator: ", "))
    }

    /// A short stable label, as stored in the database.
    public var label: String {
        switch code {
        case .invalidValue: "invalid_value"
        case .unknownKey: "unknown_key"
        }
    }

    public var description: String {
        switch code {
        case .invalidValue: "\(keyPath): \(value) is not allowed; \(allowed)"
        case .unknownKey: "\(keyPath): unknown key; \(allowed)"
        }
    }
}

/// Renders a number the way a user would have typed it: 3 for 3.0, 0.25 for 0.25.
func resilienceNumberText(_ value: Double) -> String {
    if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
}

/// A coding key for any name, used to reject unknown keys.
struct ConfigurationKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Strict decoding helpers: unknown keys and wrong types become `ResilienceConfigurationError`s naming the key path.
struct ConfigurationReader {
    let container: KeyedDecodingContainer<ConfigurationKey>
    let path: String

    init(_ decoder: any Decoder, keys: [String]) throws {
        container = try decoder.container(keyedBy: ConfigurationKey.self)
        path = decoder.codingPath.map(\.stringValue).joined(separator: ".")
        for key in container.allKeys where !keys.contains(key.stringValue) {
            throw ResilienceConfigurationError.unknownKey(keyPath(key.stringValue), allowedKeys: keys)
        }
    }

    func keyPath(_ name: String) -> String {
        path.isEmpty ? name : path + "." + name
    }

    /// Whether `name` is present and not null.
    func has(_ name: String) -> Bool {
        let key = ConfigurationKey(name)
        guard container.contains(key) else { return false }
        return (try? container.decodeNil(forKey: key)) != true
    }

    /// Whether `name` is present, even as null.
    func mentions(_ name: String) -> Bool {
        container.contains(ConfigurationKey(name))
    }

    /// The value of `name`, or nil when absent or null; `expected` describes the allowed values.
    func optional<T: Decodable>(_ name: String, _ type: T.Type, expected: String) throws -> T? {
        guard has(name) else { return nil }
        let key = ConfigurationKey(name)
        do {
            return try container.decode(T.self, forKey: key)
        } catch let error as ResilienceConfigurationError {
            throw error
        } catch {
            throw ResilienceConfigurationError.invalidValue(keyPath(name), rawValue(key), allowed: expected)
        }
    }

    /// The value of `name`, or `fallback` when absent or null.
    func value<T: Decodable>(_ name: String, default fallback: T, expected: String) throws -> T {
        try optional(name, T.self, expected: expected) ?? fallback
    }

    /// A string value of `name` mapped through `choices`, or `fallback` when absent.
    func choice<T>(_ name: String, _ choices: [(String, T)], default fallback: T) throws -> T {
        let expected = "use one of " + choices.map { "\"\($0.0)\"" }.joined(separator: ", ")
        guard let text = try optional(name, String.self, expected: expected) else { return fallback }
        guard let match = choices.first(where: { $0.0 == text }) else {
            throw ResilienceConfigurationError.invalidValue(keyPath(name), "\"\(text)\"", allowed: expected)
        }
        return match.1
    }

    /// A list of error-class labels under `name`, or nil when absent.
    func errorClasses(_ name: String) throws -> [ErrorClass]? {
        let labels = ErrorClass.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        let expected = "use a list of error classes from " + labels
        guard let texts = try optional(name, [String].self, expected: expected) else { return nil }
        return try texts.map { text in
            guard let errorClass = ErrorClass(rawValue: text) else {
                throw ResilienceConfigurationError.invalidValue(keyPath(name), "\"\(text)\"", allowed: expected)
            }
            return errorClass
        }
    }

    private func rawValue(_ key: ConfigurationKey) -> String {
        if let text = try? container.decode(String.self, forKey: key) { return "\"\(text)\"" }
        if let number = try? container.decode(Double.self, forKey: key) { return resilienceNumberText(number) }
        if let flag = try? container.decode(Bool.self, forKey: key) { return String(flag) }
        if (try? container.decode([ConfigurationKey.AnyValue].self, forKey: key)) != nil { return "a list" }
        return "an object"
    }
}

extension ConfigurationKey {
    /// Decodes any JSON value, to tell a list from an object in messages.
    struct AnyValue: Decodable {
        init(from decoder: any Decoder) throws {}
    }
}
