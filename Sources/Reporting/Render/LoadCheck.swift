import LabStore

/// Whether a point was measured at the load it names: an open loop at its offered rate, a closed loop at its
/// nominal concurrency. Points that missed are marked in the tables (‡ open, § closed) with a footnote saying why.
enum LoadCheck {
    /// The largest miss tolerated, as a share of the load named: 5% of the offered rate, or of the concurrency.
    static let tolerance = 0.05
    /// The largest share of first attempts that may be sent late (more than `CellStatistics.lateNs`).
    static let lateTolerance = 0.05
    /// Marks an open-loop point that missed its offered rate.
    static let openMark = "‡"
    /// Marks a closed-loop point whose server never had its nominal concurrency in service.
    static let closedMark = "§"

    /// Open loop: whether the achieved arrival rate differs from the offered rate by more than `tolerance` of the
    /// offered rate, either way, or more than `lateTolerance` of first attempts were late. Unknown figures do not
    /// count as a miss.
    static func missedOfferedRate(achieved: Double?, offered: Double, lateShare: Double?) -> Bool {
        if offered > 0, let achieved, achieved.isFinite, abs(achieved - offered) > offered * tolerance { return true }
        return (lateShare ?? 0) > lateTolerance
    }

    /// Closed loop: whether the server's peak in service stayed below `1 − tolerance` of the nominal concurrency;
    /// false when the server did not count it.
    static func missedConcurrency(serverPeak: Double?, nominal: Int) -> Bool {
        guard let serverPeak, nominal > 0 else { return false }
        return serverPeak < Double(nominal) * (1 - tolerance)
    }

    /// Whether the point missed the load it names, by the medians over its repetitions.
    static func missed(_ point: PointSummary) -> Bool {
        // The simulation keeps its schedule and its concurrency by construction, and its server model counts in
        // service differently from the mock server: its cells are not checked.
        if point.isSimulated { return false }
        if point.isOpenLoop {
            return missedOfferedRate(
                achieved: point.metrics["achieved_rate"]?.median, offered: point.params[.rate]?.number ?? 0,
                lateShare: point.metrics["late_share"]?.median)
        }
        return missedConcurrency(serverPeak: point.metrics["server_in_flight_peak"]?.median, nominal: point.concurrency)
    }

    /// " ‡" or " §" when the point missed its load, else "".
    static func mark(_ point: PointSummary) -> String {
        guard missed(point) else { return "" }
        return " " + (point.isOpenLoop ? openMark : closedMark)
    }

    /// The footnote for the marks used among `points`; empty when none is marked.
    static func footnote(_ points: [PointSummary]) -> String {
        let missed = points.filter(missed)
        var sentences: [String] = []
        if missed.contains(where: \.isOpenLoop) {
            sentences.append(openSentence)
        }
        if missed.contains(where: { !$0.isOpenLoop }) {
            sentences.append(closedSentence)
        }
        return sentences.joined(separator: " ")
    }

    static let openSentence =
        "\(openMark) marks an open-loop point whose achieved arrival rate (median over repetitions) differed from its "
        + "offered rate by more than 5% of the offered rate, either way, or that sent more than 5% of its first "
        + "attempts more than 10 ms late: it was not measured at the load it names."

    static let closedSentence =
        "\(closedMark) marks a closed-loop point whose server peak in service (median over repetitions) stayed below "
        + "95% of its nominal concurrency: the server never had that many of its requests at once, so it was not "
        + "measured at the concurrency it names. Likely reasons: the client could not open that many connections in "
        + "time, the client's or the server's CPU saturated, or workers spent their time waiting between retries; "
        + "the Achieved concurrency table gives each point's."

    /// Why a closed-loop point fell short, from its medians: too few connections, a saturated CPU, or neither.
    static func likelyReason(_ point: PointSummary, experiment: ExperimentModel) -> String {
        var reasons: [String] = []
        if let connections = point.metrics["server_connections"]?.median,
            connections < Double(point.concurrency) * (1 - tolerance)
        {
            reasons.append("the server accepted \(Format.count(connections)) connections")
        }
        if let index = experiment.points.firstIndex(where: { $0.cellKeys == point.cellKeys }) {
            let loads = experiment.cells[index].map { Methods.load($0, run: experiment.run) }
            let client = loads.compactMap(\.client)
            let server = loads.compactMap(\.server)
            if !client.isEmpty, Statistics.median(client) >= Methods.saturation {
                reasons.append("client CPU saturated (\(Format.percent(Statistics.median(client))))")
            }
            if !server.isEmpty, Statistics.median(server) >= Methods.saturation {
                reasons.append("server CPU saturated (\(Format.percent(Statistics.median(server))))")
            }
        }
        if let peak = point.metrics["client_in_flight_peak"]?.median,
            peak < Double(point.concurrency) * (1 - tolerance)
        {
            reasons.append("the client never had more than \(Format.count(peak)) attempts in flight")
        }
        if point.attemptsPerRequest > 1 + tolerance {
            reasons.append(
                "workers spent time waiting between retries (\(Format.fixed(point.attemptsPerRequest, 2)) attempts per "
                    + "request)")
        }
        if reasons.isEmpty {
            return "neither connections, CPU nor retries: the client's requests did not overlap at the server"
        }
        return reasons.joined(separator: "; ")
    }

    /// The "Achieved concurrency" section of a page with closed-loop points: per point, the nominal concurrency
    /// against the client's and the server's peak and mean in flight, medians over repetitions; "" without
    /// closed-loop points or without any of these figures.
    static func section(_ experiment: ExperimentModel) -> String {
        let points = experiment.points.filter { !$0.isOpenLoop }
        let ids = ["client_in_flight_peak", "client_in_flight_mean", "server_in_flight_peak", "server_in_flight_mean"]
        guard points.contains(where: { point in ids.contains { point.metrics[$0] != nil } }) else { return "" }
        let axes = experiment.varyingAxes.filter { $0 != "concurrency" }
        let anyMissed = points.contains(where: missed)
        var rows: [[String]] = []
        for point in points {
            func median(_ id: String, _ format: (Double) -> String) -> String {
                point.metrics[id].map { format($0.median) } ?? "n/a"
            }
            var row =
                [Markdown.escape(point.engine)] + axes.map { Markdown.escape(point.coordinate($0)?.display ?? "") }
            // The simulated server counts in service only under its capacity model: its figures are not the mock
            // server's, so its rows say so instead.
            row += [
                "\(point.concurrency)", median("client_in_flight_peak", Format.count),
                median("client_in_flight_mean", Format.significant),
                point.isSimulated ? "simulated" : median("server_in_flight_peak", Format.count) + mark(point),
                point.isSimulated ? "simulated" : median("server_in_flight_mean", Format.significant),
            ]
            if anyMissed { row.append(missed(point) ? likelyReason(point, experiment: experiment) : "") }
            rows.append(row)
        }
        let header =
            ["engine"] + axes.map(Markdown.escape) + [
                "nominal concurrency", "client peak in flight", "client mean in flight", "server peak in service",
                "server mean in service",
            ] + (anyMissed ? ["likely reason"] : [])
        var out = "## Achieved concurrency\n\n"
        out += "How many requests were really in flight at the nominal concurrency of each closed-loop point: "
        out += "medians over repetitions. "
        out += "Client: from the measured attempts (warm-up excluded), each in flight from its start to its end; the "
        out += "peak is the most at once, the mean is time-weighted over the measured span (first intended send to "
        out += "last end). Server: the mock server's own counters over the whole cell, warm-up included; the peak is "
        out += "the most requests it had in service at once, the mean is requests served × mean service time / the "
        out += "cell's wall time (Little's law). "
        out += "\(closedMark) marks a server peak below 95% of the nominal concurrency.\n\n"
        out += Markdown.table(
            header: header, alignRight: header.map { $0 != "engine" && $0 != "likely reason" }, rows: rows)
        if anyMissed { out += "\n" + closedSentence + "\n" }
        return out + "\n"
    }
}
