"""This node as a job participant: accepting jobs, running its tasks, reporting, cleaning up."""
