-- Messages that change another party's state (a job's final status, a task's end, returned cores),
-- written in the transaction of the state change that causes them and deleted once the party has
-- acknowledged them. `seq` orders each party's messages as they were written.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    party_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    rpc TEXT NOT NULL,
    payload BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    create_time_ms INTEGER NOT NULL
);
CREATE INDEX outbox_by_party ON outbox (party_id, seq);
