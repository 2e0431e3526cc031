#if canImport(Glibc)
    import Glibc
#endif

/// Asks the kernel to back a large buffer with 2 MiB pages where it can. The simulator writes its samples into one
/// buffer reserved up front, 90 MB in `make perf`'s run: with 4 KiB pages, the first write to each page faulted,
/// about 22,000 faults and 6% of the run's time. The advice changes no value, only how the memory is mapped; it is
/// a hint, and a kernel without transparent huge pages (or another system) ignores it.
enum HugePages {
    /// Buffers smaller than this are left alone: a few faults cost less than the call.
    static let minimumBytes = 4 << 20

    /// Advises huge pages for `array`'s reserved storage, from its first element to the end of its capacity.
    static func advise<Element>(_ array: inout [Element]) {
        #if os(Linux)
            let bytes = array.capacity * MemoryLayout<Element>.stride
            guard bytes >= minimumBytes else { return }
            array.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
                let start = (UInt(bitPattern: base) + page - 1) & ~(page - 1)
                let end = (UInt(bitPattern: base) + UInt(bytes)) & ~(page - 1)
                guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
                _ = madvise(pointer, Int(end - start), MADV_HUGEPAGE)
            }
        #endif
    }
}
