"""``codeteam ui``: a local, read-only web app over the run records (runs, their task
graphs, every model and tool call), live while a run writes them."""
