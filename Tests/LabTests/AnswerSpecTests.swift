import Foundation
import Testing

@testable import Lab

/// The spec's `answer` object: what answers the question is checked when the spec loads, before any run.
@Suite("Spec answer")
struct AnswerSpecTests {
    static func spec(answer: String) -> String {
        """
        {"name": "answer", "question": "Which backoff makes the fewest calls?", "engines": ["async"],
         "axes": {"backoff": ["full", "exponential"], "concurrency": [10, 20]},
         "fixed": {"latencyMs": 1}, "answer": \(answer)}
        """
    }

    /// The errors of a spec text, one description.
    static func problems(_ text: String) -> String {
        do {
            _ = try ExperimentSpec.parse(text: text, path: "answer.json")
            return ""
        } catch {
            return error.description
        }
    }

    @Test func aValidAnswerLoads() {
        let text = Self.spec(
            answer: #"{"metrics": ["server_calls", "completion_s"], "compare": "backoff", "by": "concurrency", "#
                + #""analyses": ["aws-backoff-jitter-2015"]}"#)
        #expect(Self.problems(text) == "")
    }

    @Test func anUnknownMetricIsNamedWithTheAllowedOnes() {
        let message = Self.problems(Self.spec(answer: #"{"metrics": ["calls"], "compare": "backoff"}"#))
        #expect(message.contains("answer.json"))
        #expect(message.contains("\"calls\", which is not a metric"))
        #expect(message.contains("server_calls"))
    }

    @Test func compareAndByMustBeAxesOfTheSpec() {
        let message = Self.problems(
            Self.spec(answer: #"{"metrics": ["throughput"], "compare": "pooling", "by": "rate"}"#))
        #expect(message.contains("compare is \"pooling\""))
        #expect(message.contains("by is \"rate\""))
        #expect(message.contains("backoff, concurrency"))
    }

    @Test func unknownKeysAndAnalysesAreRefused() {
        let message = Self.problems(
            Self.spec(answer: #"{"metrics": ["throughput"], "compare": "engine", "analyses": ["aws"], "extra": 1}"#))
        #expect(message.contains("unknown key \"extra\""))
        #expect(message.contains("analyses has \"aws\""))
        #expect(message.contains("aws-backoff-jitter-2015"))
    }

    /// Every spec in the catalogue says what answers its question.
    @Test func everyCatalogueSpecHasAnAnswer() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("experiments")
        let specs = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".json") }
        #expect(specs.count >= 11)
        for name in specs {
            let text = try String(contentsOfFile: root.appendingPathComponent(name).path, encoding: .utf8)
            #expect(text.contains("\"answer\""), "\(name) names no answer")
            #expect(Self.problems(text) == "", "\(name) does not load")
        }
    }
}
