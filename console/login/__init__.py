"""The login element: the Type registry, getElement, and the official WeChatMiniType service."""

from console.errors import LoginError
from console.login.element import META, TYPES, RowData, element_for, find_login_method, get_element, register_type
from console.login.wechat_mini import WeChatMiniType

__all__ = [
    "META", "TYPES", "LoginError", "RowData", "WeChatMiniType", "element_for", "find_login_method",
    "get_element", "register_type",
]
