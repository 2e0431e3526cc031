import Foundation
import Testing

@testable import Lab

/// Specs that ask for an endpoint only the mock server has cannot run against `--target`.
@Suite struct TargetPathTests {
    private func spec(name: String, path: String) throws -> String {
        try writeSpec(
            #"{"name":"\#(name)","question":"q","engines":["async"],"fixed":{"path":"\#(path)"},"requests":5}"#,
            name: "\(name).json")
    }

    /// Runs `specs` as a dry run against a target (nothing is contacted) and returns the outcome and the log.
    private func dryRun(_ specs: [String]) async throws -> (outcome: RunOutcome, output: [String]) {
        var options = RunOptions(specPaths: specs)
        options.target = "http://127.0.0.1:9/index.html"
        options.dryRun = true
        var output: [String] = []
        let outcome = try await ExperimentRunner(options: options).run { output.append($0) }
        return (outcome, output)
    }

    @Test func aMockOnlyPathIsSkippedUnderTargetWithAReasonNamingItAndGetIsNot() async throws {
        let contention = try spec(name: "contention", path: "/contention/shared")
        let plain = try spec(name: "plain", path: "/get")
        let (outcome, output) = try await dryRun([contention, plain])
        #expect(outcome.specsSkipped == ["contention"])
        let skip = try #require(output.first { $0.hasPrefix("skipping contention") })
        #expect(skip.contains("/contention/shared") && skip.contains("only the mock server"))
        #expect(!output.contains { $0.hasPrefix("skipping plain") })
        #expect(output.contains { $0.hasPrefix("plain: ") && $0.contains("cells") })
    }

    @Test func aMockOnlyPathOnAnAxisIsSkippedToo() async throws {
        let path = try writeSpec(
            #"{"name":"mixed","question":"q","engines":["async"],"axes":{"path":["/get","/status/503"]},"requests":5}"#,
            name: "mixed.json")
        let (outcome, output) = try await dryRun([path])
        #expect(outcome.specsSkipped == ["mixed"])
        #expect(
            output.contains { $0.hasPrefix("skipping mixed") && $0.contains("/status/503") && !$0.contains("/get") })
    }

    @Test(arguments: [
        ("/contention/shared", true), ("/status/503", true), ("/delay/0.1", true), ("/429", true), ("/500", true),
        ("/500?x=1", true), ("/get", false), ("/health", false), ("/bytes/1024", false), ("/", false),
        ("/5000", false), ("/contention", false),
    ])
    func mockOnlyPaths(path: String, mockOnly: Bool) {
        #expect(TargetServer.isMockOnly(path: path) == mockOnly)
    }

    @Test func theMockOnlyParametersDeriveFromTheOneServerList() {
        #expect(TargetServer.mockOnlyParameters == ["latencyMs", "jitter", "latencyModel", "path"])
        #expect(CellPlan.serverConfigurationParameters == ["errorRate", "latencyMs", "jitter", "latencyModel"])
        #expect(CellPlan.serverStreamParameters == Set(CellPlan.serverParameters))
    }
}
