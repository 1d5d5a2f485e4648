"""Names of the workflows (orchestrator functions) and of the non-agent activity they use."""

SEQUENTIAL = "sequential"
PARALLEL = "parallel"
PIPELINE = "pipeline"
APPROVAL = "approval"

WORKFLOWS = (SEQUENTIAL, PARALLEL, PIPELINE, APPROVAL)

AGENT_STEP = "agent_step"
"""Sub-orchestrator running one agent with retries; parallel stages run one per branch."""

SAVE_RESULT = "save_workflow_result"
"""Activity that writes a finished workflow's state to Blob storage."""

APPROVAL_EVENT = "approval"
"""External event the approval workflow waits for: ``{"approved": bool, "by": str, "comment": str}``."""
