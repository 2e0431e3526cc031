import AsyncPatterns
import Foundation

/// A cell's parameters, as `cells.params` stores them: the value of each `ParameterName`, plus the stored keys that
/// name no parameter (`engine`, which the runner adds to every cell, and names that older or synthetic databases
/// carry). Those are kept, not dropped, so that the canonical text, and with it the cell's id and seed, reads back
/// byte for byte.
///
/// The runner writes `canonicalJSON` and the report decodes it with `init(json:)`.
public struct CellParameters: Sendable, Hashable, Codable {
    /// The parameters' values, by name.
    public var values: [ParameterName: ParameterValue]
    /// Stored keys that name no parameter, with their values.
    public var others: [String: ParameterValue]

    /// Parameters from typed values and other keys.
    public init(values: [ParameterName: ParameterValue] = [:], others: [String: ParameterValue] = [:]) {
        self.values = values
        self.others = others
    }

    /// Parameters from values keyed by their stored names: a key that is a `ParameterName` goes to `values`, typed
    /// by `ParameterName.typed(_:)`, any other to `others`.
    public init(_ byKey: [String: ParameterValue]) {
        self.init()
        for (key, value) in byKey { self[key: key] = value }
    }

    /// Decodes the canonical text of `cells.params`.
    ///
    /// - Throws: `StoreError` when the text is not a JSON object whose values are numbers or strings.
    public init(json: String) throws {
        do {
            self = try JSONDecoder().decode(CellParameters.self, from: Data(json.utf8))
        } catch {
            throw StoreError.badParameters(json, reason: "\(error)")
        }
    }

    /// A parameter's value, or nil when the cell does not store it.
    public subscript(_ name: ParameterName) -> ParameterValue? {
        get { values[name] }
        set { values[name] = newValue.map(name.typed) }
    }

    /// The value stored under a key, a parameter's name or another key (such as `engine`), or nil.
    public subscript(key key: String) -> ParameterValue? {
        get {
            guard let name = ParameterName(rawValue: key) else { return others[key] }
            return values[name]
        }
        set {
            if let name = ParameterName(rawValue: key) {
                self[name] = newValue
            } else {
                others[key] = newValue
            }
        }
    }

    /// The engine the cell ran, as the runner stores it among the parameters; nil when not stored.
    public var engine: String? { others["engine"]?.string }

    /// Every stored key, parameters and others, sorted.
    public var keys: [String] { (values.keys.map(\.rawValue) + others.keys).sorted() }

    /// The parameters without the given keys.
    public func removing(_ keys: Set<String>) -> CellParameters {
        CellParameters(
            values: values.filter { !keys.contains($0.key.rawValue) }, others: others.filter { !keys.contains($0.key) })
    }

    /// The parameters as canonical JSON, the text stored in `cells.params` that cell ids and seeds are taken over:
    /// keys sorted, no spaces, each value's `ParameterValue.json`.
    public var canonicalJSON: String {
        "{" + keys.map { "\(JSONString.quoted($0)):\(self[key: $0]!.json)" }.joined(separator: ",") + "}"
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Decodes a JSON object of numbers and strings.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        self.init()
        for key in container.allKeys {
            self[key: key.stringValue] = try container.decode(ParameterValue.self, forKey: key)
        }
    }

    /// Encodes a JSON object of every stored key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for key in keys { try container.encode(self[key: key]!, forKey: Key(stringValue: key)) }
    }
}
