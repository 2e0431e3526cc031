import LabStore

extension JSONValue {
    /// A parameter value as JSON: a number or a string.
    init(_ value: ParameterValue) {
        switch value {
        case .int(let v): self = .number(Double(v))
        case .double(let v): self = .number(v)
        case .string(let v): self = .string(v)
        }
    }

    /// Cell parameters as a JSON object, keys sorted as in their canonical text.
    init(_ parameters: CellParameters) {
        self = .object(parameters.keys.map { ($0, JSONValue(parameters[key: $0]!)) })
    }
}
