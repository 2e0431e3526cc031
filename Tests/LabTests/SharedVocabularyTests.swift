import Foundation
import LabStore
import Testing

@testable import Lab

/// The runner's names and the shared vocabulary in LabStore, which the report uses, are the same: the parameter
/// registry and `ParameterName` (and the spec loader accepts each name as an axis), the engines and `EngineName`.
@Suite struct SharedVocabularyTests {
    @Test func engineNamesAreTheRunnersEngines() {
        #expect(EngineName.allCases.map(\.rawValue) == CellEngine.allCases.map(\.rawValue))
    }

    @Test func registryHoldsEveryParameterName() {
        #expect(Set(Parameters.registry.keys) == Set(ParameterName.allCases))
        #expect(Parameters.names == ParameterName.allCases.map(\.rawValue).sorted())
    }

    /// Each name, swept over its default value, loads: the chart axes the report knows are names a spec can use.
    @Test(arguments: ParameterName.allCases)
    func loaderAcceptsTheNameAsAnAxis(name: ParameterName) throws {
        let value = name.defaultValue.json
        // A limiter wait is only accepted beside a limiter.
        let fixed = name == .acquireTimeoutMs ? #"{"limiter": "limit:8"}"# : "{}"
        let spec = """
            {"name": "axis", "question": "q", "engines": ["async"], "axes": {"\(name.rawValue)": [\(value)]},
             "fixed": \(fixed), "requests": 10, "seed": 1}
            """
        let loaded = try ExperimentSpec.load(path: try writeSpec(spec))
        #expect(loaded.name == "axis")
    }

    /// The registry's check of each parameter and the value type the store and the report read it as agree, and the
    /// default passes the check.
    @Test(arguments: ParameterName.allCases)
    func registryKindMatchesTheValueType(name: ParameterName) throws {
        let kind = try #require(Parameters.registry[name]).kind
        switch (kind, name.valueType) {
        case (.integer, .integer), (.number, .number), (.choice, .text), (.path, .text): break
        case (.setting(let syntax), _):
            let expected: ParameterName.ValueType = name == .acquireTimeoutMs ? .numberOrText : .text
            #expect(name.valueType == expected)
            let json: SpecValue =
                switch name.defaultValue {
                case .int(let v): .number(Double(v), exact: v)
                case .double(let v): .number(v, exact: nil)
                case .string(let v): .string(v)
                }
            #expect(syntax.parse(json) == name.defaultValue)
        default: Issue.record("\(name): registry kind \(kind) but value type \(name.valueType)")
        }
        if case .choice(let words) = kind { #expect(name.defaultValue.string.map(words.contains) == true) }
    }

    /// Spellings the report's chart planner used to look for, which no spec can set.
    @Test(arguments: ["offeredRate", "arrivalRate", "error_rate", "failureRate", "retryBudget", "retry_budget"])
    func formerChartSpellingsAreNotParameters(spelling: String) {
        #expect(ParameterName(rawValue: spelling) == nil)
        #expect(Parameters.definitions[spelling] == nil)
    }
}
