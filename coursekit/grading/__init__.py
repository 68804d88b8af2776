"""Grading: trusted scoring of nbgrader assignments, sandbox, gradebook writer."""
