"""``codeteam eval``: run the team or one agent over a benchmark, scored by hidden tests."""
