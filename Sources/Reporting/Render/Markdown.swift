/// Markdown building blocks with escaping for user text.
enum Markdown {
    /// `text` on one line with Markdown punctuation escaped, safe in headings, prose and table cells.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in GnuplotScript.singleLine(text) {
            switch character {
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#", "!", "{", "}", "~", "$":
                out += "\\" + String(character)
            default:
                out.append(character)
            }
        }
        return out
    }

    /// A pipe table. Cells must already be escaped. `alignRight` marks numeric columns.
    static func table(header: [String], alignRight: [Bool], rows: [[String]]) -> String {
        var out = "| " + header.joined(separator: " | ") + " |\n"
        out += "|" + alignRight.map { $0 ? "---:|" : "---|" }.joined() + "\n"
        for row in rows { out += "| " + row.joined(separator: " | ") + " |\n" }
        return out
    }
}
