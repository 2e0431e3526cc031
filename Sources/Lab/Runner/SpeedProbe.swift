import AsyncPatterns

/// A fixed piece of work the runner times on the client's CPUs just before and just after each cell, so a reader
/// can tell a slower machine from a slower engine: on a shared host, another tenant's load slows every process
/// here alike, and the probe with them.
///
/// The work is a chain of 200,000 dependent loads through a 2 MiB table (larger than a core's L2 cache, within
/// the L3), each mixed into a running hash: it needs the core's arithmetic and the shared cache, which is where
/// neighbours compete. It takes about 2–5 ms.
enum SpeedProbe {
    /// A random cycle through every slot (Sattolo's shuffle from a fixed seed), so each load depends on the last
    /// and the hardware cannot prefetch it.
    private static let table: [UInt32] = {
        let count = 1 << 19
        var slots = [UInt32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = UInt32(index) }
            initialized = count
        }
        var generator = SplitMix64(seed: 0x5EED_0F_5EED)
        for index in stride(from: count - 1, to: 0, by: -1) {
            slots.swapAt(index, Int(generator.next() % UInt64(index)))
        }
        var next = [UInt32](repeating: 0, count: count)
        for index in 0..<count { next[Int(slots[index])] = slots[(index + 1) % count] }
        return next
    }()

    /// Times the work once, in nanoseconds.
    static func measure() -> Int64 {
        let table = Self.table
        let start = ContinuousClock.now
        var index = 0
        var hash: UInt64 = 0
        table.withUnsafeBufferPointer { slots in
            for _ in 0..<200_000 {
                index = Int(slots[index])
                hash = (hash ^ UInt64(index)) &* 0x9E37_79B9_7F4A_7C15
            }
        }
        let elapsed = (ContinuousClock.now - start).nanoseconds
        // The hash is used, so the loop cannot be dropped.
        return hash == 1 ? elapsed + 1 : elapsed
    }
}
