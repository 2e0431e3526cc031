import LabStore

/// A chart: one or more panels on a grid, written as a gnuplot script and a data file.
struct Chart: Sendable {
    /// File stem: `<name>.gp`, `<name>.dat`, `<name>.svg`, `<name>.png`.
    var name: String
    /// The title above the chart (user text; escaped when written).
    var title: String
    /// A short heading for the Markdown page, chosen by the code.
    var heading: String
    /// One sentence saying what the chart shows, for the Markdown page.
    var caption: String
    /// Panels, left to right then top to bottom.
    var panels: [ChartPanel]
    /// Pixel width and height of the rendered images.
    var size: (width: Int, height: Int) = (960, 560)
    /// Rows of the panel grid; 1 puts every panel side by side.
    var rows = 1

    /// Columns of the panel grid.
    var columns: Int { max(1, (panels.count + rows - 1) / max(1, rows)) }
}

/// One plot area with its axes and series.
struct ChartPanel: Sendable {
    /// Panel title; empty for none.
    var title: String = ""
    /// X-axis label, with its unit.
    var xLabel: String
    /// Y-axis label, with its unit.
    var yLabel: String
    /// Logarithmic x axis (base 2 when the ticks are powers of two, else 10).
    var logX = false
    /// Logarithmic y axis.
    var logY = false
    /// Explicit x ticks (value, label); labels are escaped.
    var xTics: [(value: Double, label: String)]? = nil
    /// Explicit y ticks (value, label); labels are escaped.
    var yTics: [(value: Double, label: String)]? = nil
    /// Y range, when fixed.
    var yRange: (low: Double, high: Double)? = nil
    /// X range, when fixed (panels that share a time axis); otherwise derived from the ticks.
    var xRange: (low: Double, high: Double)? = nil
    /// Whether the y axis may start above zero (autoscaled both ways); otherwise a linear y axis starts at 0.
    var yFromData = false
    /// Whether the x axis is categorical: values are category positions, never joined by lines.
    var categoricalX = false
    /// The series.
    var series: [ChartSeries]
    /// The id of the `PlotMetric` the panel plots, so that a figure added later (wrk's line, the SRE book's ratios)
    /// finds its panel; nil for panels of other charts.
    var metric: String? = nil

    /// Every finite y value the panel draws: its points and the ends of their bars.
    var drawnYValues: [Double] { series.flatMap { $0.points.flatMap { [$0.y, $0.low, $0.high] } }.filter(\.isFinite) }
}

/// How a series is drawn.
enum SeriesStyle: Sendable {
    /// Lines through points.
    case linesPoints
    /// Lines through points with vertical interval bars (columns x, y, low, high), for a numeric x axis.
    case errorLines
    /// Points with vertical interval bars and no joining line, for categories.
    case errorPoints
    /// A step function, for states over time.
    case steps
    /// Lines without points, for dense time series.
    case lines
}

/// One named line of a panel.
struct ChartSeries: Sendable {
    /// The legend entry (user text; escaped when written).
    var title: String
    /// The drawing style.
    var style: SeriesStyle
    /// Colour as `#rrggbb`, chosen by the code.
    var color: String
    /// Dash type 1 (solid) to 5.
    var dash = 1
    /// Point type for gnuplot (7 filled circle, 5 filled square, 9 filled triangle, ...).
    var pointType = 7
    /// Points: x, y and the interval (equal to y when there is none).
    var points: [(x: Double, y: Double, low: Double, high: Double)]
}

/// Fixed colours per engine, so an engine looks the same in every chart.
enum ChartPalette {
    static let colors = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]

    /// The colour of an engine: sync orange, threaded purple, async green, others in turn.
    static func color(engine: String, index: Int) -> String {
        switch EngineName(rawValue: engine) {
        case .sync: "#d95f02"
        case .threaded: "#7570b3"
        case .async: "#1b9e77"
        default: colors[(index + 3) % colors.count]
        }
    }

    /// Point types that stay distinct in print: filled circle, square, triangle, diamond, inverted triangle,
    /// pentagon, then the open versions.
    static let pointTypes = [7, 5, 9, 13, 11, 15, 6, 4]

    /// The filled ones among `pointTypes`.
    static let filledPointTypes = [7, 5, 9, 13, 11, 15]

    /// The open version of a filled point type (gnuplot numbers each one below its filled twin).
    static func open(_ filled: Int) -> Int { filledPointTypes.contains(filled) ? filled - 1 : filled }

    /// The point type of an engine.
    static func pointType(engine: String, index: Int) -> Int {
        switch EngineName(rawValue: engine) {
        case .sync: 5
        case .threaded: 9
        case .async: 7
        default: [11, 13, 15, 4, 6][index % 5]
        }
    }
}
