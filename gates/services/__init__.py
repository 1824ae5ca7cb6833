"""The gate workflow: the only way views, the API, admin actions and tasks change gates.

Every service runs in a transaction and writes the activity log. One module per
workflow; import the services from here:

- `lifecycle`: starting initiatives (one, or many at once for the import), changing
  one (a new sponsor becomes the gatekeeper), resuming it after a hold, completing it,
  and opening a stage's gate.
- `checklists`: ticking, unticking and annotating checklist items.
- `production_bar`: targets and measurements, and the items that follow them.
- `decisions`: gatekeepers and their rule, review requests, votes and decisions.
- `overdue`: announcing the gates past their due date to the webhooks that listen.
- `moments`: when an event happened; the services that take `at` (imported history)
  check it here: not in the future, not before the initiative started.
"""

from gates.services.checklists import (
    ChecklistChange,
    checklist_item_update,
    checklist_items_update,
)
from gates.services.decisions import (
    combine_votes,
    decision_snapshot,
    gate_request_review,
    gate_reschedule,
    gate_rule_set,
    gate_vote,
    gatekeeper_add,
    gatekeeper_remove,
)
from gates.services.lifecycle import (
    InitiativeStart,
    gate_open,
    initiative_complete,
    initiative_resume,
    initiative_start,
    initiative_update,
    initiatives_start,
)
from gates.services.moments import event_time
from gates.services.production_bar import (
    MeasurementInput,
    measurement_record,
    measurements_record,
    target_create,
)

__all__ = [
    "ChecklistChange",
    "InitiativeStart",
    "MeasurementInput",
    "checklist_item_update",
    "checklist_items_update",
    "combine_votes",
    "decision_snapshot",
    "event_time",
    "gate_open",
    "gate_request_review",
    "gate_reschedule",
    "gate_rule_set",
    "gate_vote",
    "gatekeeper_add",
    "gatekeeper_remove",
    "initiative_complete",
    "initiative_resume",
    "initiative_start",
    "initiative_update",
    "initiatives_start",
    "measurement_record",
    "measurements_record",
    "target_create",
]
