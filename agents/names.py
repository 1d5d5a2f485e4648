"""Activity function names of the agents (orchestrators import these, never repeat the literals)."""

COLLECT_DATA = "collect_data"
ANALYZE = "analyze"
SUMMARIZE = "summarize"
CATEGORIZE = "categorize"
AGGREGATE = "aggregate"
ERROR_HANDLER = "error_handler"

ANALYSIS_AGENTS = (ANALYZE, SUMMARIZE, CATEGORIZE)
"""The agents that read the document bundle and whose outputs ``aggregate`` merges."""

AGENTS = (COLLECT_DATA, *ANALYSIS_AGENTS, AGGREGATE, ERROR_HANDLER)
