import ArgumentParser
import Foundation
import Lab
import LabBenchmarks

@main
struct ExperimentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiments",
        abstract: "Sweep experiment specs across the sync, threaded and async engines into SQLite.",
        discussion: """
            Specs are JSON files in experiments/ (see experiments/README.md). Every seed derives from the spec's \
            master seed, so a sweep can be repeated exactly: the server's from the parameters that describe the \
            server and the workload and from the repetition, so that every engine and policy meets the same faults; \
            the client's from all of the cell's parameters. Render the results with \
            `swift run report --format markdown`.
            """,
        subcommands: [
            Run.self, List.self, Merge.self, Perf.self, Benchmark.self, BenchmarkResilience.self, BenchmarkFull.self,
            CellChildCommand.self,
        ],
        defaultSubcommand: Run.self
    )
}

extension ExperimentsCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run specs (default: every experiments/*.json) into the database.")

        @Argument(help: "Spec files to run. Default: every experiments/*.json, in name order.")
        var specs: [String] = []

        @Option(name: .long, help: "The SQLite database to write (created when missing).")
        var db: String = "results/lab.sqlite"

        @Option(name: .long, help: "Also stream every record as JSON lines to this file (appended).")
        var jsonl: String?

        @Flag(name: .long, help: "Use each spec's `quick` profile: a short sweep for CI and smoke tests.")
        var quick = false

        @Flag(name: .long, help: "Skip cells already complete in the database; finish an interrupted sweep.")
        var resume = false

        @Option(name: .long, help: "Run only slice i of n of every grid, e.g. 2/4 (merge the databases afterwards).")
        var shard: String?

        @Option(
            name: .long,
            help: "Measure this HTTP server instead of the mock server (fault-injection specs are skipped).")
        var target: String?

        @Flag(name: .long, help: "Print every cell of the grid with its id and seed, and run nothing.")
        var dryRun = false

        @Option(name: .long, help: "Path of the mock-server binary. Default: beside this executable.")
        var mockServer: String?

        @Flag(
            name: .long, inversion: .prefixedNo,
            help: "Pin the mock server to the last CPU and the engines to the others (2+ cores).")
        var pin = true

        @Flag(
            name: .long, inversion: .prefixedNo,
            help: "Run each cell's client in a fresh child process, so its CPU, memory and threads are its own.")
        var cellProcess = true

        func validate() throws {
            if let shard, Shard(shard) == nil {
                throw ValidationError("--shard: `\(shard)` is not i/n with 1 <= i <= n, e.g. 1/3")
            }
        }

        func run() async throws {
            var options = RunOptions(specPaths: specs.isEmpty ? try Catalogue.defaultSpecPaths() : specs)
            options.databasePath = db
            options.quick = quick
            options.jsonlPath = jsonl
            options.resume = resume
            options.shard = shard.flatMap(Shard.init)
            options.target = target
            options.dryRun = dryRun
            options.mockServerPath = mockServer
            options.pin = pin
            options.cellProcess = cellProcess
            options.cellExecutable = ExperimentRunner.currentExecutable
            do {
                let outcome = try await ExperimentRunner(options: options).run()
                if outcome.interrupted { throw ExitCode(130) }
                if !dryRun {
                    print("\(outcome.cellsRun) cells run, \(outcome.cellsSkipped) already complete; database: \(db)")
                }
            } catch let error as ExitCode {
                throw error
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the specs with their grid sizes and estimated durations.")

        @Argument(help: "Spec files. Default: every experiments/*.json.")
        var specs: [String] = []

        @Flag(name: .long, help: "Show the quick profile's grids.")
        var quick = false

        func run() throws {
            do {
                for line in try Catalogue.describe(
                    specPaths: specs.isEmpty ? try Catalogue.defaultSpecPaths() : specs, quick: quick)
                {
                    print(line)
                }
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }

    struct Perf: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the performance figures (release builds only) and write them as JSON.",
            discussion: "Prints a table: figure, value, unit, target, pass or MISS, and the command that reproduces it."
        )

        @Option(name: .long, help: "Only figures whose names start with this prefix, e.g. mock.")
        var only: String = ""

        @Option(name: .long, help: "Where to write the figures as JSON.")
        var out: String = "results/perf.json"

        func run() async throws {
            do {
                _ = try await PerfHarness(only: only, outputPath: out).run()
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Combine shard databases into one.",
            discussion: """
                Copies every run and complete cell of each input into the output (created when missing). A cell \
                already complete in the output is replaced, as a re-run would replace it.
                """)

        @Option(name: .long, help: "The database to write.")
        var into: String

        @Argument(help: "Shard databases to read.")
        var inputs: [String]

        func validate() throws {
            if inputs.isEmpty { throw ValidationError("name at least one input database") }
            let target = URL(fileURLWithPath: into).standardizedFileURL.path
            if inputs.contains(where: { URL(fileURLWithPath: $0).standardizedFileURL.path == target }) {
                throw ValidationError("--into \(into) is also an input; write the merge to a new file")
            }
        }

        func run() throws {
            do {
                let cells = try mergeDatabases(inputs, into: into)
                print("merged \(cells) cells from \(inputs.count) databases into \(into)")
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}

extension ExperimentsCommand {
    /// The child side of `experiments run`: one cell's client in a process of its own. Internal; the runner starts it.
    struct CellChildCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cell-child", abstract: "Run one cell's client for `experiments run` (internal).",
            shouldDisplay: false)

        @Argument(help: "The job file the runner wrote.")
        var job: String

        func run() async throws {
            do {
                try await CellChild.run(jobPath: job)
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
