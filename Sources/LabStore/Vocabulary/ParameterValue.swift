import AsyncPatterns

/// A parameter value of a cell: the experiment's axes and fixed settings are made of these, and `cells.params` holds
/// them as canonical JSON.
public enum ParameterValue: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    case int(Int)
    case double(Double)
    case string(String)

    /// The canonical JSON text of the value (integers without a fraction, doubles in shortest form).
    public var json: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
        case .string(let v): return JSONString.quoted(v)
        }
    }

    /// The value as shown to people.
    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
        case .string(let v): return v
        }
    }

    /// The value as a double, when numeric.
    public var number: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        case .string: return nil
        }
    }

    /// The text, when the value is a string.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public static func < (lhs: ParameterValue, rhs: ParameterValue) -> Bool {
        if let l = lhs.number, let r = rhs.number { return l < r }
        return lhs.description < rhs.description
    }

    /// Decodes a JSON number (a whole number that fits an `Int` as `.int`) or string; throws
    /// `DecodingError.typeMismatch` for anything else (a boolean, null, a list or an object).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            throw DecodingError.typeMismatch(
                ParameterValue.self,
                .init(codingPath: decoder.codingPath, debugDescription: "expected a number or a string"))
        }
    }

    /// Encodes the value as a JSON number or string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        }
    }
}
