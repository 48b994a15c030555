"""WeChat's errcodes said in words for people: what each means and what to do about it (one table, one function)."""

from __future__ import annotations

MP_SETTINGS = "mp.weixin.qq.com, Development → Development settings (开发管理 → 开发设置)"

# errcode -> one sentence: what went wrong, then what to do. The errcodes of jscode2session, stable_token,
# getuserphonenumber and checksession that this console meets.
ERRCODE_WORDS: dict[int, str] = {
    -1: "WeChat is busy (a system error on its side): try again in a minute.",
    40001: "WeChat refused the credential: the appSecret is wrong or was reset, or an access token was replaced; "
    "check the appSecret, then try again.",
    40002: "WeChat refused the request's grant type: a bug of this console, please report it.",
    40013: f"The appId is wrong: WeChat knows no mini program with it. Copy it from {MP_SETTINGS}.",
    40029: "The wx.login() code is wrong, expired or for another mini program: the mini program should call "
    "wx.login() again.",
    40125: f"The appSecret is wrong: copy it again from {MP_SETTINGS}, or reset it there and paste the new one.",
    40163: "The wx.login() code was already used: the mini program should call wx.login() again.",
    40164: "This server's IP address is not on the mini program's IP whitelist: add it in "
    f"{MP_SETTINGS} → IP whitelist.",
    40226: "WeChat's risk control blocked this user (a high-risk account): the user must appeal in WeChat.",
    41002: "The appId is missing: enter the mini program's appId.",
    41004: "The appSecret is missing: enter the mini program's appSecret.",
    41008: "The wx.login() code is missing: the mini program should send the code wx.login() gave it.",
    42001: "The access token expired: the console fetches a new one by itself, so try again.",
    45011: "WeChat rate-limited this mini program (too many calls a minute): try again in a minute.",
    48001: "This mini program may not call that WeChat API: check its permissions on mp.weixin.qq.com.",
    61024: "WeChat refused the access token for this API (a third-party platform's app needs the platform's own "
    "token): check how the mini program is published.",
    87009: "The signature does not match: the user's session key changed; the mini program should log in again.",
}


def explain_errcode(errcode: int | None) -> str:
    """What WeChat's errcode means and what to do, in a sentence; an errcode not in the table is said as such."""
    if errcode is None:
        return "WeChat gave no errcode."
    return ERRCODE_WORDS.get(
        errcode,
        f"An errcode this console does not know: look up {errcode} in WeChat's error code list "
        "(developers.weixin.qq.com).",
    )
