import AsyncPatterns
import Foundation
import HTTPEngines
import MockServer
import Reporting

extension ExperimentSpec {
    static let topLevelKeys = [
        "name", "question", "engines", "axes", "fixed", "filters", "requests", "requestsPerWorker", "warmup",
        "minMeasuredSeconds", "repetitions", "seed", "server", "resilience", "quick", "notes", "answer",
    ]
    static let quickKeys = [
        "requests", "requestsPerWorker", "warmup", "minMeasuredSeconds", "repetitions", "axes", "fixed",
    ]
    /// The largest `minMeasuredSeconds`: one day.
    static let maximumMeasuredSeconds = 86_400.0

    /// Reads and validates a spec file. With `quick`, the spec's `quick` overrides apply.
    /// - Throws: `SpecErrors` listing every problem, each naming the file, the key path and what is allowed.
    public static func load(path: String, quick: Bool = false) throws(SpecErrors) -> ExperimentSpec {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            var message = "cannot read the spec file (\(Self.reason(error))). "
            let folder = (path as NSString).deletingLastPathComponent
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
            let specs = names.filter { $0.hasSuffix(".json") }.sorted()
            message += specs.isEmpty ? "Check the path." : "Specs in that folder: \(specs.joined(separator: ", "))."
            throw SpecErrors(errors: [SpecError(file: path, keyPath: "", message: message)])
        }
        return try parse(text: text, path: path, quick: quick)
    }

    private static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
            underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code))
        {
            return String(cString: strerror(code.rawValue))
        }
        return nsError.code == NSFileReadNoSuchFileError ? "no such file" : nsError.localizedDescription
    }

    /// Validates spec text; `path` is used in messages only.
    public static func parse(text: String, path: String, quick: Bool = false) throws(SpecErrors) -> ExperimentSpec {
        let root: Any
        do {
            root = try JSONText.parse(text, file: path)
        } catch {
            throw SpecErrors(errors: [error])
        }
        let duplicates = JSONText.duplicateKeys(in: text).map { duplicate in
            SpecError(
                file: path, keyPath: duplicate.keyPath,
                message:
                    "appears twice in one object, at line \(duplicate.first.line), column \(duplicate.first.column) "
                    + "and at line \(duplicate.second.line), column \(duplicate.second.column); JSON keeps only the "
                    + "last, so remove one")
        }
        if !duplicates.isEmpty { throw SpecErrors(errors: duplicates) }
        var v = Validator(file: path)
        let spec = v.spec(root, text: text, quick: quick)
        if !v.errors.isEmpty || spec == nil {
            throw SpecErrors(errors: v.errors)
        }
        let problems = spec!.cellProblems()
        if !problems.isEmpty { throw SpecErrors(errors: problems) }
        return spec!
    }
}

/// Walks the parsed JSON, collecting every problem with its key path.
private struct Validator {
    let file: String
    var errors: [SpecError] = []

    init(file: String) {
        self.file = file
    }

    mutating func fail(_ keyPath: String, _ message: String) {
        errors.append(SpecError(file: file, keyPath: keyPath, message: message))
    }

    mutating func object(_ value: Any?, _ keyPath: String) -> [String: Any]? {
        guard let value else { return nil }
        guard let dict = value as? [String: Any] else {
            fail(keyPath, "expected an object {…}, found \(describe(value))")
            return nil
        }
        return dict
    }

    mutating func checkKeys(_ dict: [String: Any], allowed: [String], _ keyPath: String) {
        for key in dict.keys.sorted() where !allowed.contains(key) {
            let path = keyPath.isEmpty ? key : "\(keyPath).\(key)"
            fail(path, "unknown key.\(didYouMean(key, among: allowed)) Allowed: \(allowed.joined(separator: ", ")).")
        }
    }

    mutating func integer(_ value: Any?, _ keyPath: String, range: ClosedRange<Int>, default def: Int) -> Int {
        guard let value else { return def }
        guard let number = value as? NSNumber, !isBool(number), let int = exactInt(number) else {
            fail(
                keyPath,
                "expected a whole number from \(range.lowerBound) to \(range.upperBound), found \(describe(value))")
            return def
        }
        guard range.contains(int) else {
            fail(keyPath, "\(int) is out of range; use a whole number from \(range.lowerBound) to \(range.upperBound)")
            return def
        }
        return int
    }

    /// A number of seconds above 0 and at most `ExperimentSpec.maximumMeasuredSeconds`, or `def` when absent.
    mutating func seconds(_ value: Any?, _ keyPath: String, default def: Double?) -> Double? {
        guard let value else { return def }
        let allowed =
            "a number of seconds above 0 and at most \(format(ExperimentSpec.maximumMeasuredSeconds)), "
            + "such as 2 or 0.5"
        guard let number = value as? NSNumber, !isBool(number), number.doubleValue.isFinite else {
            fail(keyPath, "expected \(allowed), found \(describe(value))")
            return def
        }
        let seconds = number.doubleValue
        guard seconds > 0, seconds <= ExperimentSpec.maximumMeasuredSeconds else {
            fail(keyPath, "\(format(seconds)) is out of range; use \(allowed)")
            return def
        }
        return seconds
    }

    mutating func string(_ value: Any?, _ keyPath: String, required: Bool) -> String? {
        guard let value else {
            if required { fail(keyPath, "is required") }
            return nil
        }
        guard let text = value as? String else {
            fail(keyPath, "expected a string, found \(describe(value))")
            return nil
        }
        return text
    }

    mutating func parameter(_ name: String, _ value: Any, _ keyPath: String) -> ParameterValue? {
        guard let definition = Parameters.definitions[name] else { return nil }
        switch definition.kind {
        case .integer(let range):
            guard let number = value as? NSNumber, !isBool(number), let int = exactInt(number) else {
                fail(
                    keyPath,
                    "expected a whole number from \(range.lowerBound) to \(range.upperBound), found \(describe(value))")
                return nil
            }
            guard range.contains(int) else {
                fail(keyPath, "\(int) is out of range; \(name) must be from \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
            return .int(int)
        case .number(let range):
            guard let number = value as? NSNumber, !isBool(number), number.doubleValue.isFinite else {
                fail(
                    keyPath,
                    "expected a number from \(format(range.lowerBound)) to \(format(range.upperBound)), found \(describe(value))"
                )
                return nil
            }
            let double = number.doubleValue
            guard range.contains(double) else {
                fail(
                    keyPath,
                    "\(format(double)) is out of range; \(name) must be from \(format(range.lowerBound)) to \(format(range.upperBound))"
                )
                return nil
            }
            return .double(double)
        case .choice(let words):
            guard let text = value as? String else {
                fail(keyPath, "expected one of \(words.joined(separator: ", ")), found \(describe(value))")
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
            guard let text = value as? String, text.hasPrefix("/"), !text.contains(where: { $0.isWhitespace }) else {
                fail(keyPath, "expected a URL path starting with `/` and without spaces, found \(describe(value))")
                return nil
            }
            return .string(text)
        case .budget:
            guard let text = value as? String, RetryBudgetSetting(text) != nil else {
                fail(
                    keyPath,
                    "expected `none`, `token:<max tokens from 1 to 10000>` or `ratio:<fraction from 0 to 1>`, found \(describe(value))"
                )
                return nil
            }
            return .string(text)
        case .setting(let syntax):
            guard let parsed = syntax.parse(value) else {
                fail(keyPath, "expected \(syntax.allowed), found \(describe(value))")
                return nil
            }
            return parsed
        }
    }

    mutating func parameters(_ value: Any?, _ keyPath: String) -> [String: ParameterValue] {
        guard let dict = object(value, keyPath) else { return [:] }
        var result: [String: ParameterValue] = [:]
        for key in dict.keys.sorted() {
            let path = "\(keyPath).\(key)"
            guard Parameters.definitions[key] != nil else {
                fail(
                    path,
                    "unknown parameter.\(didYouMean(key, among: Parameters.names)) Allowed: \(Parameters.names.joined(separator: ", "))."
                )
                continue
            }
            if let parsed = parameter(key, dict[key]!, path) { result[key] = parsed }
        }
        return result
    }

    mutating func axes(_ value: Any?, _ keyPath: String) -> [(name: String, values: [ParameterValue])] {
        guard let dict = object(value, keyPath) else { return [] }
        var result: [(name: String, values: [ParameterValue])] = []
        for key in dict.keys.sorted() {
            let path = "\(keyPath).\(key)"
            guard Parameters.definitions[key] != nil else {
                fail(
                    path,
                    "unknown parameter.\(didYouMean(key, among: Parameters.names)) Allowed: \(Parameters.names.joined(separator: ", "))."
                )
                continue
            }
            guard let list = dict[key] as? [Any] else {
                fail(path, "expected a list of values […], found \(describe(dict[key]!))")
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

    mutating func filters(_ value: Any?, _ keyPath: String) -> [GridFilter] {
        guard let value else { return [] }
        guard let list = value as? [Any] else {
            fail(keyPath, "expected a list of filter objects, found \(describe(value))")
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
                if let range = condition as? [String: Any] {
                    checkKeys(range, allowed: ["min", "max"], keyPath)
                    let low = (range["min"] as? NSNumber)?.doubleValue
                    let high = (range["max"] as? NSNumber)?.doubleValue
                    if low == nil && high == nil { fail(keyPath, "a range needs `min`, `max` or both, as numbers") }
                    conditions[key] = .range(min: low, max: high)
                } else {
                    let items = (condition as? [Any]) ?? [condition]
                    var values: [ParameterValue] = []
                    for item in items {
                        if key == "engine" {
                            if let word = item as? String, CellEngine(rawValue: word) != nil {
                                values.append(.string(word))
                            } else {
                                fail(
                                    keyPath,
                                    "expected an engine (\(CellEngine.allCases.map(\.rawValue).joined(separator: ", "))), found \(describe(item))"
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

    mutating func spec(_ root: Any, text: String, quick: Bool) -> ExperimentSpec? {
        guard let dict = object(root, "") else { return nil }
        checkKeys(dict, allowed: ExperimentSpec.topLevelKeys, "")
        let name = string(dict["name"], "name", required: true) ?? ""
        if dict["name"] is String, name.trimmingCharacters(in: .whitespaces).isEmpty {
            fail(
                "name", "is empty; name the experiment with ASCII letters, digits, `-` and `_` (it names report files)")
        }
        if !name.isEmpty,
            !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
                || !name.unicodeScalars.allSatisfy(\.isASCII)
        {
            fail("name", "`\(name)` may hold only ASCII letters, digits, `-` and `_` (it names report files)")
        }
        let question = string(dict["question"], "question", required: true) ?? ""
        if dict["question"] is String, question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            fail("question", "is empty; say what the experiment asks (its report answers it)")
        }
        _ = string(dict["notes"], "notes", required: false)

        var engines: [CellEngine] = []
        if let list = dict["engines"] as? [Any] {
            if list.isEmpty { fail("engines", "is empty; list at least one of sync, threaded, async") }
            for (index, item) in list.enumerated() {
                let allowed = CellEngine.allCases.map(\.rawValue)
                if let word = item as? String, let kind = CellEngine(rawValue: word) {
                    if engines.contains(kind) { fail("engines[\(index)]", "`\(word)` appears twice") }
                    engines.append(kind)
                } else {
                    let word = (item as? String) ?? describe(item)
                    fail(
                        "engines[\(index)]",
                        "unknown engine `\(word)`.\(didYouMean(word, among: allowed)) Allowed: \(allowed.joined(separator: ", "))."
                    )
                }
            }
        } else if dict["engines"] == nil {
            fail("engines", "is required: a list such as [\"sync\", \"threaded\", \"async\"]")
        } else {
            fail(
                "engines",
                "expected a list such as [\"sync\", \"threaded\", \"async\"], found \(describe(dict["engines"]!))")
        }

        var axes = self.axes(dict["axes"], "axes")
        var fixed = parameters(dict["fixed"], "fixed")
        var requests = integer(dict["requests"], "requests", range: 1...10_000_000, default: 200)
        var perWorker = integer(dict["requestsPerWorker"], "requestsPerWorker", range: 0...1_000_000, default: 0)
        var warmup = integer(dict["warmup"], "warmup", range: 0...1_000_000, default: 0)
        var minMeasuredSeconds = seconds(dict["minMeasuredSeconds"], "minMeasuredSeconds", default: nil)
        var repetitions = integer(dict["repetitions"], "repetitions", range: 1...100, default: 1)
        let seed = integer(dict["seed"], "seed", range: 0...Int.max, default: 1)
        let filters = self.filters(dict["filters"], "filters")

        if let quickDict = object(dict["quick"], "quick") {
            checkKeys(quickDict, allowed: ExperimentSpec.quickKeys, "quick")
            let quickAxes = self.axes(quickDict["axes"], "quick.axes")
            let quickFixed = parameters(quickDict["fixed"], "quick.fixed")
            let quickRequests = integer(
                quickDict["requests"], "quick.requests", range: 1...10_000_000, default: requests)
            let quickPerWorker = integer(
                quickDict["requestsPerWorker"], "quick.requestsPerWorker", range: 0...1_000_000, default: perWorker)
            let quickWarmup = integer(quickDict["warmup"], "quick.warmup", range: 0...1_000_000, default: warmup)
            // `null` switches the minimum off, so that a quick run is sized by count and two runs of it store the
            // same number of samples per cell (`make distributed-check` compares them).
            let quickMinMeasured =
                quickDict["minMeasuredSeconds"] is NSNull
                ? nil
                : seconds(quickDict["minMeasuredSeconds"], "quick.minMeasuredSeconds", default: minMeasuredSeconds)
            let quickRepetitions = integer(
                quickDict["repetitions"], "quick.repetitions", range: 1...100, default: repetitions)
            if quick {
                for axis in quickAxes {
                    if let index = axes.firstIndex(where: { $0.name == axis.name }) {
                        axes[index] = axis
                    } else {
                        axes.append(axis)
                    }
                }
                fixed.merge(quickFixed) { _, new in new }
                (requests, perWorker, warmup, repetitions) = (
                    quickRequests, quickPerWorker, quickWarmup, quickRepetitions
                )
                minMeasuredSeconds = quickMinMeasured
            }
        }
        for axis in axes where fixed[axis.name] != nil {
            fail("fixed.\(axis.name)", "is also an axis; set it in one place only")
        }
        if axes.contains(where: { $0.name == "concurrency" }) == false, fixed["concurrency"] == nil, engines.count > 1 {
            // Not an error: concurrency defaults to 1. Nothing to report.
        }

        // The server settings must decode as a mock-server configuration.
        var serverJSON = "{}"
        if let server = dict["server"] {
            if let serverDict = object(server, "server") {
                if let data = try? JSONSerialization.data(withJSONObject: serverDict, options: [.sortedKeys]) {
                    serverJSON = String(decoding: data, as: UTF8.self)
                    do {
                        _ = try MockServerConfiguration.decode(json: data, source: "server")
                    } catch {
                        fail("server", "is not a valid mock-server configuration: \(error)")
                    }
                }
            }
        }

        // What answers the question must name known metrics and analyses, and axes of this spec.
        if let answer = dict["answer"] {
            if let data = try? JSONSerialization.data(
                withJSONObject: answer, options: [.sortedKeys, .fragmentsAllowed])
            {
                let axisNames = (dict["axes"] as? [String: Any])?.keys.sorted() ?? []
                for problem in ReportAnswer.problems(answerJSON: String(decoding: data, as: UTF8.self), axes: axisNames)
                {
                    fail("answer", problem)
                }
            }
        }

        // The resilience settings must decode and validate.
        var resilienceJSON = "{}"
        if let resilience = dict["resilience"], let resilienceDict = object(resilience, "resilience"),
            let data = try? JSONSerialization.data(withJSONObject: resilienceDict, options: [.sortedKeys])
        {
            resilienceJSON = String(decoding: data, as: UTF8.self)
            do {
                try JSONDecoder().decode(ResilienceConfiguration.self, from: data).validate()
            } catch {
                fail("resilience", "\(error)")
            }
        }

        // Cross-field checks on every value the grid can take.
        let loads = values(of: "load", axes: axes, fixed: fixed)
        let rates = values(of: "rate", axes: axes, fixed: fixed)
        if loads.contains(where: { $0 != .string("closed") }), rates.contains(where: { ($0.number ?? 0) <= 0 }) {
            fail(
                axes.contains { $0.name == "rate" } ? "axes.rate" : "fixed.rate",
                "an open-loop load (fixed or poisson) needs a rate above 0 requests per second")
        }

        // Latency settings are the mock's too, but a spec without faults still measures a real server (its own
        // latency then stands in for them); faults and the `server` settings cannot be had anywhere else.
        let needsMock =
            serverJSON != "{}"
            || values(of: "errorRate", axes: axes, fixed: fixed).contains { ($0.number ?? 0) > 0 }
        return ExperimentSpec(
            name: name, question: question, engines: engines, axes: axes, fixed: fixed, filters: filters,
            requests: requests, requestsPerWorker: perWorker, resilienceJSON: resilienceJSON, warmup: warmup,
            minMeasuredSeconds: minMeasuredSeconds, repetitions: repetitions, seed: UInt64(seed),
            serverJSON: serverJSON,
            needsMockServer: needsMock, path: file, text: text)
    }

    private func values(
        of name: String, axes: [(name: String, values: [ParameterValue])], fixed: [String: ParameterValue]
    ) -> [ParameterValue] {
        if let axis = axes.first(where: { $0.name == name }) { return axis.values }
        return [fixed[name] ?? Parameters.definitions[name]!.defaultValue]
    }
}

private func isBool(_ number: NSNumber) -> Bool {
    // JSONSerialization gives booleans as NSNumber with the `char` type code.
    String(cString: number.objCType) == "c"
}

private func exactInt(_ number: NSNumber) -> Int? {
    let double = number.doubleValue
    guard double == double.rounded(), abs(double) < 9e18 else { return nil }
    return number.intValue
}

private func format(_ value: Double) -> String {
    ParameterValue.double(value).description
}

private func describe(_ value: Any) -> String {
    switch value {
    case let number as NSNumber where isBool(number): return number.boolValue ? "true" : "false"
    case let number as NSNumber: return "the number \(ParameterValue.double(number.doubleValue))"
    case let text as String: return "the string \"\(text)\""
    case is [Any]: return "a list"
    case is [String: Any]: return "an object"
    case is NSNull: return "null"
    default: return "\(value)"
    }
}

/// A parsed retry budget setting.
enum RetryBudgetSetting: Sendable, Hashable {
    case none
    case token(maxTokens: Double)
    case ratio(Double)

    init?(_ text: String) {
        if text == "none" {
            self = .none
            return
        }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let number = Double(parts[1]), number.isFinite else { return nil }
        switch parts[0] {
        case "token" where (1...10_000).contains(number): self = .token(maxTokens: number)
        case "ratio" where (0...1).contains(number): self = .ratio(number)
        default: return nil
        }
    }
}
