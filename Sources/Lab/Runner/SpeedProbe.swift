import AsyncPatterns

/// A fixed piece of work the runner times on the client's CPUs just before and just after each cell, so a reader
/// can tell a slower machine from a slower engine: on a shared host, another tenant's load slows every process
/// here alike, and the probe with them.
///
/// The work is a chain of 200,000 dependent loads through a 2 MiB table (larger than a core's L2 cache, within
/// the L3), each mixed into a running hash: it needs the core's arithmetic and the shared cache, which is where
/// neighbours compete. A warm pass takes about 2–5 ms; `measure()` runs two and keeps the second. It cannot see the
/// server's CPU, nor memory the host reclaims from the guest.
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

    /// Times the work, in nanoseconds: runs the chain twice and returns the second pass.
    ///
    /// The first pass after a cell (or before one, after the runner's own work) finds the table evicted from the
    /// caches, so it mostly times cold memory: measured at 6–40 ms where a cached pass takes 2–5 ms, with a spread of
    /// 57–423% between repetitions of the same point and little relation to their throughput. The second pass runs
    /// with the table warm, so it times what the probe is for: the CPU and cache speed left to the client's CPUs.
    static func measure() -> Int64 {
        _ = chain()
        return chain()
    }

    /// One pass of the chain, timed, in nanoseconds.
    private static func chain() -> Int64 {
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
