-- When each task attempt's row was made at this party (FATE's create_time of task rows).
ALTER TABLE tasks ADD COLUMN create_time_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE schedule_tasks ADD COLUMN create_time_ms INTEGER NOT NULL DEFAULT 0;
