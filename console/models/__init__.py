"""The data model; importing this package registers every table."""

from console.models.admin_account import (
    ROLE_ADMIN,
    ROLE_SUPPORT,
    ROLES,
    AdminAccount,
    ConsoleSession,
    SignInFailure,
)
from console.models.audit import AuditEvent
from console.models.binding import WeChatBinding
from console.models.credentials import BIND_CODE, BIND_TICKET, LOGIN_CODE, AccessToken, OneTimeCode
from console.models.login_event import OUTCOME_OK, LoginEvent
from console.models.login_method import WECHAT_MINI_TYPE, LoginMethod
from console.models.two_factor import RecoveryCode, SecondFactor
from console.models.types import utcnow
from console.models.user import USER_ACTIVE, USER_DISABLED, Corp, Membership, User

__all__ = [
    "AccessToken",
    "AdminAccount",
    "AuditEvent",
    "ConsoleSession",
    "Corp",
    "LoginEvent",
    "LoginMethod",
    "Membership",
    "OneTimeCode",
    "RecoveryCode",
    "SecondFactor",
    "SignInFailure",
    "User",
    "WeChatBinding",
    "BIND_CODE",
    "BIND_TICKET",
    "LOGIN_CODE",
    "OUTCOME_OK",
    "ROLE_ADMIN",
    "ROLE_SUPPORT",
    "ROLES",
    "USER_ACTIVE",
    "USER_DISABLED",
    "WECHAT_MINI_TYPE",
    "utcnow",
]
