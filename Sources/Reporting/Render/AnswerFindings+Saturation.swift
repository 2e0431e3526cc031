/// Which side's CPU limited throughput, said where the findings are read rather than only in the tables' † marks.
extension AnswerFindings {
    /// The finding on which side limited throughput, for an experiment whose question's metrics include throughput
    /// or goodput: the live points whose client or server CPU (median share over repetitions, as the tables mark
    /// with †) reached `Methods.saturation`, per side, named by treatment and `by` value; and how many points
    /// neither side limited. Nil when no point saturated, or without such a metric or CPU figures.
    static func saturationSentence(_ view: AnswerView) -> String? {
        guard view.answer.metrics.contains(where: { ["throughput", "goodput"].contains($0) }) else { return nil }
        let experiment = view.experiment
        var client = SideList()
        var server = SideList()
        var measured = 0
        var limited = 0
        for (index, point) in experiment.points.enumerated() where !point.isSimulated {
            let loads = experiment.cells[index].map { Methods.load($0, run: experiment.run) }
            let clientShares = loads.compactMap(\.client)
            let serverShares = loads.compactMap(\.server)
            guard !clientShares.isEmpty || !serverShares.isEmpty else { continue }
            measured += 1
            let name = [view.treatment(point), view.context(point)].filter { !$0.isEmpty }.joined(separator: ", ")
            let by = view.byValue(point)?.display
            let clientLimits = !clientShares.isEmpty && Statistics.median(clientShares) >= Methods.saturation
            let serverLimits = !serverShares.isEmpty && Statistics.median(serverShares) >= Methods.saturation
            if clientLimits { client.add(name, by) }
            if serverLimits { server.add(name, by) }
            if clientLimits || serverLimits { limited += 1 }
        }
        guard client.count + server.count > 0 else { return nil }
        let axis = view.answer.by.map { "\($0) " } ?? ""
        var parts: [String] = []
        if client.count > 0 { parts.append("the client's in \(client.count) (\(client.text(axis: axis)))") }
        if server.count > 0 { parts.append("the server's in \(server.count) (\(server.text(axis: axis)))") }
        let free = measured - limited
        var sentence = "**Which side limited throughput** (its CPU at \(Format.percent(Methods.saturation)) or more "
        sentence += "of what it may use, median over repetitions; † in the tables), of \(measured) live points: "
        sentence += parts.joined(separator: "; ") + ". "
        sentence += "At those points the saturated side's CPU set the throughput"
        sentence += free > 0 ? "; at the other \(free) neither side's CPU was the limit." : "."
        return sentence
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
