"""All models, imported here so metadata is complete for migrations."""
from store.models.audit import AuditEntry
from store.models.base import Base
from store.models.casework import Recusal, RoutingRule, StatusChange
from store.models.dialogue import Attachment, Direction, Message
from store.models.report import Outcome, RecipientKind, Report, SealedKey, Status, TriageState
from store.models.service_key import ServiceKey
from store.models.staff import Role, StaffMember

__all__ = [
    "AuditEntry", "Attachment", "Base", "Direction", "Message", "Outcome", "RecipientKind", "Recusal",
    "Report", "Role", "RoutingRule", "SealedKey", "ServiceKey", "StaffMember", "Status",
    "StatusChange", "TriageState",
]
