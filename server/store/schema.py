"""Schema versions, applied in order; `PRAGMA user_version` records how far a database has come.

Times are epoch seconds (REAL) so that deadlines compare in SQL without parsing strings.
"""

MIGRATIONS: list[str] = [
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        exam_id TEXT NOT NULL,
        exam_title TEXT NOT NULL,
        project_dir TEXT NOT NULL,
        started_at REAL NOT NULL,
        deadline REAL NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'submitted')),
        submitted_at REAL,
        submit_reason TEXT,
        seed INTEGER NOT NULL,
        pass_mark REAL NOT NULL,
        duration_minutes REAL NOT NULL
    );
    CREATE INDEX sessions_running ON sessions (state, deadline);

    CREATE TABLE session_questions (
        session_id TEXT NOT NULL REFERENCES sessions (id),
        question_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        title TEXT NOT NULL,
        weight REAL NOT NULL,
        model_file TEXT NOT NULL,
        variant_json TEXT NOT NULL,
        data_json TEXT NOT NULL,
        heldout_path TEXT NOT NULL,
        waiting_since REAL,
        PRIMARY KEY (session_id, question_id)
    );

    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions (id),
        question_id TEXT NOT NULL,
        source_path TEXT NOT NULL,
        snapshot_path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        format TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        saved_at REAL NOT NULL,
        detected_at REAL NOT NULL,
        trigger TEXT NOT NULL,
        state TEXT NOT NULL
            CHECK (state IN ('queued', 'grading', 'graded', 'error', 'superseded')),
        attempts INTEGER NOT NULL DEFAULT 0,
        grading_started_at REAL
    );
    CREATE INDEX submissions_queue ON submissions (state, id);
    CREATE INDEX submissions_question ON submissions (session_id, question_id, id);

    CREATE TABLE results (
        submission_id INTEGER PRIMARY KEY REFERENCES submissions (id),
        session_id TEXT NOT NULL,
        question_id TEXT NOT NULL,
        status TEXT NOT NULL,
        score INTEGER NOT NULL,
        payload_json TEXT NOT NULL,
        created_at REAL NOT NULL
    );

    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload_json TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX events_session ON events (session_id, id);
    """,
    # The service's heartbeat (when it was up, and the high-water mark of time seen), the
    # successor of a superseded submission, and a per-question note on a file that cannot count.
    """
    CREATE TABLE service_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        pid INTEGER NOT NULL,
        started_at REAL NOT NULL,
        last_seen REAL NOT NULL
    );
    ALTER TABLE submissions ADD COLUMN superseded_by INTEGER;
    ALTER TABLE session_questions ADD COLUMN late_note TEXT;
    """,
    # The Keras a session's scripts run in (contract 2): "2" = tf_keras, the real exam's; "3".
    """
    ALTER TABLE sessions ADD COLUMN keras TEXT NOT NULL DEFAULT '2';
    """,
    # Each heartbeat's boot and uptime (issue 17): a restart in the same boot measures its
    # downtime by CLOCK_BOOTTIME, not by the wall clock.
    """
    ALTER TABLE service_runs ADD COLUMN boot_id TEXT;
    ALTER TABLE service_runs ADD COLUMN boottime REAL;
    """,
]
