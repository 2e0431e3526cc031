/// A growable array in storage aligned to 64-byte cache lines, for the simulator's hot tables (request slots, event
/// nodes) whose entries are read long after they were written, when they have left the cache. An `Array`'s elements
/// start 48 bytes into a line, so each 64-byte `RequestSlot` spanned two lines and missed twice; here an entry whose
/// stride divides 64 never spans two.
///
/// Entries are appended and never removed; storage grows by doubling. `Element` must be trivial (plain values), as
/// storage is freed without deinitializing it. Owned by one `Simulator` (a copy of the table shares its storage: the
/// simulator is never copied).
struct AlignedTable<Element> {
    /// Owns the storage and frees it.
    private final class Storage {
        var base: UnsafeMutablePointer<Element>
        var capacity: Int

        init(capacity: Int) {
            precondition(_isPOD(Element.self), "AlignedTable holds plain values only")
            self.capacity = max(capacity, 16)
            base = Storage.allocate(self.capacity)
        }

        static func allocate(_ capacity: Int) -> UnsafeMutablePointer<Element> {
            UnsafeMutableRawPointer.allocate(
                byteCount: capacity * MemoryLayout<Element>.stride, alignment: AlignedTable.lineBytes
            ).bindMemory(to: Element.self, capacity: capacity)
        }

        deinit { base.deallocate() }
    }

    static var lineBytes: Int { 64 }
    private let storage: Storage
    /// `storage.base`, kept here so that an access is one load from the simulator's own state.
    private var base: UnsafeMutablePointer<Element>
    /// Entries in use, from index 0.
    private(set) var count = 0

    /// An empty table with room for `capacity` entries.
    init(capacity: Int) {
        storage = Storage(capacity: capacity)
        base = storage.base
    }

    /// The entry at `index` (in `0..<count`), read and written in place.
    @inline(__always)
    subscript(index: Int) -> Element {
        unsafeAddress {
            assert(index >= 0 && index < count, "entry \(index) out of 0..<\(count)")
            return UnsafePointer(base + index)
        }
        nonmutating unsafeMutableAddress {
            assert(index >= 0 && index < count, "entry \(index) out of 0..<\(count)")
            return base + index
        }
    }

    /// Adds `element` at index `count`, doubling the storage when it is full.
    mutating func append(_ element: Element) {
        if count == storage.capacity {
            let grown = Storage.allocate(2 * storage.capacity)
            grown.moveInitialize(from: storage.base, count: count)
            storage.base.deallocate()
            storage.base = grown
            storage.capacity *= 2
            base = grown
        }
        (base + count).initialize(to: element)
        count += 1
    }
}
