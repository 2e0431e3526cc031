/// Which side's CPU limited throughput, said where the findings are read rather than only in the tables' † marks.
extension AnswerFindings {
    /// The finding on which side limited throughput, for an experiment whose question's metrics include throughput
    /// or goodput: the live points whose client or server CPU (median share over repetitions, as the tables mark
    /// with †) reached `Methods.saturation`, per side, named by treatment and `by` value; and how many points
    /// neither side limited. Open-loop points are told apart (`limitClause`): a saturated client there need not lower
    /// the throughput, which the schedule sets. Nil when no point saturated, or without such a metric or CPU figures.
    static func saturationSentence(_ view: AnswerView) -> String? {
        guard view.answer.metrics.contains(where: { ["throughput", "goodput"].contains($0) }) else { return nil }
        let experiment = view.experiment
        var client = SideList()
        var server = SideList()
        var measured = 0
        var saturated: [PointSummary] = []
        for (index, point) in experiment.points.enumerated() where !point.isSimulated {
            let loads = experiment.cells[index].map { Methods.load($0, run: experiment.run) }
            let clientShares = loads.compactMap(\.client)
            let serverShares = loads.compactMap(\.server)
            guard !clientShares.isEmpty || !serverShares.isEmpty else { continue }
            measured += 1
            let name = view.label(point)
            let by = view.byValue(point)?.display
            let clientLimits = !clientShares.isEmpty && Statistics.median(clientShares) >= Methods.saturation
            let serverLimits = !serverShares.isEmpty && Statistics.median(serverShares) >= Methods.saturation
            if clientLimits { client.add(name, by) }
            if serverLimits { server.add(name, by) }
            if clientLimits || serverLimits { saturated.append(point) }
        }
        guard !saturated.isEmpty else { return nil }
        let axis = view.answer.by.map { "\($0) " } ?? ""
        var parts: [String] = []
        if client.count > 0 { parts.append("the client's in \(client.count) (\(client.text(axis: axis)))") }
        if server.count > 0 { parts.append("the server's in \(server.count) (\(server.text(axis: axis)))") }
        let open = saturated.filter(\.isOpenLoop)
        var sentence = open.isEmpty ? "**Which side limited throughput**" : "**Which side's CPU saturated**"
        sentence += " (its CPU at \(Format.percent(Methods.saturation)) or more "
        sentence += "of what it may use, median over repetitions; † in the tables), of \(measured) live points: "
        sentence += parts.joined(separator: "; ") + ". "
        sentence += limitClause(closed: saturated.count - open.count, open: open)
        let free = measured - saturated.count
        sentence += free > 0 ? "; at the other \(free) neither side's CPU was the limit." : "."
        return sentence
    }

    /// What a saturated side did at `closed` closed-loop points (it set their throughput) and at the `open`
    /// open-loop points, whose arrival rate the schedule sets: where the achieved rate kept to the offered one
    /// (`LoadCheck`), the saturation showed in latency and lateness, not in throughput.
    private static func limitClause(closed: Int, open: [PointSummary]) -> String {
        guard !open.isEmpty else {
            return closed > 0 ? "At those points the saturated side's CPU set the throughput" : ""
        }
        let kept = open.filter { !LoadCheck.missed($0) }.count
        let missed = open.count - kept
        var text = closed > 0 ? "the \(open.count) open-loop ones" : "Those \(open.count) are open loops"
        text += ", whose arrival rate the schedule sets"
        if kept > 0 {
            text += missed > 0 ? ": \(kept) of them" : ": they"
            text +=
                " kept to the offered rate (within 5%, no \(LoadCheck.openMark)), so there the saturation showed in "
            text += "latency, measured from each request's intended send, and not in throughput"
        }
        if missed > 0 && kept > 0 {
            text += "; \(missed) fell behind it (\(LoadCheck.openMark))"
        } else if missed > 0 {
            text += ": they fell behind it (\(LoadCheck.openMark)), so the saturated side's CPU set their throughput"
        }
        return closed > 0
            ? "At the \(closed) closed-loop ones the saturated side's CPU set the throughput; " + text : text
    }

    /// The points of one side, grouped by name in the order met: "threaded: concurrency 256, 1024".
    private struct SideList {
        private var names: [String] = []
        private var values: [String: [String]] = [:]
        private(set) var count = 0

        mutating func add(_ name: String, _ by: String?) {
            if values[name] == nil { names.append(name) }
            values[name, default: []] += by.map { [$0] } ?? []
            count += 1
        }

        func text(axis: String) -> String {
            names.map { name in
                let list = values[name] ?? []
                let text = list.isEmpty ? name : "\(name): \(axis)\(list.joined(separator: ", "))"
                return Markdown.escape(text)
            }.joined(separator: "; ")
        }
    }
}
