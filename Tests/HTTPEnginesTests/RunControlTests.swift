import AsyncPatterns
import Testing

@testable import HTTPEngines

/// `RunControl`'s hand-out rules, driven by hand: no server, no sleeping.
@Suite("Run control: warm-up hand-out and parked retries")
struct RunControlTests {
    static func control(warmup: Int, requests: Int = 5, workers: Int) -> RunControl {
        RunControl(
            configuration: EngineConfiguration(
                baseURL: "http://127.0.0.1:1", requests: requests, warmupRequests: warmup),
            workers: workers, policy: SingleAttemptPolicy(), sink: CollectingSink())
    }

    static func request(_ ticket: RunControl.Ticket) -> LogicalRequest {
        LogicalRequest(
            requestID: Int64(ticket.id), intendedNs: 0, isWarmup: ticket.isWarmup, policy: SingleAttemptPolicy(),
            sink: CollectingSink())
    }

    /// The ticket `poll` gives, or nil when it says wait or done.
    static func ticket(_ poll: RunControl.Poll) -> RunControl.Ticket? {
        if case .ticket(let ticket) = poll { return ticket }
        return nil
    }

    static func isWait(_ poll: RunControl.Poll) -> Bool {
        if case .wait = poll { return true }
        return false
    }

    @Test("ids are reserved so that every worker warms up, and nobody measures before every warm-up has ended")
    func warmupReservation() throws {
        let control = Self.control(warmup: 10, workers: 4)
        var workers = Array(repeating: RunControl.Worker(), count: 4)
        // The first worker takes warm-up ids while more are left than workers still to warm up: 0...6.
        var taken: [RunControl.Ticket] = []
        while let ticket = Self.ticket(control.poll(&workers[0])) { taken.append(ticket) }
        #expect(taken.map(\.id) == Array(0...6))
        #expect(taken.allSatisfy { $0.isWarmup && $0.scheduledNs == nil })
        #expect(Self.isWait(control.poll(&workers[0])))
        // Each of the others gets exactly one of the three ids left, then waits at the barrier.
        for index in 1...3 {
            let ticket = try #require(Self.ticket(control.poll(&workers[index])))
            #expect(ticket.id == 6 + index && ticket.isWarmup)
            taken.append(ticket)
            #expect(Self.isWait(control.poll(&workers[index])))
        }
        // The barrier opens only when the last warm-up request has its final sample.
        for ticket in taken.dropLast() { control.finished(Self.request(ticket)) }
        #expect(Self.isWait(control.poll(&workers[1])))
        control.finished(Self.request(taken[9]))
        let measured = try #require(Self.ticket(control.poll(&workers[1])))
        #expect(measured.id == 10 && !measured.isWarmup)
        let summary = control.summary()
        #expect(summary.warmupRequests == 10 && summary.measuredRequests == 1)
    }

    @Test("the measured phase's CPU counts from the barrier: CPU spent during the warm-up is left out")
    func measuredCPUStartsAtTheBarrier() throws {
        let control = Self.control(warmup: 1, workers: 1)
        var worker = RunControl.Worker()
        let warmup = try #require(Self.ticket(control.poll(&worker)))
        #expect(control.summary().measuredCPUSeconds == nil, "no measured phase yet")
        // 0.3 s of CPU while the warm-up request is out.
        let start = ResourceUsage.current().cpuSeconds
        var spin: UInt64 = 1
        while ResourceUsage.current().cpuSeconds - start < 0.3 { spin = spin &* 6_364_136_223_846_793_005 &+ 1 }
        #expect(spin != 0)
        control.finished(Self.request(warmup))
        let measured = try #require(control.summary().measuredCPUSeconds)
        #expect(measured >= 0 && measured < 0.15, "measured \(measured) s includes the warm-up's 0.3 s")
    }

    @Test("a warm-up smaller than the worker count is raised to one per worker; none when it is 0")
    func effectiveWarmup() {
        #expect(Self.control(warmup: 3, workers: 8).warmupTotal == 8)
        #expect(Self.control(warmup: 12, workers: 8).warmupTotal == 12)
        #expect(Self.control(warmup: 0, workers: 8).warmupTotal == 0)
        var worker = RunControl.Worker()
        let control = Self.control(warmup: 0, workers: 8)
        let ticket = Self.ticket(control.poll(&worker))
        #expect(ticket?.id == 0 && ticket?.isWarmup == false)
    }

    @Test("stopping opens the barrier and hands every warm-up id left to whoever asks")
    func stopReleasesTheBarrier() throws {
        let control = Self.control(warmup: 4, requests: 2, workers: 4)
        var first = RunControl.Worker()
        var second = RunControl.Worker()
        _ = try #require(Self.ticket(control.poll(&first)))
        #expect(Self.isWait(control.poll(&first)))
        control.stop()
        var ids: [Int] = []
        while let ticket = Self.ticket(control.poll(&first)) { ids.append(ticket.id) }
        #expect(ids == [1, 2, 3, 4, 5])
        #expect(!Self.isWait(control.poll(&second)))
    }

    @Test("parked requests come out earliest first, first parked first among equal times")
    func parkedOrder() {
        var parked = ParkedRequests()
        let due: [Int64] = [50, 10, 30, 10, 40, 20, 30]
        for (id, dueNs) in due.enumerated() {
            parked.insert(
                LogicalRequest(
                    requestID: Int64(id), intendedNs: 0, isWarmup: false, policy: SingleAttemptPolicy(),
                    sink: CollectingSink()),
                dueNs: dueNs)
        }
        #expect(parked.count == 7 && parked.earliestDueNs == 10)
        var order: [Int64] = []
        while let (request, _) = parked.popEarliest() { order.append(request.requestID) }
        #expect(order == [1, 3, 5, 2, 6, 4, 0])
        #expect(parked.earliestDueNs == nil)
    }
}
