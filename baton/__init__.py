"""baton's command-line client: start workflows, follow their progress, act on them (HTTP only)."""
