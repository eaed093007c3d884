-- Client tokens (stored hashed) and the grants partners need to use this party.
CREATE TABLE client_tokens (
    token_hash      TEXT PRIMARY KEY,   -- sha256 hex of the token; the token itself is never stored
    name            TEXT NOT NULL UNIQUE,
    is_admin        INTEGER NOT NULL,
    create_time_ms  INTEGER NOT NULL,
    expire_time_ms  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE grants (
    party_id        TEXT NOT NULL,
    kind            TEXT NOT NULL,      -- job | component | dataset
    value           TEXT NOT NULL,      -- '*' | component name | 'namespace/name' (either part may be '*')
    create_time_ms  INTEGER NOT NULL,
    PRIMARY KEY (party_id, kind, value)
);
