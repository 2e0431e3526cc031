import AsyncPatterns
import Foundation
import MockServer
import Reporting

extension ExperimentSpec {
    static let topLevelKeys = [
        "name", "question", "engines", "axes", "fixed", "filters", "requests", "requestsPerWorker", "warmup",
        "minMeasuredSeconds", "repetitions", "seed", "server", "resilience", "quick", "notes", "answer", "blockBy",
        "simRepetitions",
    ]
    static let quickKeys = [
        "requests", "requestsPerWorker", "warmup", "minMeasuredSeconds", "repetitions", "simRepetitions", "axes",
        "fixed",
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
        let root: SpecValue
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
        var v = SpecValidator(file: path)
        let spec = v.spec(root, text: text, quick: quick)
        if !v.errors.isEmpty || spec == nil {
            throw SpecErrors(errors: v.errors)
        }
        let problems = spec!.cellProblems()
        if !problems.isEmpty { throw SpecErrors(errors: problems) }
        return spec!
    }
}

extension SpecValidator {
    mutating func spec(_ root: SpecValue, text: String, quick: Bool) -> ExperimentSpec? {
        guard let dict = object(root, "") else { return nil }
        checkKeys(dict, allowed: ExperimentSpec.topLevelKeys, "")
        let name = string(dict["name"], "name", required: true) ?? ""
        if dict["name"]?.stringValue != nil, name.trimmingCharacters(in: .whitespaces).isEmpty {
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
        if dict["question"]?.stringValue != nil, question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            fail("question", "is empty; say what the experiment asks (its report answers it)")
        }
        _ = string(dict["notes"], "notes", required: false)

        var engines: [CellEngine] = []
        if let list = dict["engines"]?.arrayValue {
            if list.isEmpty { fail("engines", "is empty; list at least one of sync, threaded, async") }
            for (index, item) in list.enumerated() {
                let allowed = CellEngine.allCases.map(\.rawValue)
                if let word = item.stringValue, let kind = CellEngine(rawValue: word) {
                    if engines.contains(kind) { fail("engines[\(index)]", "`\(word)` appears twice") }
                    engines.append(kind)
                } else {
                    let word = item.stringValue ?? item.described
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
                "expected a list such as [\"sync\", \"threaded\", \"async\"], found \(dict["engines"]!.described)")
        }

        var axes = self.axes(dict["axes"], "axes")
        var fixed = parameters(dict["fixed"], "fixed")
        var requests = integer(dict["requests"], "requests", range: 1...10_000_000, default: 200)
        var perWorker = integer(dict["requestsPerWorker"], "requestsPerWorker", range: 0...1_000_000, default: 0)
        var warmup = integer(dict["warmup"], "warmup", range: 0...1_000_000, default: 0)
        var minMeasuredSeconds = seconds(dict["minMeasuredSeconds"], "minMeasuredSeconds", default: nil)
        var repetitions = integer(dict["repetitions"], "repetitions", range: 1...100, default: 1)
        var simRepetitions = integer(
            dict["simRepetitions"], "simRepetitions", range: 1...1000, default: repetitions)
        let seed = integer(dict["seed"], "seed", range: 0...Int.max, default: 1)
        let filters = self.filters(dict["filters"], "filters")
        let blockAxis = string(dict["blockBy"], "blockBy", required: false)
        if let blockAxis, !axes.contains(where: { $0.name == blockAxis }) {
            let names = axes.map(\.name)
            fail(
                "blockBy",
                "`\(blockAxis)` is not one of the spec's axes.\(didYouMean(blockAxis, among: names)) Allowed: "
                    + (names.isEmpty ? "none (the spec has no axes)" : names.joined(separator: ", ")) + ".")
        }

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
                quickDict["minMeasuredSeconds"] == .null
                ? nil
                : seconds(quickDict["minMeasuredSeconds"], "quick.minMeasuredSeconds", default: minMeasuredSeconds)
            let quickRepetitions = integer(
                quickDict["repetitions"], "quick.repetitions", range: 1...100, default: repetitions)
            let quickSimRepetitions = integer(
                quickDict["simRepetitions"], "quick.simRepetitions", range: 1...1000, default: quickRepetitions)
            if quick {
                for axis in quickAxes {
                    if let index = axes.firstIndex(where: { $0.name == axis.name }) {
                        axes[index] = axis
                    } else {
                        axes.append(axis)
                    }
                }
                fixed.merge(quickFixed) { _, new in new }
                (requests, perWorker, warmup, repetitions, simRepetitions) = (
                    quickRequests, quickPerWorker, quickWarmup, quickRepetitions, quickSimRepetitions
                )
                minMeasuredSeconds = quickMinMeasured
            }
        }
        if dict["simRepetitions"] != nil, !engines.contains(.sim) {
            fail("simRepetitions", "sets the repetitions of `sim` cells, but `engines` does not list `sim`")
        }
        for axis in axes where fixed[axis.name] != nil {
            fail("fixed.\(axis.name)", "is also an axis; set it in one place only")
        }
        if axes.contains(where: { $0.name == "concurrency" }) == false, fixed["concurrency"] == nil, engines.count > 1 {
            // Not an error: concurrency defaults to 1. Nothing to report.
        }

        // The server settings must decode as a mock-server configuration; the cells lay their parameters over it.
        var server = MockServerConfiguration.default
        var serverGiven = false
        if let serverDict = object(dict["server"], "server"), let data = try? SpecValue.object(serverDict).jsonData() {
            serverGiven = !serverDict.isEmpty
            do {
                server = try MockServerConfiguration.decode(json: data, source: "server")
            } catch {
                fail("server", "is not a valid mock-server configuration: \(error)")
            }
        }

        // What answers the question must name known metrics and analyses, and axes of this spec.
        if let answer = dict["answer"], let data = try? answer.jsonData() {
            let axisNames = dict["axes"]?.objectValue?.keys.sorted() ?? []
            for problem in ReportAnswer.problems(answerJSON: String(decoding: data, as: UTF8.self), axes: axisNames) {
                fail("answer", problem)
            }
        }

        // The resilience settings must decode and validate.
        var resilience = ResilienceConfiguration.none
        var resilienceJSON = "{}"
        if let resilienceDict = object(dict["resilience"], "resilience"),
            let data = try? SpecValue.object(resilienceDict).jsonData()
        {
            resilienceJSON = String(decoding: data, as: UTF8.self)
            do {
                resilience = try JSONDecoder().decode(ResilienceConfiguration.self, from: data)
                try resilience.validate()
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
            serverGiven
            || values(of: "errorRate", axes: axes, fixed: fixed).contains { ($0.number ?? 0) > 0 }
        return ExperimentSpec(
            name: name, question: question, engines: engines, axes: axes, fixed: fixed, filters: filters,
            requests: requests, requestsPerWorker: perWorker, resilience: resilience, resilienceJSON: resilienceJSON,
            warmup: warmup,
            minMeasuredSeconds: minMeasuredSeconds, repetitions: repetitions,
            simRepetitions: simRepetitions, blockAxis: blockAxis, seed: UInt64(seed),
            server: server, needsMockServer: needsMock, path: file, text: text)
    }
}
