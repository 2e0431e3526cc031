import AsyncPatterns
import Foundation
import LabStore
import Testing

@testable import Lab

/// The `limiter` parameter, with the spec's `resilience.limiter.acquireTimeoutMs`, reaches every engine: attempts that cannot get a permit in time end as
/// `limiter_timeout`, and each cell stores the limiter's figures as a `limiter` event.
@Suite(.serialized, .timeLimit(.minutes(3))) struct LimiterEndToEndTests {
    static let spec = """
        {
          "name": "limited",
          "question": "Does the limiter bound the attempts in flight?",
          "engines": ["threaded", "async", "async_curl"],
          "fixed": { "concurrency": 8, "latencyMs": 20, "path": "/get", "limiter": "limit:1" },
          "requests": 40,
          "warmup": 2,
          "seed": 5,
          "resilience": { "limiter": { "acquireTimeoutMs": 1 } }
        }
        """

    @Test func limiterTimeoutsAndFiguresAreStored() throws {
        let folder = try temporaryFolder()
        let spec = try writeSpec(Self.spec)
        let db = folder + "/lab.sqlite"
        let result = try runExperiments(["run", spec, "--db", db])
        #expect(result.status == 0, "\(result.errors)")

        let store = try LabStore.openForReading(path: db)
        let cells = try store.cells()
        #expect(cells.count == 3)
        for cell in cells {
            var finals: [Int64: Int] = [:]
            var timeouts = 0
            var sent = 0
            try store.forEachSample(cellID: cell.id) { sample in
                if sample.isFinal { finals[sample.requestID, default: 0] += 1 }
                switch sample.errorClass {
                case .limiterTimeout:
                    timeouts += 1
                    #expect(sample.isFinal && sample.status == 0)
                case .ok: sent += 1
                default: Issue.record("\(cell.engine): unexpected \(sample.errorClass.rawValue) sample")
                }
            }
            #expect(finals.count == cell.plannedRequests + cell.warmupRequests, "\(cell.engine)")
            #expect(finals.values.allSatisfy { $0 == 1 }, "\(cell.engine)")
            #expect(timeouts > 0, "\(cell.engine): a 1 ms acquire timeout at concurrency 8 must time some out")
            #expect(cell.server?.requests == Int64(sent), "\(cell.engine): timed-out attempts are never sent")

            let limiterEvents = try store.events(cellID: cell.id).filter { $0.kind == .limiter }
            #expect(limiterEvents.count == 1, "\(cell.engine)")
            let event = try #require(limiterEvents.first)
            #expect(event.value == 1, "the peak of permits held")
            let detail = event.detail ?? ""
            #expect(detail.hasPrefix("limit 1, peak 1, waits "), "\(detail)")
            #expect(detail.hasSuffix(", timeouts \(timeouts)"), "\(detail)")
        }
    }
}
