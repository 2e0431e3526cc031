import AsyncPatterns
import Testing

@testable import Simulation

@Suite("Event queue")
struct EventQueueTests {
    @Test("events come out by time, ties in scheduling order", arguments: [1, 2, 5, 1000, 20_000])
    func ordersByTimeThenSequence(count: Int) {
        var queue = EventQueue(capacity: 4)
        var generator = SplitMix64(seed: UInt64(count))
        var expected: [(atNs: Int64, slot: Int32)] = []
        for index in 0..<count {
            // Few distinct times, so that many events tie.
            let atNs = Int64(generator.next() % 50)
            queue.schedule(.begin, atNs: atNs, slot: Int32(index))
            expected.append((atNs, Int32(index)))
        }
        expected.sort { ($0.atNs, $0.slot) < ($1.atNs, $1.slot) }
        var popped: [(atNs: Int64, slot: Int32)] = []
        while let event = queue.pop() { popped.append((event.atNs, event.slot)) }
        #expect(popped.count == count)
        #expect(popped.map(\.atNs) == expected.map(\.atNs))
        #expect(popped.map(\.slot) == expected.map(\.slot))
        #expect(queue.isEmpty)
    }

    @Test("pops interleaved with pushes keep the order")
    func interleaved() {
        var queue = EventQueue(capacity: 4)
        var generator = SplitMix64(seed: 9)
        var lastNs: Int64 = 0
        var nowNs: Int64 = 0
        for index in 0..<100 { queue.schedule(.begin, atNs: Int64(generator.next() % 1000), slot: Int32(index)) }
        for index in 0..<10_000 {
            guard let event = queue.pop() else { break }
            #expect(event.atNs >= lastNs)
            lastNs = event.atNs
            nowNs = event.atNs
            if index < 9_000 {
                queue.schedule(.begin, atNs: nowNs + Int64(generator.next() % 1000), slot: Int32(index))
            }
        }
    }
}
