import AsyncPatterns

/// Minimal JSON text helpers, written for the `/get` hot path: they append to one string.
enum JSON {
    /// A JSON object of string pairs; a name given more than once maps to an array of its values, in order.
    static func object(_ pairs: [(String, String)]) -> String {
        var out = ""
        appendObject(pairs, to: &out)
        return out
    }

    /// Appends the object `object(_:)` describes. Quadratic in the number of pairs, which is small.
    static func appendObject(_ pairs: [(String, String)], to out: inout String) {
        out.append("{")
        var first = true
        for index in pairs.indices {
            let name = pairs[index].0
            if pairs[..<index].contains(where: { $0.0 == name }) { continue }  // already written
            if !first { out.append(",") }
            first = false
            JSONString.appendQuoted(name, to: &out)
            out.append(":")
            let repeated = pairs[(index + 1)...].contains { $0.0 == name }
            if repeated {
                out.append("[")
                var firstValue = true
                for pair in pairs[index...] where pair.0 == name {
                    if !firstValue { out.append(",") }
                    firstValue = false
                    JSONString.appendQuoted(pair.1, to: &out)
                }
                out.append("]")
            } else {
                JSONString.appendQuoted(pairs[index].1, to: &out)
            }
        }
        out.append("}")
    }
}
