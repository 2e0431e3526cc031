import Foundation
import LabStore

/// A JSON value of a spec file, decoded once with `JSONDecoder`; the validator reads the spec's generic parts
/// (axis values, filters, the `server` and `resilience` objects) from it into typed values, naming the key path
/// of every problem.
enum SpecValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    /// A number; `exact` is its value when the text is a whole number that fits an `Int` (so that seeds above
    /// 2^53 keep every digit).
    case number(Double, exact: Int?)
    case string(String)
    case array([SpecValue])
    case object([String: SpecValue])

    /// Decodes any JSON value.
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .number(Double(value), exact: value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value, exact: nil)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([SpecValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: SpecValue].self))
        }
    }

    /// Encodes the value back to the same JSON (whole numbers without a fraction).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(_, let exact?): try container.encode(exact)
        case .number(let value, nil): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let values): try container.encode(values)
        case .object(let members): try container.encode(members)
        }
    }

    /// The value as compact JSON with sorted keys.
    func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    /// The members, if the value is an object.
    var objectValue: [String: SpecValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The elements, if the value is a list.
    var arrayValue: [SpecValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    /// The text, if the value is a string.
    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The number, if the value is a finite number (never a boolean).
    var numberValue: Double? {
        if case .number(let value, _) = self, value.isFinite { return value }
        return nil
    }

    /// The whole number, if the value is a number without a fraction that fits an `Int`.
    var intValue: Int? {
        guard case .number(let value, let exact) = self else { return nil }
        if let exact { return exact }
        guard value == value.rounded(), abs(value) < 9e18 else { return nil }
        return Int(value)
    }

    /// The value as named in messages: `the number 3`, `the string "x"`, `a list`, `an object`, `null`.
    var described: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let value, _): return "the number \(ParameterValue.double(value))"
        case .string(let text): return "the string \"\(text)\""
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}
