/// The store's schema, as numbered migrations. Version N is reached by applying migrations 1...N in order.
/// A database whose version is higher than `Schema.current` was written by a newer build and is refused.
enum Schema {
    /// The schema version this build writes.
    static let current = 4

    /// Migration `i` (1-based) takes a database from version i-1 to version i.
    static let migrations: [String] = [
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            experiment TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            master_seed INTEGER NOT NULL,
            spec_path TEXT NOT NULL,
            spec_text TEXT NOT NULL,
            spec_sha256 TEXT NOT NULL,
            command_line TEXT NOT NULL,
            git_commit TEXT NOT NULL,
            git_dirty INTEGER NOT NULL,
            swift_version TEXT NOT NULL,
            os TEXT NOT NULL,
            kernel TEXT NOT NULL,
            cpu_model TEXT NOT NULL,
            cores INTEGER NOT NULL,
            memory_bytes INTEGER NOT NULL,
            target TEXT NOT NULL
        );
        CREATE TABLE cells (
            id INTEGER PRIMARY KEY,
            cell_key TEXT NOT NULL,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            experiment TEXT NOT NULL,
            engine TEXT NOT NULL,
            concurrency INTEGER NOT NULL,
            repetition INTEGER NOT NULL,
            params TEXT NOT NULL,
            seed INTEGER NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            planned_requests INTEGER NOT NULL,
            warmup_requests INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            elapsed_ns INTEGER NOT NULL DEFAULT 0,
            max_lateness_ns INTEGER NOT NULL DEFAULT 0,
            cpu_user_s REAL,
            cpu_sys_s REAL,
            peak_rss_bytes INTEGER,
            ctx_voluntary INTEGER,
            ctx_involuntary INTEGER,
            server_requests INTEGER,
            server_connections INTEGER,
            server_service_mean_ns REAL,
            server_service_p99_ns REAL,
            server_cpu_user_s REAL,
            server_cpu_sys_s REAL,
            server_peak_rss_bytes INTEGER,
            server_counters TEXT
        );
        CREATE INDEX cells_by_key ON cells(cell_key);
        CREATE INDEX cells_by_experiment ON cells(experiment, status);
        CREATE TABLE samples (
            cell_id INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
            request_id INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            intended_ns INTEGER NOT NULL,
            start_ns INTEGER NOT NULL,
            end_ns INTEGER NOT NULL,
            status INTEGER NOT NULL,
            error_class TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            is_final INTEGER NOT NULL,
            is_warmup INTEGER NOT NULL
        );
        CREATE INDEX samples_by_cell ON samples(cell_id);
        CREATE TABLE events (
            cell_id INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
            t_ns INTEGER NOT NULL,
            kind TEXT NOT NULL,
            value REAL,
            detail TEXT
        );
        CREATE INDEX events_by_cell ON events(cell_id);
        CREATE VIEW v_cells AS
        SELECT c.id AS cell_id, c.experiment, c.engine, c.concurrency, c.repetition, c.params, c.status,
               c.planned_requests,
               (SELECT count(*) FROM samples s WHERE s.cell_id = c.id AND s.is_final AND NOT s.is_warmup)
                   AS requests,
               (SELECT count(*) FROM samples s WHERE s.cell_id = c.id AND s.is_final AND NOT s.is_warmup
                   AND s.error_class = 'ok') AS successes,
               (SELECT count(*) FROM samples s WHERE s.cell_id = c.id AND NOT s.is_warmup) AS attempts,
               c.elapsed_ns / 1e9 AS elapsed_s, c.cpu_user_s, c.cpu_sys_s, c.peak_rss_bytes,
               c.server_requests, c.server_connections, c.server_service_mean_ns
        FROM cells c;
        CREATE VIEW v_samples AS
        SELECT c.experiment, c.engine, c.concurrency, c.repetition, s.request_id, s.attempt,
               (s.end_ns - s.start_ns) / 1e6 AS latency_ms,
               (s.end_ns - s.intended_ns) / 1e6 AS corrected_latency_ms,
               s.status, s.error_class, s.bytes, s.is_final, s.is_warmup
        FROM samples s JOIN cells c ON c.id = s.cell_id
        WHERE c.status = 'complete';
        """,
        // 2: the seed of the server's random stream (faults, latency draws), shared by every engine and client-side
        // treatment of a grid point and repetition; NULL in cells written before it existed.
        """
        ALTER TABLE cells ADD COLUMN server_seed INTEGER;
        """,
        // 3: what the whole machine's CPUs did over the cell, from /proc/stat: CPU seconds available (wall time ×
        // CPUs online), busy (every process, steal included) and stolen by the hypervisor; NULL where /proc/stat
        // was unreadable and in cells written before they existed. `v_cells` shows them, with the CPU of other
        // processes (busy − steal − client − server: steal is no process of this machine's).
        """
        ALTER TABLE cells ADD COLUMN machine_total_s REAL;
        ALTER TABLE cells ADD COLUMN machine_busy_s REAL;
        ALTER TABLE cells ADD COLUMN machine_steal_s REAL;
        DROP VIEW v_cells;
        CREATE VIEW v_cells AS
        SELECT c.id AS cell_id, c.experiment, c.engine, c.concurrency, c.repetition, c.params, c.status,
               c.planned_requests,
               (SELECT count(*) FROM samples s WHERE s.cell_id = c.id AND s.is_final AND NOT s.is_warmup)
                   AS requests,
               (SELECT count(*) FROM samples s WHERE s.cell_id = c.id AND s.is_final AND NOT s.is_warmup
                   AND s.error_class = 'ok') AS successes,
               (SELECT count(*) FROM samples s WHERE s.cell_id = c.id AND NOT s.is_warmup) AS attempts,
               c.elapsed_ns / 1e9 AS elapsed_s, c.cpu_user_s, c.cpu_sys_s, c.peak_rss_bytes,
               c.server_requests, c.server_connections, c.server_service_mean_ns,
               c.machine_total_s, c.machine_busy_s, c.machine_steal_s,
               c.machine_busy_s - c.machine_steal_s - coalesce(c.cpu_user_s + c.cpu_sys_s, 0)
                   - coalesce(c.server_cpu_user_s + c.server_cpu_sys_s, 0) AS other_cpu_s
        FROM cells c;
        """,
        // 4: the figures of a reference cell (engine `wrk`), which has no samples: requests completed, requests per
        // second, p50 and p99 latency (ns) and errors (non-2xx/3xx responses plus socket errors), as wrk printed
        // them; NULL in every other cell. `v_cells` shows them.
        """
        ALTER TABLE cells ADD COLUMN reference_requests INTEGER;
        ALTER TABLE cells ADD COLUMN reference_rps REAL;
        ALTER TABLE cells ADD COLUMN reference_p50_ns REAL;
        ALTER TABLE cells ADD COLUMN reference_p99_ns REAL;
        ALTER TABLE cells ADD COLUMN reference_errors INTEGER;
        DROP VIEW v_cells;
        CREATE VIEW v_cells AS
        SELECT c.id AS cell_id, c.experiment, c.engine, c.concurrency, c.repetition, c.params, c.status,
               c.planned_requests,
               (SELECT count(*) FROM samples s WHERE s.cell_id = c.id AND s.is_final AND NOT s.is_warmup)
                   AS requests,
               (SELECT count(*) FROM samples s WHERE s.cell_id = c.id AND s.is_final AND NOT s.is_warmup
                   AND s.error_class = 'ok') AS successes,
               (SELECT count(*) FROM samples s WHERE s.cell_id = c.id AND NOT s.is_warmup) AS attempts,
               c.elapsed_ns / 1e9 AS elapsed_s, c.cpu_user_s, c.cpu_sys_s, c.peak_rss_bytes,
               c.server_requests, c.server_connections, c.server_service_mean_ns,
               c.machine_total_s, c.machine_busy_s, c.machine_steal_s,
               c.machine_busy_s - c.machine_steal_s - coalesce(c.cpu_user_s + c.cpu_sys_s, 0)
                   - coalesce(c.server_cpu_user_s + c.server_cpu_sys_s, 0) AS other_cpu_s,
               c.reference_requests, c.reference_rps, c.reference_p50_ns, c.reference_p99_ns, c.reference_errors
        FROM cells c;
        """,
    ]
}
