import Foundation
import LabStore

/// Walks the parsed JSON, collecting every problem with its key path.
struct SpecValidator {
    let file: String
    var errors: [SpecError] = []

    init(file: String) {
        self.file = file
    }

    mutating func fail(_ keyPath: String, _ message: String) {
        errors.append(SpecError(file: file, keyPath: keyPath, message: message))
    }

    mutating func object(_ value: SpecValue?, _ keyPath: String) -> [String: SpecValue]? {
        guard let value else { return nil }
        guard let dict = value.objectValue else {
            fail(keyPath, "expected an object {…}, found \(value.described)")
            return nil
        }
        return dict
    }

    mutating func checkKeys(_ dict: [String: SpecValue], allowed: [String], _ keyPath: String) {
        for key in dict.keys.sorted() where !allowed.contains(key) {
            let path = keyPath.isEmpty ? key : "\(keyPath).\(key)"
            fail(path, "unknown key.\(didYouMean(key, among: allowed)) Allowed: \(allowed.joined(separator: ", ")).")
        }
    }

    mutating func integer(_ value: SpecValue?, _ keyPath: String, range: ClosedRange<Int>, default def: Int) -> Int {
        guard let value else { return def }
        guard let int = value.intValue else {
            fail(
                keyPath,
                "expected a whole number from \(range.lowerBound) to \(range.upperBound), found \(value.described)")
            return def
        }
        guard range.contains(int) else {
            fail(keyPath, "\(int) is out of range; use a whole number from \(range.lowerBound) to \(range.upperBound)")
            return def
        }
        return int
    }

    /// A number of seconds above 0 and at most `ExperimentSpec.maximumMeasuredSeconds`, or `def` when absent.
    mutating func seconds(_ value: SpecValue?, _ keyPath: String, default def: Double?) -> Double? {
        guard let value else { return def }
        let allowed =
            "a number of seconds above 0 and at most \(format(ExperimentSpec.maximumMeasuredSeconds)), "
            + "such as 2 or 0.5"
        guard let seconds = value.numberValue else {
            fail(keyPath, "expected \(allowed), found \(value.described)")
            return def
        }
        guard seconds > 0, seconds <= ExperimentSpec.maximumMeasuredSeconds else {
            fail(keyPath, "\(format(seconds)) is out of range; use \(allowed)")
            return def
        }
        return seconds
    }

    mutating func string(_ value: SpecValue?, _ keyPath: String, required: Bool) -> String? {
        guard let value else {
            if required { fail(keyPath, "is required") }
            return nil
        }
        guard let text = value.stringValue else {
            fail(keyPath, "expected a string, found \(value.described)")
            return nil
        }
        return text
    }

    mutating func parameter(_ name: String, _ value: SpecValue, _ keyPath: String) -> ParameterValue? {
        guard let definition = Parameters.definitions[name] else { return nil }
        switch definition.kind {
        case .integer(let range):
            guard let int = value.intValue else {
                fail(
                    keyPath,
                    "expected a whole number from \(range.lowerBound) to \(range.upperBound), found \(value.described)")
                return nil
            }
            guard range.contains(int) else {
                fail(keyPath, "\(int) is out of range; \(name) must be from \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
            return .int(int)
        case .number(let range):
            guard let double = value.numberValue else {
                fail(
                    keyPath,
                    "expected a number from \(format(range.lowerBound)) to \(format(range.upperBound)), found \(value.described)"
                )
                return nil
            }
            guard range.contains(double) else {
                fail(
                    keyPath,
                    "\(format(double)) is out of range; \(name) must be from \(format(range.lowerBound)) to \(format(range.upperBound))"
                )
                return nil
            }
            return .double(double)
        case .choice(let words):
            guard let text = value.stringValue else {
                fail(keyPath, "expected one of \(words.joined(separator: ", ")), found \(value.described)")
                return nil
            }
            guard words.contains(text) else {
                fail(
                    keyPath,
                    "`\(text)` is not allowed.\(didYouMean(text, among: words)) Allowed: \(words.joined(separator: ", "))."
                )
                return nil
            }
            return .string(text)
        case .path:
            guard let text = value.stringValue, text.hasPrefix("/"), !text.contains(where: { $0.isWhitespace }) else {
                fail(keyPath, "expected a URL path starting with `/` and without spaces, found \(value.described)")
                return nil
            }
            return .string(text)
        case .setting(let syntax):
            guard let parsed = syntax.parse(value) else {
                fail(keyPath, "expected \(syntax.allowed), found \(value.described)")
                return nil
            }
            return parsed
        }
    }

    /// Whether `name` is a cell parameter; records an error at `path` with "did you mean" when not.
    private mutating func isKnownParameter(_ name: String, _ path: String) -> Bool {
        if Parameters.definitions[name] != nil { return true }
        let allowed = Parameters.names.joined(separator: ", ")
        fail(path, "unknown parameter.\(didYouMean(name, among: Parameters.names)) Allowed: \(allowed).")
        return false
    }

    mutating func parameters(_ value: SpecValue?, _ keyPath: String) -> [String: ParameterValue] {
        guard let dict = object(value, keyPath) else { return [:] }
        var result: [String: ParameterValue] = [:]
        for key in dict.keys.sorted() {
            let path = "\(keyPath).\(key)"
            guard isKnownParameter(key, path) else { continue }
            if let parsed = parameter(key, dict[key]!, path) { result[key] = parsed }
        }
        return result
    }

    mutating func axes(_ value: SpecValue?, _ keyPath: String) -> [(name: String, values: [ParameterValue])] {
        guard let dict = object(value, keyPath) else { return [] }
        var result: [(name: String, values: [ParameterValue])] = []
        for key in dict.keys.sorted() {
            let path = "\(keyPath).\(key)"
            guard isKnownParameter(key, path) else { continue }
            guard let list = dict[key]!.arrayValue else {
                fail(path, "expected a list of values […], found \(dict[key]!.described)")
                continue
            }
            guard !list.isEmpty else {
                fail(path, "is empty; give at least one value, or remove the axis")
                continue
            }
            var values: [ParameterValue] = []
            for (index, item) in list.enumerated() {
                if let parsed = parameter(key, item, "\(path)[\(index)]") {
                    if values.contains(parsed) {
                        fail("\(path)[\(index)]", "\(parsed) appears twice; each axis value must be distinct")
                    } else {
                        values.append(parsed)
                    }
                }
            }
            result.append((key, values))
        }
        return result
    }

    mutating func filters(_ value: SpecValue?, _ keyPath: String) -> [GridFilter] {
        guard let value else { return [] }
        guard let list = value.arrayValue else {
            fail(keyPath, "expected a list of filter objects, found \(value.described)")
            return []
        }
        var result: [GridFilter] = []
        for (index, item) in list.enumerated() {
            let path = "\(keyPath)[\(index)]"
            guard let dict = object(item, path) else { continue }
            if dict.isEmpty { fail(path, "an empty filter would remove every cell; give at least one condition") }
            var conditions: [String: GridFilter.Condition] = [:]
            for key in dict.keys.sorted() {
                let keyPath = "\(path).\(key)"
                let known = ["engine"] + Parameters.names
                guard known.contains(key) else {
                    fail(
                        keyPath,
                        "unknown parameter.\(didYouMean(key, among: known)) Allowed: \(known.joined(separator: ", ")).")
                    continue
                }
                let condition = dict[key]!
                if let range = condition.objectValue {
                    checkKeys(range, allowed: ["min", "max"], keyPath)
                    let low = range["min"]?.numberValue
                    let high = range["max"]?.numberValue
                    if low == nil && high == nil { fail(keyPath, "a range needs `min`, `max` or both, as numbers") }
                    conditions[key] = .range(min: low, max: high)
                } else {
                    let items = condition.arrayValue ?? [condition]
                    var values: [ParameterValue] = []
                    for item in items {
                        if key == "engine" {
                            if let word = item.stringValue, CellEngine(rawValue: word) != nil {
                                values.append(.string(word))
                            } else {
                                fail(
                                    keyPath,
                                    "expected an engine (\(CellEngine.allCases.map(\.rawValue).joined(separator: ", "))), found \(item.described)"
                                )
                            }
                        } else if let parsed = parameter(key, item, keyPath) {
                            values.append(parsed)
                        }
                    }
                    conditions[key] = .oneOf(values)
                }
            }
            result.append(GridFilter(conditions: conditions))
        }
        return result
    }

    /// The values `name` takes in the grid: its axis, else its fixed value, else its default.
    func values(
        of name: String, axes: [(name: String, values: [ParameterValue])], fixed: [String: ParameterValue]
    ) -> [ParameterValue] {
        if let axis = axes.first(where: { $0.name == name }) { return axis.values }
        return [fixed[name] ?? ParameterName(rawValue: name)!.defaultValue]
    }
}

func format(_ value: Double) -> String {
    ParameterValue.double(value).description
}
