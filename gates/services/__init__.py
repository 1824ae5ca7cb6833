"""The gate workflow: the only way views, the API, admin actions and tasks change gates.

Every service runs in a transaction and writes the activity log. One module per
workflow; import the services from here:

- `lifecycle`: starting an initiative, changing it (a new sponsor becomes the
  gatekeeper), resuming it after a hold, and opening a stage's gate.
- `checklists`: ticking, unticking and annotating checklist items.
- `production_bar`: targets and measurements, and the items that follow them.
- `decisions`: gatekeepers and their rule, review requests, votes and decisions.
"""

from gates.services.checklists import checklist_item_update
from gates.services.decisions import (
    combine_votes,
    decision_snapshot,
    gate_request_review,
    gate_rule_set,
    gate_vote,
    gatekeeper_add,
)
from gates.services.lifecycle import (
    gate_open,
    initiative_resume,
    initiative_start,
    initiative_update,
)
from gates.services.production_bar import (
    MeasurementInput,
    measurement_record,
    measurements_record,
    target_create,
)

__all__ = [
    "MeasurementInput",
    "checklist_item_update",
    "combine_votes",
    "decision_snapshot",
    "gate_open",
    "gate_request_review",
    "gate_rule_set",
    "gate_vote",
    "gatekeeper_add",
    "initiative_resume",
    "initiative_start",
    "initiative_update",
    "measurement_record",
    "measurements_record",
    "target_create",
]
