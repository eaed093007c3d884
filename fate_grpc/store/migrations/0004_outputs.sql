-- Metrics reported by tasks, and the model warehouse index.
CREATE TABLE metrics (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          TEXT NOT NULL,
    task_name       TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    role            TEXT NOT NULL,
    party_id        TEXT NOT NULL,
    name            TEXT NOT NULL,
    type            TEXT NOT NULL,
    groups          TEXT NOT NULL,      -- JSON list of {name, index}
    step_axis       TEXT,               -- NULL for one-time metrics
    data            TEXT NOT NULL,      -- JSON list of {metric, step, timestamp}
    create_time_ms  INTEGER NOT NULL,
    FOREIGN KEY (job_id, task_name, attempt, role, party_id)
        REFERENCES tasks (job_id, task_name, attempt, role, party_id) ON DELETE CASCADE
);
CREATE INDEX metrics_by_task ON metrics (job_id, task_name, role, party_id, attempt);

CREATE TABLE models (
    model_id        TEXT NOT NULL,
    model_version   TEXT NOT NULL,
    role            TEXT NOT NULL,
    party_id        TEXT NOT NULL,
    task_name       TEXT NOT NULL,
    output_key      TEXT NOT NULL,
    job_id          TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    component       TEXT NOT NULL,
    type_name       TEXT NOT NULL,
    path            TEXT NOT NULL,
    size            INTEGER NOT NULL,
    create_time_ms  INTEGER NOT NULL,
    PRIMARY KEY (model_id, model_version, role, party_id, task_name, output_key)
);
CREATE INDEX models_by_job ON models (job_id, task_name, role, party_id);
