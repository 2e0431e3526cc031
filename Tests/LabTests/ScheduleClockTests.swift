import Foundation
import LabStore
import MockServer
import Testing

@testable import Lab

/// A live cell configures the server (its fault schedule starts then) and only then starts its client, in a child
/// process: the schedule runs ahead of the client's clock by the speed probe and the child's start-up, tens of
/// milliseconds. The runner places the phases on the client's clock, so a breaker's time to open, or a recovery
/// after a trigger, is measured from when the server really changed.
@Suite struct ScheduleClockTests {
    @Test func phasesMoveEarlierByTheOffsetAndOneInForceAtTheOriginStartsAtZero() throws {
        let spec = try TypedSpecTests.load("circuit-breaker.json")
        let cell = try #require(spec.grid().first)
        let schedule = spec.server.schedule
        #expect(cell.injectedErrorRateEvents(schedule: schedule).map(\.tNs) == [0, 1_500_000_000, 4_500_000_000])
        let shifted = cell.injectedErrorRateEvents(schedule: schedule, offsetNs: 90_000_000)
        #expect(shifted.map(\.tNs) == [0, 1_410_000_000, 4_410_000_000])
        #expect(shifted.map(\.detail) == ["healthy", "failing", "recovered"])
        // The healthy phase (1.5 s) was over before the client started: the failing one is in force at 0.
        let late = cell.injectedErrorRateEvents(schedule: schedule, offsetNs: 2_000_000_000)
        #expect(late.map(\.tNs) == [0, 2_500_000_000])
        #expect(late.map(\.detail) == ["failing", "recovered"])
    }

    @Test func theOffsetIsTheClientOriginLessTheServerScheduleStart() throws {
        let origin = EventRecord(tNs: 0, kind: .clientOriginUptimeNs, value: 5_090_000_000)
        var counters = MockServerCounters()
        counters.scheduleStartUptimeNs = 5_000_000_000
        let json = String(decoding: try JSONEncoder().encode(counters), as: UTF8.self)
        let server = ServerFigures(requests: 0, connections: 0, serviceMeanNs: 0, serviceP99Ns: 0, countersJSON: json)
        #expect(CellPlan.scheduleOffsetNs(clientEvents: [origin], server: server) == 90_000_000)
        // Without either clock reading, the phases stay where the schedule puts them.
        #expect(CellPlan.scheduleOffsetNs(clientEvents: [], server: server) == 0)
        #expect(CellPlan.scheduleOffsetNs(clientEvents: [origin], server: nil) == 0)
    }

    /// Every request fails in the middle phase. Requests sent well before the stored start of that phase succeed,
    /// and those sent well inside it fail: the stored phases are where the server changed, on the client's clock.
    /// Left at the schedule's nominal times, the phase would start an offset (tens of ms) late, and the requests
    /// of that gap would be failures stored as sent before the failing phase.
    @Test(.timeLimit(.minutes(2)))
    func storedPhasesMatchWhereTheServerStartedFailing() throws {
        let text = """
            {
              "name": "schedule-clock",
              "question": "Are the phases where the server changed?",
              "engines": ["async"],
              "fixed": { "load": "poisson", "rate": 2000, "concurrency": 16, "latencyMs": 1, "path": "/get" },
              "server": { "schedule": [
                { "name": "healthy", "durationMs": 1500, "errorRate": 0 },
                { "name": "failing", "durationMs": 600, "errorRate": 1 },
                { "name": "recovered", "durationMs": 60000, "errorRate": 0 }
              ] },
              "requests": 5000,
              "warmup": 0,
              "repetitions": 2,
              "seed": 7
            }
            """
        let folder = try temporaryFolder()
        let db = folder + "/lab.sqlite"
        let result = try runExperiments(["run", try writeSpec(text), "--db", db])
        #expect(result.status == 0, "\(result.errors)")
        let store = try LabStore.openForReading(path: db)
        let cells = try store.cells()
        #expect(cells.count == 2)
        let marginNs: Int64 = 10_000_000
        for cell in cells {
            let events = try store.events(cellID: cell.id)
            let offset = CellPlan.scheduleOffsetNs(clientEvents: events, server: cell.server)
            #expect(offset > 0, "the schedule starts before the child's client")
            let phases = events.filter { $0.kind == .injectedErrorRate }.sorted { $0.tNs < $1.tNs }
            let failing = try #require(phases.first { $0.detail == "failing" })
            let recovered = try #require(phases.first { $0.detail == "recovered" })
            #expect(failing.tNs == 1_500_000_000 - offset)
            var before = (ok: 0, failed: 0)
            var inside = (ok: 0, failed: 0)
            try store.forEachSample(cellID: cell.id) { sample in
                if sample.startNs < failing.tNs - marginNs {
                    if sample.status == 500 { before.failed += 1 } else { before.ok += 1 }
                } else if sample.startNs > failing.tNs + marginNs, sample.endNs < recovered.tNs - marginNs {
                    if sample.status == 500 { inside.failed += 1 } else { inside.ok += 1 }
                }
            }
            #expect(before.ok > 100 && inside.failed > 100, "\(before) \(inside), offset \(offset)")
            // A stall of the machine can carry a request across the boundary; one in a hundred at most.
            #expect(before.failed * 100 <= before.ok, "failures before the failing phase: \(before), offset \(offset)")
            #expect(inside.ok * 100 <= inside.failed, "successes inside the failing phase: \(inside)")
        }
    }
}
