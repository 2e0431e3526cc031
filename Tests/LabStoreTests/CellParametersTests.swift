import Foundation
import TestSupport
import Testing

@testable import LabStore

/// `CellParameters` is the one model of `cells.params`: the runner writes its canonical text, the report decodes it.
/// The text must stay byte for byte what databases written before the type hold, or cell ids, seeds, `--resume` and
/// `merge` stop recognising their cells.
@Suite struct CellParametersTests {
    /// `Tests/LabTests/Fixtures/pre-vocabulary.sqlite`, written by the runner before parameters were typed.
    private static let preVocabulary = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("LabTests/Fixtures/pre-vocabulary.sqlite")

    /// The cells of a copy of the fixture (so the test never writes the committed file).
    private func storedCells() throws -> [CellRecord] {
        try withTemporaryFolder("cell-parameters") { folder in
            let path = folder.appendingPathComponent("old.sqlite").path
            try FileManager.default.copyItem(atPath: Self.preVocabulary.path, toPath: path)
            return try LabStore.openForReading(path: path).cells()
        }
    }

    /// Every parameter at its default, plus the runner's `engine`.
    private var defaults: CellParameters {
        var parameters = CellParameters(others: ["engine": .string("async")])
        for name in ParameterName.allCases { parameters[name] = name.defaultValue }
        return parameters
    }

    @Test func canonicalTextRoundTrips() throws {
        var parameters = defaults
        parameters[.errorRate] = .double(0.25)
        parameters[.budget] = .string("ratio:0.1")
        parameters[key: "retry"] = .string("exponential")
        let text = parameters.canonicalJSON
        let decoded = try CellParameters(json: text)
        #expect(decoded == parameters)
        #expect(decoded.canonicalJSON == text)
        #expect(decoded.keys == decoded.keys.sorted())
        // Codable through JSONEncoder reads back to the same parameters too.
        #expect(try JSONDecoder().decode(CellParameters.self, from: JSONEncoder().encode(parameters)) == parameters)
    }

    @Test func canonicalTextIsTheStoredText() throws {
        let cells = try storedCells()
        #expect(cells.count == 6)
        for cell in cells {
            let parameters = try CellParameters(json: cell.params)
            #expect(parameters.canonicalJSON == cell.params, "cell \(cell.cellKey)")
            #expect(parameters.engine == cell.engine)
            #expect(parameters[.concurrency] == .int(cell.concurrency))
            #expect(parameters[.errorRate] == .double(0.2))
            #expect(parameters[.budget] == .string("token:10"))
            // Every parameter a cell stores at its default; the later ones only when set away from it.
            #expect(Set(parameters.values.keys) == Set(ParameterName.allCases.filter(\.isStoredAtDefault)))
            #expect(parameters.others.keys.sorted() == ["engine"])
        }
    }

    /// Whole numbers read back in their parameter's type, so a decoded cell equals the one the runner planned.
    @Test func wholeNumbersTakeTheParametersType() throws {
        let parameters = try CellParameters(json: #"{"acquireTimeoutMs":5,"concurrency":4,"latencyMs":10,"x":2}"#)
        #expect(parameters[.concurrency] == .int(4))
        #expect(parameters[.latencyMs] == .double(10))
        #expect(parameters[.acquireTimeoutMs] == .double(5))
        #expect(parameters[key: "x"] == .int(2))
    }

    /// Keys that name no parameter (older or synthetic databases) are kept, so their text does not change.
    @Test func unknownKeysAreKept() throws {
        let text = #"{"concurrency":2,"engine":"sync","retry":"none","seed":7}"#
        let parameters = try CellParameters(json: text)
        #expect(parameters.others == ["engine": .string("sync"), "retry": .string("none"), "seed": .int(7)])
        #expect(parameters.canonicalJSON == text)
        #expect(parameters.removing(["seed", "engine"]).canonicalJSON == #"{"concurrency":2,"retry":"none"}"#)
    }

    @Test(arguments: [#"{"breaker":true}"#, #"{"concurrency":null}"#, #"[1]"#, "not json"])
    func textThatIsNoParametersThrows(text: String) {
        #expect {
            try CellParameters(json: text)
        } throws: { error in
            (error as? StoreError)?.label == "bad_parameters"
        }
    }

    /// Each default is of its parameter's value type.
    @Test(arguments: ParameterName.allCases)
    func defaultHasTheValueType(name: ParameterName) {
        #expect(name.typed(name.defaultValue) == name.defaultValue)
        switch (name.valueType, name.defaultValue) {
        case (.integer, .int), (.number, .double), (.text, .string), (.numberOrText, .double),
            (.numberOrText, .string):
            break
        default: Issue.record("\(name): default \(name.defaultValue) is not a \(name.valueType)")
        }
    }
}
