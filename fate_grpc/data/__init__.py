"""The party's own data: its folders, uploaded tables, models and task outputs."""
