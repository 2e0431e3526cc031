import Foundation

/// Writes a chart's gnuplot script and data file.
///
/// Safety: gnuplot expands backticks inside double-quoted strings and runs `system()` in any expression.
/// Every piece of user text (experiment, engine and axis names, values) is therefore written only inside a
/// single-quoted string, with `'` doubled and newlines and control characters replaced by spaces. No user text
/// ever reaches an expression, a command word or a file name: files are named by the code.
///
/// Paths: the script finds its own folder from `ARG0` (the path gnuplot was given), so
/// `gnuplot reports/<exp>/<chart>.gp` works from the repository root and from any other folder.
enum GnuplotScript {
    /// A gnuplot single-quoted string literal holding `text`, safe against expansion.
    static func quote(_ text: String) -> String {
        "'" + singleLine(text).replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// `text` on one line, cut to at most `limit` characters with an ellipsis, so long user names cannot push
    /// legends and titles off the picture.
    static func shorten(_ text: String, _ limit: Int) -> String {
        let line = singleLine(text)
        guard line.count > limit else { return line }
        return String(line.prefix(limit - 1)) + "…"
    }

    /// A title in at most `maximumLines` lines of at most `limit` characters, for a panel too narrow for it on one:
    /// broken after a ": " or ", ", the last line shortened. Each line is a single-quoted literal, and they are
    /// joined with the constant `"\n"`, so no user text leaves its quotes.
    static func wrappedTitle(_ text: String, limit: Int, maximumLines: Int = 3) -> String {
        let line = singleLine(text)
        guard line.count > limit else { return quote(line) }
        // Pieces that end where a line may break.
        var pieces: [String] = []
        var piece = ""
        for character in line {
            piece.append(character)
            if piece.hasSuffix(": ") || piece.hasSuffix(", ") {
                pieces.append(piece)
                piece = ""
            }
        }
        if !piece.isEmpty { pieces.append(piece) }
        var lines: [String] = []
        for piece in pieces {
            if let last = lines.last, lines.count == maximumLines || (last + piece).trimmedRight.count <= limit {
                lines[lines.count - 1] = last + piece
            } else {
                lines.append(piece)
            }
        }
        return lines.map { quote(shorten($0.trimmedRight, limit)) }.joined(separator: ".\"\\n\".")
    }

    /// A tic label: a quoted string in which `%` is doubled, because gnuplot reads tic labels as formats. A long
    /// label joined by " + " (a treatment: "retries + budget token:10") is broken before each "+", one part a line,
    /// so that neighbouring categories' labels do not run into each other.
    static func quoteTic(_ text: String) -> String {
        ticLines(text.replacingOccurrences(of: "%", with: "%%")).map(quote).joined(separator: ".\"\\n\".")
    }

    /// The lines a tic label is drawn in (see `quoteTic`), each at most 24 characters.
    static func ticLines(_ text: String) -> [String] {
        guard text.count > 14, text.contains(" + ") else { return [shorten(text, 24)] }
        let parts = text.components(separatedBy: " + ")
        return ([parts[0]] + parts.dropFirst().map { "+ " + $0 }).map { shorten($0, 24) }
    }

    /// Text for a `#` comment line: one line, without trailing backslashes (which would continue the comment
    /// onto the next line).
    static func comment(_ text: String) -> String {
        var line = singleLine(text)
        while line.hasSuffix("\\") || line.hasSuffix(" ") { line.removeLast() }
        return line
    }

    /// `text` on one line: newlines, tabs and other control characters become spaces.
    static func singleLine(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}"
                || scalar == "\u{85}"
            {
                out += " "
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The data file: one block per series (panels in order), blocks separated by two blank lines, so the
    /// script addresses them with `index`.
    static func data(for chart: Chart) -> String {
        var out = "# \(comment(chart.title))\n"
        out += "# columns: x y low high; one block per series, addressed by `index` in \(chart.name).gp\n"
        var block = 0
        for (panelIndex, panel) in chart.panels.enumerated() {
            for series in panel.series {
                if block > 0 { out += "\n\n" }
                out += "# index \(block): panel \(panelIndex + 1), \(comment(series.title))\n"
                for point in series.points {
                    out += "\(Format.data(point.x)) \(Format.data(point.y)) \(Format.data(point.low)) "
                    out += "\(Format.data(point.high))\n"
                }
                if series.points.isEmpty { out += "NaN NaN NaN NaN\n" }
                block += 1
            }
        }
        return out
    }

    /// The script. `displayPath` is how the report names the script in its comments (e.g. `reports/x/y.gp`).
    static func script(for chart: Chart, displayPath: String) -> String {
        let file = chart.name + ".gp"
        var out = """
            # \(comment(chart.title))
            # Generated by `swift run report`. Re-render with: gnuplot \(comment(displayPath))
            # Files are found next to this script (from ARG0), so any working directory works.
            script = '\(file)'
            dir = (strlen(ARG0) >= strlen(script)) ? ARG0[1:strlen(ARG0) - strlen(script)] : ''
            data = dir . '\(chart.name).dat'
            set encoding utf8

            """
        let body = plotBody(for: chart)
        out += "set terminal svg size \(chart.size.width),\(chart.size.height) dynamic noenhanced "
        out += "font 'DejaVu Sans,13' background rgb 'white'\n"
        out += "set output dir . '\(chart.name).svg'\n"
        out += body
        out += "set terminal pngcairo size \(chart.size.width),\(chart.size.height) noenhanced "
        out += "font 'DejaVu Sans,11' background rgb 'white'\n"
        out += "set output dir . '\(chart.name).png'\n"
        out += body
        out += "unset output\n"
        return out
    }

    private static func plotBody(for chart: Chart) -> String {
        var out = "reset\n"
        let multi = chart.panels.count > 1
        if multi {
            out += "set multiplot layout \(chart.rows),\(chart.columns) title \(quote(shorten(chart.title, 110)))\n"
        }
        // Stacked panels share their x axis: equal side margins keep the same x at the same place in each.
        let stacked = chart.rows > 1 && chart.columns == 1
        var block = 0
        // A panel's title and legend fill its width less the y axis' margin (about 100 pixels): about 9 pixels a
        // character in the PNG's 11-point font (the SVG's 13-point one is narrower). A longer title wraps.
        let columnWidth = chart.size.width / chart.columns
        let titleLimit = max(40, (columnWidth - 100) / 9)
        let legendLimit = max(44, (columnWidth - 120) / 9)
        for panel in chart.panels {
            out += "unset logscale\nset autoscale\nset offsets 0, 0, 0, 0\nset xtics autofreq\nset ytics autofreq\n"
            out += "set grid back lc rgb '#dddddd'\nset border 3\nset xtics nomirror\nset ytics nomirror\n"
            if stacked { out += "set lmargin 14\nset rmargin 4\n" }
            out +=
                "set title \(multi ? wrappedTitle(panel.title, limit: titleLimit) : quote(shorten(chart.title, 90)))\n"
            // gnuplot leaves room for one line of x tic labels: the axis label moves down past any further ones.
            let ticDepth = (panel.xTics ?? []).map { ticLines($0.label).count }.max() ?? 1
            out += "set xlabel \(quote(shorten(panel.xLabel, 70)))"
            out += ticDepth > 1 ? " offset 0,-\(ticDepth - 1)\n" : "\n"
            out += "set ylabel \(quote(shorten(panel.yLabel, 60)))\n"
            // The legend goes below the plot, where it can never cover data.
            out += "set key below Left reverse nobox spacing 1.1\n"
            if panel.logX {
                let powersOfTwo = (panel.xTics ?? []).allSatisfy { $0.value > 0 && isPowerOfTwo($0.value) }
                out += "set logscale x \(powersOfTwo ? 2 : 10)\n"
            }
            if panel.logY { out += "set logscale y 10\n" }
            if let tics = panel.xTics, !tics.isEmpty {
                out +=
                    "set xtics ("
                    + tics.map { "\(quoteTic($0.label)) \(Format.data($0.value))" }.joined(separator: ", ")
                out += ")\n"
            }
            if let range = panel.xRange {
                out += "set xrange [\(Format.data(range.low)):\(Format.data(range.high))]\n"
            } else if let tics = panel.xTics, let low = tics.map(\.value).min(), let high = tics.map(\.value).max() {
                if panel.categoricalX {
                    // Categories sit at 0, 1, ...; half a slot either side leaves room for the offset points.
                    out += "set xrange [\(Format.data(low - 0.6)):\(Format.data(high + 0.6))]\n"
                } else if !panel.logX {
                    let values = tics.map(\.value).sorted()
                    let spacing = zip(values, values.dropFirst()).map { $1 - $0 }.min() ?? 1
                    let pad = high > low ? max((high - low) * 0.05, spacing * 0.35) : 0.5
                    out += "set xrange [\(Format.data(low - pad)):\(Format.data(high + pad))]\n"
                } else if low > 0 {
                    // Room for every point, including any beyond the last tick (e.g. a spectrum's maximum).
                    let dataHigh = panel.series.flatMap { $0.points.map(\.x) }.filter(\.isFinite).max() ?? high
                    out += "set xrange [\(Format.data(low / 1.25)):\(Format.data(Swift.max(high, dataHigh) * 1.25))]\n"
                }
            }
            var yTics = panel.yTics
            if panel.logY, yTics == nil, panel.yRange == nil, let (low, high) = logRange(panel) {
                // gnuplot labels only whole decades, so a narrow log axis would have no labels: 1-2-5 ticks instead.
                yTics = logTics(low: low, high: high)
                out += "set yrange [\(Format.data(low)):\(Format.data(high))]\n"
            }
            if let tics = yTics, !tics.isEmpty {
                out +=
                    "set ytics ("
                    + tics.map { "\(quoteTic($0.label)) \(Format.data($0.value))" }.joined(separator: ", ")
                out += ")\n"
            }
            if panel.logY, panel.yTics == nil, panel.yRange == nil, logRange(panel) != nil {
                // The range was set with the ticks.
            } else if let range = panel.yRange {
                out += "set yrange [\(Format.data(range.low)):\(Format.data(range.high))]\n"
            } else {
                // Head room above the highest point, so no line runs along the top border.
                if panel.logY || panel.yFromData {
                    // Fitted to the data (not extended to the next decade), with head and foot room.
                    out += "set autoscale yfix\nset offsets 0, 0, graph 0.06, graph 0.06\n"
                } else {
                    out += "set yrange [0:*]\nset offsets 0, 0, graph 0.06, 0\n"
                }
            }
            var clauses: [String] = []
            for series in panel.series {
                var clause = "data index \(block) "
                let line = "lc rgb '\(series.color)' lw 2 dt \(series.dash)"
                switch series.style {
                case .errorLines:
                    clause += "using 1:2:3:4 with yerrorlines \(line) pt \(series.pointType) ps 1.1"
                case .errorPoints:
                    clause +=
                        "using 1:2:3:4 with yerrorbars lc rgb '\(series.color)' lw 2 pt \(series.pointType) ps 1.4"
                case .linesPoints:
                    clause += "using 1:2 with linespoints \(line) pt \(series.pointType) ps 1.1"
                case .steps:
                    clause += "using 1:2 with steps \(line)"
                case .lines:
                    clause += "using 1:2 with lines \(line)"
                }
                clause += " title \(quote(shorten(series.title, legendLimit)))"
                clauses.append(clause)
                block += 1
            }
            out += clauses.isEmpty ? "plot NaN notitle\n" : "plot " + clauses.joined(separator: ", \\\n     ") + "\n"
        }
        if multi { out += "unset multiplot\n" }
        return out
    }

    /// The y range of a log panel: its positive values and bars, with a little room either side; nil without data.
    static func logRange(_ panel: ChartPanel) -> (low: Double, high: Double)? {
        let values = panel.drawnYValues.filter { $0 > 0 }
        guard let low = values.min(), let high = values.max() else { return nil }
        return (low / 1.15, high * 1.15)
    }

    /// Log-axis ticks at 1, 2 and 5 times powers of ten inside `low...high` (decades only when those are many).
    static func logTics(low: Double, high: Double) -> [(value: Double, label: String)] {
        func tics(_ steps: [Double]) -> [Double] {
            var values: [Double] = []
            var decade = Foundation.pow(10.0, (Foundation.log10(low)).rounded(.down))
            while decade <= high {
                for step in steps where decade * step >= low && decade * step <= high { values.append(decade * step) }
                decade *= 10
            }
            return values
        }
        let coarse = tics([1, 2, 5])
        var values = coarse
        if values.count < 4 {
            // Finer steps where they stay few enough to read; else the coarse ones, which are not as many as 4.
            let fine = tics([1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9])
            values = fine.count <= 9 ? fine : coarse
        }
        if values.count < 2 {
            // Less than a factor of two: evenly spaced round values.
            let raw = (high - low) / 4
            let magnitude = Foundation.pow(10.0, Foundation.log10(raw).rounded(.down))
            let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
            values = []
            var value = (low / step).rounded(.up) * step
            while value <= high {
                values.append(value)
                value += step
            }
        }
        if values.count > 9 {
            values = values.filter { Foundation.log10($0).rounded() == Foundation.log10($0) }
        }
        return values.map { ($0, JSONValue.formatNumber(($0 * 1e9).rounded() / 1e9)) }
    }

    static func isPowerOfTwo(_ value: Double) -> Bool {
        guard value >= 1, value == value.rounded(), value < 1e15 else { return false }
        let integer = Int64(value)
        return integer & (integer - 1) == 0
    }
}

extension String {
    /// The text without trailing spaces.
    fileprivate var trimmedRight: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
