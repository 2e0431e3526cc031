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

    /// Decodes JSON text into a `SpecValue`. On a syntax error, Foundation's "around character N" is turned into a
    /// line and column (`JSONDecoder` gives no position, so only then is the text handed to `JSONSerialization`).
    static func parse(_ text: String, file: String) throws(SpecError) -> SpecValue {
        do {
            return try JSONDecoder().decode(SpecValue.self, from: Data(text.utf8))
        } catch {
            let detail: String
            do {
                _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
                detail = "\(error)"
            } catch {
                detail = (error as NSError).userInfo["NSDebugDescription"] as? String ?? "\(error)"
            }
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

extension JSONText {
    /// A key that appears twice in one JSON object, with both positions (1-based line and column).
    struct DuplicateKey: Equatable {
        /// The key's path, e.g. `quick.axes.concurrency`.
        var keyPath: String
        var first: (line: Int, column: Int)
        var second: (line: Int, column: Int)

        static func == (a: DuplicateKey, b: DuplicateKey) -> Bool {
            a.keyPath == b.keyPath && a.first == b.first && a.second == b.second
        }
    }

    /// Every key that appears twice in the same object of `text`, which must be valid JSON. Foundation's parser
    /// keeps the last of two equal keys without a word; a spec must not be read that way.
    static func duplicateKeys(in text: String) -> [DuplicateKey] {
        enum Frame {
            case object(path: String, keys: [String: Int], expectingKey: Bool, currentKey: String?)
            case array(path: String, index: Int)
        }
        let bytes = Array(text.utf8)
        var stack: [Frame] = []
        var found: [DuplicateKey] = []
        var index = 0

        func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        /// The path of a value that starts now, in the innermost container.
        func childPath() -> String {
            switch stack.last {
            case .object(let path, _, _, let key): return join(path, key ?? "")
            case .array(let path, let index): return "\(path)[\(index)]"
            case nil: return ""
            }
        }
        func readString() -> String {
            let start = index
            index += 1
            while index < bytes.count && bytes[index] != UInt8(ascii: "\"") {
                index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
            }
            let raw = Data(bytes[start...min(index, bytes.count - 1)])
            index += 1
            return (try? JSONDecoder().decode(String.self, from: raw))
                ?? String(decoding: raw, as: UTF8.self)
        }

        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"):
                stack.append(.object(path: childPath(), keys: [:], expectingKey: true, currentKey: nil))
                index += 1
            case UInt8(ascii: "["):
                stack.append(.array(path: childPath(), index: 0))
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                stack.removeLast()
                index += 1
            case UInt8(ascii: ","):
                switch stack.last {
                case .object(let path, let keys, _, _):
                    stack[stack.count - 1] = .object(path: path, keys: keys, expectingKey: true, currentKey: nil)
                case .array(let path, let position):
                    stack[stack.count - 1] = .array(path: path, index: position + 1)
                case nil: break
                }
                index += 1
            case UInt8(ascii: "\""):
                let offset = index
                let string = readString()
                if case .object(let path, var keys, true, _) = stack.last {
                    if let previous = keys[string] {
                        found.append(
                            DuplicateKey(
                                keyPath: join(path, string), first: lineAndColumn(offset: previous, in: text),
                                second: lineAndColumn(offset: offset, in: text)))
                    } else {
                        keys[string] = offset
                    }
                    stack[stack.count - 1] = .object(path: path, keys: keys, expectingKey: false, currentKey: string)
                }
            default:
                index += 1
            }
        }
        return found
    }
}
