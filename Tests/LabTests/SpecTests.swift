import Foundation
import Testing

@testable import Lab

/// Writes `text` to a temporary spec file and returns its path.
func writeSpec(_ text: String, name: String = "spec.json") throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spec-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

let validSpec = """
    {
      "name": "demo",
      "question": "Does it work?",
      "engines": ["sync", "threaded", "async"],
      "axes": { "concurrency": [1, 4] },
      "fixed": { "latencyMs": 1 },
      "requests": 20,
      "seed": 7
    }
    """

@Suite struct SpecTests {
    @Test func loadsAValidSpec() throws {
        let spec = try ExperimentSpec.load(path: try writeSpec(validSpec))
        #expect(spec.name == "demo")
        #expect(spec.engines.map(\.rawValue) == ["sync", "threaded", "async"])
        #expect(spec.requests == 20)
        #expect(spec.seed == 7)
    }

    /// Each malformed spec must fail with a message naming the file and the key path.
    @Test(arguments: [
        (#"{"name":"x","question":"q","engines":["synk"]}"#, "engines[0]", "Did you mean `sync`?"),
        (
            #"{"name":"x","question":"q","engines":["sync"],"axes":{"concurrency":[0]}}"#, "axes.concurrency[0]",
            "out of range"
        ),
        (
            #"{"name":"x","question":"q","engines":["sync"],"fixed":{"errorRate":1.5}}"#, "fixed.errorRate",
            "out of range"
        ),
        (#"{"name":"x","question":"q","engines":["sync"],"axes":{"concurrency":[]}}"#, "axes.concurrency", "is empty"),
        (
            #"{"name":"x","question":"q","engines":["sync"],"repetitons":3}"#, "repetitons",
            "Did you mean `repetitions`?"
        ),
        (
            #"{"name":"x","question":"q","engines":["sync"],"fixed":{"concurency":3}}"#, "fixed.concurency",
            "Did you mean `concurrency`?"
        ),
        (#"{"name":"x","question":"q","engines":["sync"],"requests":"many"}"#, "requests", "expected a whole number"),
        (#"{"name":"x","question":"q","engines":"sync"}"#, "engines", "expected a list"),
        (#"{"name":"x","engines":["sync"]}"#, "question", "is required"),
        (#"{"name":"x y","question":"q","engines":["sync"]}"#, "name", "may hold only"),
        (#"{"name":"x","question":"q","engines":["sync"],"fixed":{"load":"poisson"}}"#, "fixed.rate", "needs a rate"),
        (
            #"{"name":"x","question":"q","engines":["sync"],"fixed":{"budget":"tokens:5"}}"#, "fixed.budget",
            "expected `none`"
        ),
        (
            #"{"name":"x","question":"q","engines":["sync"],"fixed":{"pooling":"pool"}}"#, "fixed.pooling",
            "Did you mean `pooled`?"
        ),
        (#"{"name":"x","question":"q","engines":[]}"#, "engines", "is empty"),
        (#"{"name":"x","question":"q","engines":["sync","sync"]}"#, "engines[1]", "appears twice"),
        (
            #"{"name":"x","question":"q","engines":["sync"],"axes":{"concurrency":[1,1]}}"#, "axes.concurrency[1]",
            "appears twice"
        ),
        (
            #"{"name":"x","question":"q","engines":["sync"],"axes":{"concurrency":["many"]}}"#, "axes.concurrency[0]",
            "expected a whole number"
        ),
        (
            #"{"name":"x","question":"q","engines":["sync"],"axes":{"concurrency":[1.5]}}"#, "axes.concurrency[0]",
            "expected a whole number"
        ),
        (
            #"{"name":"x","question":"q","engines":["sync"],"axes":{"concurrency":4}}"#, "axes.concurrency",
            "expected a list"
        ),
        (#"{"name":"x","question":"q","engines":["sync"],"axes":{"colour":[1]}}"#, "axes.colour", "unknown parameter"),
        (
            #"{"name":"x","question":"q","engines":["sync"],"axes":{"concurrency":[1]},"fixed":{"concurrency":2}}"#,
            "fixed.concurrency", "is also an axis"
        ),
        (#"{"name":"x","question":"q","engines":["sync"],"requests":0}"#, "requests", "out of range"),
        (#"{"name":"x","question":"q","engines":["sync"],"repetitions":0}"#, "repetitions", "out of range"),
        (#"{"name":"x","question":"q","engines":["sync"],"seed":-1}"#, "seed", "out of range"),
        (#"{"name":"x","question":"q","engines":["sync"],"warmup":true}"#, "warmup", "expected a whole number"),
        (#"{"name":"x","question":"q","engines":["sync"],"fixed":{"path":"get"}}"#, "fixed.path", "starting with `/`"),
        (
            #"{"name":"x","question":"q","engines":["sync"],"fixed":{"latencyModel":"gaussian"}}"#,
            "fixed.latencyModel", "is not allowed"
        ),
        (
            #"{"name":"x","question":"q","engines":["sync"],"fixed":{"budget":"ratio:2"}}"#, "fixed.budget",
            "expected `none`"
        ),
        (#"{"name":"x","question":"q","engines":["sync"],"fixed":{"jitter":-0.1}}"#, "fixed.jitter", "out of range"),
        (#"{"name":"x","question":"q","engines":["sync"],"filters":{"engine":"sync"}}"#, "filters", "expected a list"),
        (
            #"{"name":"x","question":"q","engines":["sync"],"filters":[{"engine":"turbo"}]}"#, "filters[0].engine",
            "expected an engine"
        ),
        (#"{"name":"x","question":"q","engines":["sync"],"filters":[{}]}"#, "filters[0]", "would remove every cell"),
        (
            #"{"name":"x","question":"q","engines":["sync"],"filters":[{"concurrency":{"above":3}}]}"#,
            "filters[0].concurrency.above", "unknown key"
        ),
        (
            #"{"name":"x","question":"q","engines":["sync"],"quick":{"request":5}}"#, "quick.request",
            "Did you mean `requests`?"
        ),
        (
            #"{"name":"x","question":"q","engines":["sync"],"server":{"schedule":[{"durationMs":-5}]}}"#, "server",
            "not a valid mock-server configuration"
        ),
        (
            #"{"name":"x","question":"q","engines":["sync"],"server":{"errorRat":0.1}}"#, "server",
            "not a valid mock-server configuration"
        ),
        (#"{"name":"x","question":"q","engines":["sync"],"server":[]}"#, "server", "expected an object"),
        (
            #"{"name":"x","question":"q","engines":["sync"],"resilience":{"retry":{"maxAttempts":0}}}"#, "resilience",
            "maxAttempts"
        ),
        (
            #"{"name":"x","question":"q","engines":["sync"],"axes":{"load":["fixed"]},"fixed":{"rate":0}}"#,
            "fixed.rate", "needs a rate"
        ),
        (#"["not", "an", "object"]"#, "", "expected an object"),
    ])
    func rejectsMalformedSpecs(text: String, keyPath: String, fragment: String) throws {
        let path = try writeSpec(text)
        #expect {
            _ = try ExperimentSpec.load(path: path)
        } throws: { error in
            let message = "\(error)"
            let prefix = keyPath.isEmpty ? "\(path): " : "\(path): \(keyPath): "
            return message.contains(prefix) && message.contains(fragment)
        }
    }

    @Test func syntaxErrorsGiveTheLine() throws {
        let path = try writeSpec("{\n  \"name\": \"x\",\n  \"question\": \"q\"\n  \"engines\": [\"sync\"]\n}\n")
        #expect {
            _ = try ExperimentSpec.load(path: path)
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("line 4")
        }
    }

    @Test func missingFileIsNamed() {
        #expect {
            _ = try ExperimentSpec.load(path: "/nonexistent/spec.json")
        } throws: { error in
            "\(error)".contains("/nonexistent/spec.json") && "\(error)".contains("cannot read")
        }
    }
}

@Suite struct GridTests {
    @Test func syncRunsOnlyAtConcurrencyOneAndKeysAreStable() throws {
        let spec = try ExperimentSpec.load(path: try writeSpec(validSpec))
        let grid = spec.grid()
        #expect(
            grid.map { "\($0.engine.rawValue)/\($0["concurrency"])" } == [
                "sync/1", "threaded/1", "threaded/4", "async/1", "async/4",
            ])
        #expect(Set(grid.map(\.key)).count == grid.count)
        #expect(try ExperimentSpec.load(path: try writeSpec(validSpec)).grid().map(\.key) == grid.map(\.key))
    }

    @Test func addingAnAxisValueKeepsOtherCellsSeedsAndKeys() throws {
        let small = try ExperimentSpec.load(path: try writeSpec(validSpec)).grid()
        let bigger = try ExperimentSpec.load(
            path: try writeSpec(validSpec.replacingOccurrences(of: "[1, 4]", with: "[1, 2, 4]"))
        ).grid()
        let seeds = Dictionary(uniqueKeysWithValues: bigger.map { ($0.key, $0.seed(master: 7)) })
        for cell in small {
            #expect(seeds[cell.key] == cell.seed(master: 7))
        }
        #expect(bigger.count == small.count + 2)
    }

    @Test func shardsPartitionTheGrid() throws {
        let grid = try ExperimentSpec.load(path: try writeSpec(validSpec)).grid()
        let shards = (1...3).map { Shard("\($0)/3")! }
        let union = shards.flatMap { shard in grid.filter { shard.contains($0.index) }.map(\.key) }
        #expect(union.sorted() == grid.map(\.key).sorted())
        #expect(Shard("0/3") == nil)
        #expect(Shard("4/3") == nil)
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
