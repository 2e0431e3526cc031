import Foundation

/// Helpers for reading and writing JSON text deterministically.
enum JSONText {
    /// Converts a character offset in `text` to a 1-based line and column.
    static func lineAndColumn(offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for (index, byte) in text.utf8.enumerated() {
            if index >= offset { break }
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }

    /// Parses JSON, turning Foundation's "around character N" into a line and column.
    static func parse(_ text: String, file: String) throws(SpecError) -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [])
        } catch {
            let detail = (error as NSError).userInfo["NSDebugDescription"] as? String ?? "\(error)"
            if let range = detail.range(of: #"character (\d+)"#, options: .regularExpression),
                let offset = Int(detail[range].split(separator: " ").last ?? "")
            {
                let (line, column) = lineAndColumn(offset: offset, in: text)
                throw SpecError(
                    file: file, keyPath: "",
                    message: "JSON syntax error at line \(line), column \(column): \(detail). "
                        + "Check for a missing comma, quote or bracket near there.")
            }
            throw SpecError(file: file, keyPath: "", message: "JSON syntax error: \(detail)")
        }
    }
}

/// Edit distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased())
    let b = Array(b.lowercased())
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

/// " Did you mean `x`?" when a known word is close to `word`, else "".
func didYouMean(_ word: String, among known: [String]) -> String {
    var best: (word: String, distance: Int)?
    for candidate in known.sorted() {
        let distance = editDistance(word, candidate)
        if best == nil || distance < best!.distance { best = (candidate, distance) }
    }
    guard let best, best.distance <= max(2, word.count / 3) else { return "" }
    return " Did you mean `\(best.word)`?"
}
