-- Job lifecycle: registered component providers, resources, retries, progress, tracebacks.
CREATE TABLE providers (
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    device          TEXT NOT NULL,
    module          TEXT NOT NULL,
    path            TEXT NOT NULL DEFAULT '',
    create_time_ms  INTEGER NOT NULL,
    PRIMARY KEY (name, version, device)
);

-- Cores this party reserved for the job, and whether they are held now.
ALTER TABLE jobs ADD COLUMN cores INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN resources_held INTEGER NOT NULL DEFAULT 0;

-- A retry waits until not_before_ms (backoff).
ALTER TABLE task_attempts ADD COLUMN not_before_ms INTEGER NOT NULL DEFAULT 0;

-- Progress (0-100) a task reports while it runs.
ALTER TABLE tasks ADD COLUMN progress INTEGER NOT NULL DEFAULT 0;
ALTER TABLE schedule_tasks ADD COLUMN progress INTEGER NOT NULL DEFAULT 0;

-- The traceback of a failed component, kept at its own party only.
ALTER TABLE tasks ADD COLUMN traceback TEXT NOT NULL DEFAULT '';
