-- Initial schema: tables, jobs, tasks (party view), schedule (scheduler view), outputs.
CREATE TABLE data_tables (
    namespace       TEXT NOT NULL,
    name            TEXT NOT NULL,
    path            TEXT NOT NULL,
    row_count       INTEGER NOT NULL,
    header          TEXT NOT NULL,      -- JSON list of column names
    match_id_name   TEXT NOT NULL,
    label_name      TEXT NOT NULL DEFAULT '',
    weight_name     TEXT NOT NULL DEFAULT '',
    delimiter       TEXT NOT NULL DEFAULT ',',
    meta            TEXT NOT NULL DEFAULT '{}',
    source_job_id   TEXT NOT NULL DEFAULT '',
    source_task     TEXT NOT NULL DEFAULT '',
    create_time_ms  INTEGER NOT NULL,
    PRIMARY KEY (namespace, name)
);

CREATE TABLE jobs (
    job_id              TEXT PRIMARY KEY,
    dag_yaml            TEXT NOT NULL,
    initiator_party_id  TEXT NOT NULL,
    scheduler_party_id  TEXT NOT NULL,
    is_scheduler        INTEGER NOT NULL,
    status              TEXT NOT NULL,
    status_reason       TEXT NOT NULL DEFAULT '',
    user_name           TEXT NOT NULL DEFAULT '',
    priority            INTEGER NOT NULL DEFAULT 0,
    progress            INTEGER NOT NULL DEFAULT 0,
    create_time_ms      INTEGER NOT NULL,
    start_time_ms       INTEGER NOT NULL DEFAULT 0,
    end_time_ms         INTEGER NOT NULL DEFAULT 0,
    update_time_ms      INTEGER NOT NULL
);
CREATE INDEX jobs_by_status ON jobs (status, priority DESC, create_time_ms);

CREATE TABLE tasks (
    job_id          TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    task_name       TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    role            TEXT NOT NULL,
    party_id        TEXT NOT NULL,
    component       TEXT NOT NULL,
    status          TEXT NOT NULL,
    party_status    TEXT NOT NULL,
    error           TEXT NOT NULL DEFAULT '',
    pid             INTEGER NOT NULL DEFAULT 0,
    start_time_ms   INTEGER NOT NULL DEFAULT 0,
    end_time_ms     INTEGER NOT NULL DEFAULT 0,
    update_time_ms  INTEGER NOT NULL,
    PRIMARY KEY (job_id, task_name, attempt, role, party_id)
);
CREATE INDEX tasks_by_party_status ON tasks (party_status);

CREATE TABLE task_attempts (
    job_id          TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    task_name       TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    component       TEXT NOT NULL,
    status          TEXT NOT NULL,
    error           TEXT NOT NULL DEFAULT '',
    start_time_ms   INTEGER NOT NULL DEFAULT 0,
    end_time_ms     INTEGER NOT NULL DEFAULT 0,
    update_time_ms  INTEGER NOT NULL,
    PRIMARY KEY (job_id, task_name, attempt)
);

CREATE TABLE schedule_tasks (
    job_id          TEXT NOT NULL,
    task_name       TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    role            TEXT NOT NULL,
    party_id        TEXT NOT NULL,
    status          TEXT NOT NULL,
    error           TEXT NOT NULL DEFAULT '',
    start_time_ms   INTEGER NOT NULL DEFAULT 0,
    end_time_ms     INTEGER NOT NULL DEFAULT 0,
    update_time_ms  INTEGER NOT NULL,
    PRIMARY KEY (job_id, task_name, attempt, role, party_id),
    FOREIGN KEY (job_id, task_name, attempt)
        REFERENCES task_attempts (job_id, task_name, attempt) ON DELETE CASCADE
);

CREATE TABLE outputs (
    job_id          TEXT NOT NULL,
    task_name       TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    role            TEXT NOT NULL,
    party_id        TEXT NOT NULL,
    output_key      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    namespace       TEXT NOT NULL,
    name            TEXT NOT NULL,
    create_time_ms  INTEGER NOT NULL,
    PRIMARY KEY (job_id, task_name, attempt, role, party_id, output_key),
    FOREIGN KEY (job_id, task_name, attempt, role, party_id)
        REFERENCES tasks (job_id, task_name, attempt, role, party_id) ON DELETE CASCADE,
    FOREIGN KEY (namespace, name) REFERENCES data_tables (namespace, name)
);
