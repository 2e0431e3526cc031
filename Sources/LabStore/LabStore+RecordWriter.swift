extension LabStore: RecordWriter {
    /// Nothing to do: each write is a transaction of its own, committed when it returns.
    public func flush() {}
}
