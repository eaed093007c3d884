-- Notes a user of this party keeps on a job (FATE's job description, `flow job add-notes`).
ALTER TABLE jobs ADD COLUMN description TEXT NOT NULL DEFAULT '';
