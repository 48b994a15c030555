"""The seed's login element: the Type registry, getElement, RowData and the official WeChatMiniType."""

from console.errors import LoginError
from console.seed.registry import META, TYPES, RowData, element_for, get_element, register_type
from console.seed.wechat_mini import WeChatMiniType

__all__ = ["META", "TYPES", "LoginError", "RowData", "WeChatMiniType", "element_for", "get_element", "register_type"]
