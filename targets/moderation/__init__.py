"""The mock moderation service: domain core, safeguards and (in-process) store.

Public API used by the harness and by the HTTP app; nothing here imports `harness`.
"""

from .clock import Clock, ManualClock, ScaledClock
from .config import RestoreConfig
from .durations import Duration, format_duration, parse_duration
from .errors import (
    ERRORS_BY_CODE,
    Conflict,
    Forbidden,
    InvalidRequest,
    ModerationError,
    NotFound,
    Unauthorized,
    Unavailable,
)
from .model import (
    ACTIONS,
    APPLIED,
    BLOCKED,
    CANCELLED,
    DECISIONS,
    DELAYED,
    DISMISSED,
    DOWN_STATUSES,
    ESCALATED,
    FINAL_STATUSES,
    PENDING_APPROVAL,
    REJECTED,
    REQUEUED,
    RESTORED,
    STATUS_AFTER,
    AccountProfile,
    AccountView,
    AuditEntry,
    OperatorRecord,
    Outcome,
    PendingView,
    ReportView,
)
from .safeguards import SAFEGUARD_NAMES, TARGET_FAULTS, SafeguardsConfig
from .safeguards.anomaly_detection import AnomalyDetectionConfig
from .safeguards.delayed_action import DelayedActionConfig
from .safeguards.leaver_lockout import LeaverLockoutConfig
from .safeguards.protected_list import ProtectedListConfig
from .safeguards.rate_limit import RateLimitConfig
from .safeguards.two_person_rule import TwoPersonRuleConfig
from .service import RESTORE_MONITOR, Journal, ModerationService, bernoulli
from .spec import ServiceSpec

__all__ = [
    "ACTIONS",
    "APPLIED",
    "BLOCKED",
    "CANCELLED",
    "DECISIONS",
    "DELAYED",
    "DISMISSED",
    "DOWN_STATUSES",
    "ERRORS_BY_CODE",
    "ESCALATED",
    "FINAL_STATUSES",
    "PENDING_APPROVAL",
    "REJECTED",
    "REQUEUED",
    "RESTORED",
    "RESTORE_MONITOR",
    "SAFEGUARD_NAMES",
    "STATUS_AFTER",
    "TARGET_FAULTS",
    "AccountProfile",
    "AccountView",
    "AnomalyDetectionConfig",
    "AuditEntry",
    "Clock",
    "Conflict",
    "DelayedActionConfig",
    "Duration",
    "Forbidden",
    "InvalidRequest",
    "Journal",
    "LeaverLockoutConfig",
    "ManualClock",
    "ModerationError",
    "ModerationService",
    "NotFound",
    "OperatorRecord",
    "Outcome",
    "PendingView",
    "ProtectedListConfig",
    "RateLimitConfig",
    "ReportView",
    "RestoreConfig",
    "SafeguardsConfig",
    "ScaledClock",
    "ServiceSpec",
    "TwoPersonRuleConfig",
    "Unauthorized",
    "Unavailable",
    "bernoulli",
    "format_duration",
    "parse_duration",
]
