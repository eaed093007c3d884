"""How the user API's answers look in FATE-Flow 2.2's JSON: the rows, records and messages both `flow`
and the FATE-Flow HTTP API answer with (pure; from the generated protos, no I/O)."""
