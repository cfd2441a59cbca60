"""What a submitted inspection sets off in other domains: the whole list, in the order it runs.

Each handler lives in its own domain and runs inside the submit's transaction (see
inspection/submission.py). Adding a consequence of submitting is one line here, not an import in
checklists/service.py. (What the submission means inside the checklists domain itself, such as
the supervision point it decides, stays in checklists/service.py.)
"""

from __future__ import annotations

from inspection.alerts.schedules import on_inspection_submitted as fulfil_scheduled_occurrence
from inspection.rectification.from_inspections import on_inspection_submitted as open_orders_for_failures
from inspection.submission import SubmitHandler

SUBMIT_HANDLERS: list[SubmitHandler] = [
    # failures become draft orders (and a major hazard a draft stop-work order)
    open_orders_for_failures,
    # the scheduled occurrence it carries out is fulfilled
    fulfil_scheduled_occurrence,
]
