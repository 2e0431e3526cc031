import Foundation
import Testing

@testable import Lab

/// Cell ids are SHA-256 prefixes that `--resume` and `merge` match against databases written earlier, so the digest
/// (now from swift-crypto) and the text it is taken over must never change. The committed reports keep the ids of
/// real sweeps in their `cells.csv`; the specs in `experiments/` must still produce exactly those ids.
@Suite struct StoredCellIDTests {
    /// The repository's root folder.
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `cell_key` and `engine` columns of `reports/NAME/cells.csv`.
    private static func storedCells(_ name: String) throws -> [(key: String, engine: String)] {
        let path = root.appendingPathComponent("reports/\(name)/cells.csv").path
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let header = lines.first.map { $0.split(separator: ",", omittingEmptySubsequences: false) } ?? []
        guard let keyColumn = header.firstIndex(of: "cell_key"), let engineColumn = header.firstIndex(of: "engine")
        else { throw StoredCellsError(description: "\(path) has no cell_key and engine columns") }
        return lines.dropFirst().map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return (String(fields[keyColumn]), String(fields[engineColumn]))
        }
    }

    private struct StoredCellsError: Error, CustomStringConvertible {
        var description: String
    }

    /// The grid of `experiments/NAME.json`, as `experiments run` expands it.
    private static func grid(_ name: String) throws -> [CellPlan] {
        try ExperimentSpec.load(path: root.appendingPathComponent("experiments/\(name).json").path).grid()
    }

    @Test func sha256MatchesTheFIPSKnownAnswer() {
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // The text's UTF-8 bytes are hashed (spec files and experiment names may hold any character).
        #expect(SHA256.hex("é ✓") == "086a17ec1cb4f336b148c38dfa8e349285c17c994b282b79631088d801c42005")
    }

    /// A few stored ids, spelled out, so that a change in the digest, the hex spelling or the canonical parameter
    /// text fails here with the cell named.
    @Test(arguments: [
        ("engines", "async", 1, 3, "2c5ee80b939f59ab"),
        ("engines", "async", 1, 0, "cf80b29ecdc579eb"),
        ("engines", "sync", 1, 6, "c1a7ffea898061da"),
        ("engines", "threaded", 64, 2, "37973f805a1341e7"),
        ("engines", "async_curl", 4096, 5, "0ef442dae9816c4a"),
    ])
    func storedIDsAreReproduced(experiment: String, engine: String, concurrency: Int, repetition: Int, key: String)
        throws
    {
        let cell = try #require(
            try Self.grid(experiment).first {
                $0.engine.rawValue == engine && $0.concurrency == concurrency && $0.repetition == repetition
            })
        #expect(cell.key == key)
    }

    /// Every committed report's ids are exactly the ids its spec's grid gives for the engines it stored (reference
    /// cells such as wrk are not in `cells.csv`).
    @Test(arguments: [
        "circuit-breaker", "engines", "error-rate", "jitter", "limiter", "load", "memory", "pipeline", "pooling",
        "retry-budget", "throttle",
    ])
    func everyStoredIDComesFromTheSpecsGrid(experiment: String) throws {
        let stored = try Self.storedCells(experiment)
        let engines = Set(stored.map(\.engine))
        let planned = try Self.grid(experiment).filter { engines.contains($0.engine.rawValue) }
        #expect(!stored.isEmpty)
        #expect(Set(planned.map(\.key)) == Set(stored.map(\.key)))
    }
}
