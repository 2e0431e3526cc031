import AsyncPatterns
import Testing

@testable import Simulation

/// The simulator's hot storage: tables aligned to cache lines, and the ring FIFO its workers and ready requests
/// wait in. A speed-up here must change no result (`make perf ONLY=sim.` prints a samples digest for that).
@Suite("Simulator storage")
struct SimulatorStorageTests {
    @Test func aRequestSlotIsOneCacheLineAndARingNodeHalfOne() {
        #expect(MemoryLayout<RequestSlot>.stride == 64)
        #expect(MemoryLayout<RingNode>.stride == 32)
    }

    @Test func everyEntryOfAnAlignedTableStartsOnItsOwnLineAndKeepsItsValueAsTheTableGrows() {
        var table = AlignedTable<RequestSlot>(capacity: 3)
        for id in 0..<1_000 {
            var slot = RequestSlot()
            slot.requestID = Int64(id)
            slot.token = UInt32(id * 7)
            table.append(slot)
            // Every append may have moved the storage: check the first entry and the new one.
            for index in [0, id] {
                withUnsafePointer(to: &table[index]) { pointer in
                    #expect(UInt(bitPattern: pointer) % 64 == 0, "entry \(index) of \(id + 1)")
                }
            }
        }
        #expect(table.count == 1_000)
        #expect((0..<1_000).allSatisfy { table[$0].requestID == Int64($0) && table[$0].token == UInt32($0 * 7) })
        table[500].token = 1
        #expect(table[500].token == 1 && table[499].token == 499 * 7)
    }

    @Test func theFIFOGivesEntriesBackInOrderAcrossWrapAndGrowth() {
        var fifo = FIFO<Int>()
        var model: [Int] = []
        var generator = SplitMix64(seed: 7)
        var next = 0
        for _ in 0..<20_000 {
            // Push a little more often than pop, so the ring wraps while it holds entries and then grows.
            if generator.next() % 100 < 55 {
                fifo.push(next)
                model.append(next)
                next += 1
            } else {
                #expect(fifo.first == model.first)
                #expect(fifo.pop() == (model.isEmpty ? nil : model.removeFirst()))
            }
            #expect(fifo.count == model.count)
        }
        while let entry = fifo.pop() { #expect(entry == model.removeFirst()) }
        #expect(model.isEmpty && fifo.count == 0 && fifo.first == nil)
    }
}
