"""The official Type auths.loginTypes.WeChatMiniType: every business rule of WeChat Mini Program login.

Views and the CLI call these methods; the methods validate, decide, write and audit. No database
transaction is held open while WeChat is called.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from console.cache import shared_cache
from console.errors import LoginError
from console.extensions import db
from console.login.audit import record
from console.login.element import RowData, end_read, register_type, transaction
from console.login.inputs import (
    BindInput,
    DecryptInput,
    LoginInput,
    PhoneInput,
    RegisterInput,
    UserIdInput,
    validated,
)
from console.login.metrics import count_wechat_error
from console.login.shapes import corp_list, user_dict
from console.login.wechat_tokens import wechat_access_token
from console.models import (
    BIND_CODE,
    BIND_TICKET,
    LOGIN_CODE,
    WECHAT_MINI_TYPE,
    AccessToken,
    LoginMethod,
    Membership,
    USER_DISABLED,
    OneTimeCode,
    User,
    WeChatBinding,
    utcnow,
)
from console.security.codes import digest, find_code, issue_code, redeem_code
from console.security.keyring import KeyRingError, keyring
from console.wechat.client import INVALID_ACCESS_TOKEN, WeChatSession, wechat_client
from console.wechat.crypto import decrypt_user_data, raw_data_signature_matches, session_signature

DEFAULT_USER_NAME = "WeChat user"
WECHAT_CODE_LIFETIME = 300  # seconds a wx.login() code lives at WeChat


@register_type(WECHAT_MINI_TYPE)
class WeChatMiniType:
    """A WeChat Mini Program login method (one instance per mini program), with the seed's API."""

    typeName = WECHAT_MINI_TYPE

    def __init__(self, method: LoginMethod):
        self.method = method

    # -- the seed's properties -------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The instance name, e.g. myWeChatMiniLogin."""
        return self.method.name

    @property
    def title(self) -> str:
        """The display name of the login method."""
        return self.method.title

    @property
    def allowRegister(self) -> int:
        """1 when unknown WeChat users may register, else 0."""
        return 1 if self.method.allow_register else 0

    @property
    def authConfig(self) -> dict:
        """{"appId", "appSecret"}: the mini program's credentials (the secret decrypted: never log it)."""
        return {"appId": self.method.app_id, "appSecret": keyring().decrypt(self.method.app_secret_ciphertext)}

    # -- the seed's methods ----------------------------------------------------------------------

    def getLoginCode(self, code: str) -> dict:
        """Log a WeChat user in: {"loginCode", "expiresIn", "corpList"} if known, else {"bindCode", "expiresIn"}."""
        code = validated(LoginInput, {"code": code}).code
        self._ensure_enabled()
        session = self._exchange(code)
        try:
            return self._login(session)
        except IntegrityError:
            # A parallel first login of the same person linked them first: log in to that binding.
            return self._login(session)

    def register(self, bindCode: str, name: str | None = None, avatarUrl: str | None = None) -> RowData:
        """Create the user a bindCode stands for; return the new user as RowData (userId, name, ...)."""
        return RowData(self.registerAndLogin(bindCode, name, avatarUrl)["user"])

    def bind(self, userId: int, code: str) -> dict:
        """Bind an existing account to the WeChat user of a wx.login() code."""
        user_id = validated(UserIdInput, {"userId": userId}).userId
        code = validated(LoginInput, {"code": code}).code
        self._ensure_enabled()
        self._ensure_can_bind(user_id)
        return self._bind(user_id, self._exchange(code))

    def unbind(self, userId: int) -> dict:
        """Remove an account's binding to this mini program, unless it is the account's only way in."""
        user_id = validated(UserIdInput, {"userId": userId}).userId
        self._ensure_enabled()
        return self._remove_binding(user_id, keep_last=True)

    # -- beyond the seed: the JSON API and the console -------------------------------------------

    def registerAndLogin(self, bindCode: str, name: str | None = None, avatarUrl: str | None = None) -> dict:
        """Register with a bindCode and log the new user in: {"user", "loginCode", "expiresIn", "corpList"}."""
        args = validated(RegisterInput, {"bindCode": bindCode, "name": name, "avatarUrl": avatarUrl})
        self._ensure_enabled()
        if not self.method.allow_register:
            raise LoginError("registration_closed")
        try:
            with transaction():
                bind_code = redeem_code(BIND_CODE, args.bindCode, self.method.id)
                if bind_code is None:
                    raise LoginError("invalid_bind_code")
                if self._binding_of_openid(bind_code.openid) is not None:
                    raise LoginError("already_registered")
                user = User(name=args.name or DEFAULT_USER_NAME, avatar_url=args.avatarUrl)
                db.session.add(user)
                if self.method.default_corp_id:
                    user.memberships.append(Membership(corp_id=self.method.default_corp_id))
                binding = WeChatBinding(
                    user=user,
                    login_method_id=self.method.id,
                    openid=bind_code.openid,
                    unionid=bind_code.unionid,
                    session_key_ciphertext=bind_code.session_key_ciphertext,
                    session_key_set_at=bind_code.created_at,
                    last_login_at=utcnow(),
                )
                bind_code.session_key_ciphertext = None  # the binding holds it now; keep one copy at rest
                db.session.add(binding)
                db.session.flush()
                record("register", user_id=user.id, method=self.method, openId=binding.openid, unionId=binding.unionid)
                answer = self._login_answer(user.id, binding.id)
                answer = {"user": user_dict(user), **answer}
        except IntegrityError:
            # The same WeChat user registered through another bindCode at the same moment.
            raise LoginError("already_registered") from None
        return answer

    def bindWithTicket(self, ticket: str, code: str) -> dict:
        """Bind the account a console-issued ticket names to the WeChat user of a wx.login() code."""
        args = validated(BindInput, {"ticket": ticket, "code": code})
        self._ensure_enabled()
        found = find_code(BIND_TICKET, args.ticket, self.method.id)
        if found is None:
            raise LoginError("invalid_ticket")
        self._ensure_can_bind(found.user_id)
        return self._bind(found.user_id, self._exchange(args.code), ticket=args.ticket)

    def decryptData(self, userId: int, encryptedData: str, iv: str, rawData: str | None = None,
                    signature: str | None = None) -> dict:
        """Open the user's encryptedData with their stored session key: {"data": {...}}, watermark checked.

        A nickname and avatar found in the data update the user's profile.
        """
        user_id = validated(UserIdInput, {"userId": userId}).userId
        args = validated(DecryptInput, {"encryptedData": encryptedData, "iv": iv, "rawData": rawData, "signature": signature})
        if (args.rawData is None) != (args.signature is None):
            raise LoginError("invalid_request", "Fields 'rawData' and 'signature' come together or not at all.")
        self._ensure_enabled()
        self._active_user(user_id)
        session_key = self._session_key(self._bound(user_id))
        if args.rawData is not None and not raw_data_signature_matches(args.rawData, session_key, args.signature):
            raise LoginError("invalid_signature")
        data = decrypt_user_data(session_key, args.encryptedData, args.iv)
        watermark = data.get("watermark")
        if not isinstance(watermark, dict) or watermark.get("appid") != self.method.app_id:
            raise LoginError("watermark_mismatch")
        self._update_profile(user_id, data)
        return {"data": data}

    def getPhoneNumber(self, userId: int, code: str) -> dict:
        """Exchange a getPhoneNumber button code for the user's phone and save it on the user."""
        user_id = validated(UserIdInput, {"userId": userId}).userId
        code = validated(PhoneInput, {"code": code}).code
        self._ensure_enabled()
        self._active_user(user_id)
        openid = self._bound(user_id).openid
        self._mark_presented("phone", code)
        info = self._call_wechat(lambda token: wechat_client().phone_number(token, code, openid))
        watermark = info.get("watermark")
        if isinstance(watermark, dict) and watermark.get("appid") not in (None, self.method.app_id):
            raise LoginError("watermark_mismatch")
        phone = {
            "phoneNumber": str(info["phoneNumber"]),
            "purePhoneNumber": str(info.get("purePhoneNumber") or info["phoneNumber"]),
            "countryCode": str(info.get("countryCode") or ""),  # WeChat sends a number at times
        }
        with transaction():
            db.session.get(User, user_id).phone = phone["phoneNumber"][:32]
            record("phone.update", user_id=user_id, method=self.method)
        return phone

    def checkSessionKey(self, userId: int) -> dict:
        """Ask WeChat whether the stored session key of the user's binding is still valid (wxa/checksession)."""
        user_id = validated(UserIdInput, {"userId": userId}).userId
        binding = self._bound(user_id)
        age = int((utcnow() - binding.session_key_set_at).total_seconds()) if binding.session_key_set_at else None
        try:
            session_key = self._session_key(binding)
        except LoginError:
            return {"valid": False, "sessionKeyAge": age}
        openid, signature = binding.openid, session_signature(session_key)
        valid = self._call_wechat(lambda token: wechat_client().check_session(token, openid, signature))
        return {"valid": valid, "sessionKeyAge": age}

    def issueBindTicket(self, userId: int) -> str:
        """A one-time ticket (10 minutes) with which the user binds this mini program to their account."""
        user_id = validated(UserIdInput, {"userId": userId}).userId
        with transaction():
            self._active_user(user_id)
            ticket = issue_code(
                BIND_TICKET, current_app.config["BIND_TICKET_TTL"], login_method_id=self.method.id, user_id=user_id
            )
            record("ticket.issue", user_id=user_id, method=self.method)
        return ticket

    def removeBinding(self, userId: int, reason: str | None = None) -> dict:
        """Support's unbind: remove the binding even if it is the account's last, recording the reason."""
        user_id = validated(UserIdInput, {"userId": userId}).userId
        return self._remove_binding(user_id, keep_last=False, reason=reason)

    # -- the rules -------------------------------------------------------------------------------

    def _ensure_enabled(self) -> None:
        if not self.method.enabled:
            raise LoginError("login_method_disabled", f"The login method {self.method.name!r} is switched off.")

    def _active_user(self, user_id: int) -> User:
        user = db.session.get(User, user_id)
        if user is None:
            raise LoginError("user_not_found", f"No user has the id {user_id}.")
        if user.is_disabled:
            raise LoginError("account_disabled")
        return user

    def _binding_of_openid(self, openid: str) -> WeChatBinding | None:
        return db.session.scalar(
            select(WeChatBinding).where(WeChatBinding.login_method_id == self.method.id, WeChatBinding.openid == openid)
        )

    def _binding_of_user(self, user_id: int) -> WeChatBinding | None:
        return db.session.scalar(
            select(WeChatBinding).where(WeChatBinding.login_method_id == self.method.id, WeChatBinding.user_id == user_id)
        )

    def _ensure_can_bind(self, user_id: int) -> None:
        """Refuse before spending the user's wx.login() code on a bind that cannot succeed."""
        self._active_user(user_id)
        if self._binding_of_user(user_id) is not None:
            raise LoginError("user_already_bound")

    def _mark_presented(self, kind: str, code: str) -> None:
        """A WeChat one-time code goes to WeChat once, ever: presented before, it is code_used."""
        if not shared_cache().add(f"wx{kind}:{digest(self.method.app_id + ':' + code)}", 1, timeout=WECHAT_CODE_LIFETIME):
            raise LoginError("code_used")

    def _exchange(self, code: str) -> WeChatSession:
        """Exchange a wx.login() code with WeChat for the user's WeChat session."""
        self._mark_presented("code", code)
        app_id, secret = self.method.app_id, keyring().decrypt(self.method.app_secret_ciphertext)
        end_read()
        try:
            return wechat_client().code_to_session(app_id, secret, code)
        except LoginError as error:
            count_wechat_error(error)
            raise

    def _call_wechat(self, call):
        """Run call(access_token) against WeChat; a token WeChat refuses (40001) is dropped and replaced once."""
        app_id, secret = self.method.app_id, keyring().decrypt(self.method.app_secret_ciphertext)
        end_read()
        try:
            token = wechat_access_token(app_id, secret)
            try:
                return call(token)
            except LoginError as error:
                if error.wechat_errcode != INVALID_ACCESS_TOKEN:
                    raise
            return call(wechat_access_token(app_id, secret, refused=token))
        except LoginError as error:
            count_wechat_error(error)
            raise

    def _bound(self, user_id: int) -> WeChatBinding:
        """The user's binding to this mini program; not_bound if there is none."""
        binding = self._binding_of_user(user_id)
        if binding is None:
            raise LoginError("not_bound")
        return binding

    def _session_key(self, binding: WeChatBinding) -> str:
        """The binding's session key in clear; session_key_stale when none is stored or no key opens it."""
        if not binding.session_key_ciphertext:
            raise LoginError("session_key_stale")
        try:
            return keyring().decrypt(binding.session_key_ciphertext)
        except KeyRingError:
            raise LoginError("session_key_stale") from None

    def _update_profile(self, user_id: int, data: dict) -> None:
        """Take the nickname and avatar WeChat's data carries, when they are usable and new."""
        changes = {}
        nickname, avatar = data.get("nickName"), data.get("avatarUrl")
        if isinstance(nickname, str) and nickname.strip():
            changes["name"] = nickname.strip()[:64]
        if isinstance(avatar, str) and avatar.startswith(("https://", "http://")) and len(avatar) <= 512:
            changes["avatar_url"] = avatar
        with transaction():
            user = db.session.get(User, user_id)
            changed = [field for field, value in changes.items() if getattr(user, field) != value]
            for field in changed:
                setattr(user, field, changes[field])
            if changed:
                record("profile.update", user_id=user_id, method=self.method, fields=changed)

    def _login(self, session: WeChatSession) -> dict:
        """Answer a login for a WeChat identity: a loginCode for a known user, a bindCode for a new one."""
        with transaction():
            # The hot path of the service: columns rather than entities, and plain UPDATE/INSERTs (make bench).
            known = db.session.execute(
                select(WeChatBinding.id, WeChatBinding.user_id, User.status)
                .join(User, User.id == WeChatBinding.user_id)
                .where(WeChatBinding.login_method_id == self.method.id, WeChatBinding.openid == session.openid)
            ).first()
            if known is None:
                linked = self._link_by_unionid(session)
                if linked is None:
                    return self._new_user_answer(session)
                known = (linked.id, linked.user_id, db.session.get(User, linked.user_id).status)
            binding_id, user_id, status = known
            if status == USER_DISABLED:
                raise LoginError("account_disabled")
            now = utcnow()
            fresh = {"session_key_ciphertext": keyring().encrypt(session.session_key), "session_key_set_at": now,
                     "last_login_at": now}
            if session.unionid:
                fresh["unionid"] = session.unionid
            db.session.execute(
                update(WeChatBinding).where(WeChatBinding.id == binding_id).values(**fresh)
                .execution_options(synchronize_session=False)
            )
            record("login", user_id=user_id, method=self.method, openId=session.openid)
            return self._login_answer(user_id, binding_id)

    def _new_user_answer(self, session: WeChatSession) -> dict:
        """A bindCode carrying the WeChat identity and its session key, when registration is open."""
        if not self.method.allow_register:
            raise LoginError("registration_closed")
        ttl = current_app.config["BIND_CODE_TTL"]
        bind_code = issue_code(
            BIND_CODE,
            ttl,
            login_method_id=self.method.id,
            openid=session.openid,
            unionid=session.unionid,
            session_key_ciphertext=keyring().encrypt(session.session_key),
        )
        return {"bindCode": bind_code, "expiresIn": ttl}

    def _link_by_unionid(self, session: WeChatSession) -> WeChatBinding | None:
        """Bind a WeChat user new to this mini program to the one account their unionid already has."""
        if not (self.method.link_by_unionid and session.unionid):
            return None
        user_ids = set(
            db.session.scalars(select(WeChatBinding.user_id).where(WeChatBinding.unionid == session.unionid))
        )
        if len(user_ids) != 1:
            return None  # unknown, or ambiguous: never guess between two accounts
        user_id = user_ids.pop()
        existing = self._binding_of_user(user_id)
        if existing is not None:
            # A parallel first login of this same WeChat user may have linked it a moment ago.
            return existing if existing.openid == session.openid else None
        binding = self._add_binding(user_id, session)
        record("bind", user_id=user_id, method=self.method, openId=session.openid, unionId=session.unionid, via="unionid")
        return binding

    def _add_binding(self, user_id: int, session: WeChatSession) -> WeChatBinding:
        """Bind the WeChat identity of a session to a user, keeping its session key (flushed, not committed)."""
        binding = WeChatBinding(
            user_id=user_id,
            login_method_id=self.method.id,
            openid=session.openid,
            unionid=session.unionid,
            session_key_ciphertext=keyring().encrypt(session.session_key),
            session_key_set_at=utcnow(),
        )
        db.session.add(binding)
        db.session.flush()
        return binding

    def _login_answer(self, user_id: int, binding_id: int) -> dict:
        ttl = current_app.config["LOGIN_CODE_TTL"]
        login_code = issue_code(LOGIN_CODE, ttl, login_method_id=self.method.id, user_id=user_id, binding_id=binding_id)
        return {"loginCode": login_code, "expiresIn": ttl, "corpList": corp_list(user_id)}

    def _bind(self, user_id: int, session: WeChatSession, ticket: str | None = None) -> dict:
        try:
            with transaction():
                if ticket is not None and redeem_code(BIND_TICKET, ticket, self.method.id) is None:
                    raise LoginError("invalid_ticket")
                self._active_user(user_id)
                holder = self._binding_of_openid(session.openid)
                if holder is not None:
                    raise LoginError("user_already_bound" if holder.user_id == user_id else "wechat_already_bound")
                if self._binding_of_user(user_id) is not None:
                    raise LoginError("user_already_bound")
                self._add_binding(user_id, session)
                record(
                    "bind", user_id=user_id, method=self.method, openId=session.openid, unionId=session.unionid,
                    via="ticket" if ticket else None,
                )
        except IntegrityError:
            # Bound by a parallel request between our check and our insert.
            raise LoginError("wechat_already_bound") from None
        return {"bound": True, "userId": user_id, "loginMethod": self.method.name, "openId": session.openid}

    def _remove_binding(self, user_id: int, keep_last: bool, reason: str | None = None) -> dict:
        with transaction():
            if db.session.get(User, user_id) is None:
                raise LoginError("user_not_found", f"No user has the id {user_id}.")
            binding = self._binding_of_user(user_id)
            if binding is None:
                raise LoginError("not_bound")
            if keep_last:
                count = db.session.scalar(select(func.count()).where(WeChatBinding.user_id == user_id))
                if count <= 1:
                    raise LoginError("last_login_method")
            now = utcnow()
            revoked = db.session.execute(
                update(AccessToken)
                .where(AccessToken.binding_id == binding.id, AccessToken.revoked_at.is_(None))
                .values(revoked_at=now)
            ).rowcount
            db.session.execute(
                update(OneTimeCode)
                .where(OneTimeCode.binding_id == binding.id, OneTimeCode.used_at.is_(None))
                .values(used_at=now)
            )
            record(
                "unbind", user_id=user_id, method=self.method, openId=binding.openid, unionId=binding.unionid,
                reason=reason, revokedTokens=revoked,
            )
            db.session.delete(binding)
        return {"unbound": True, "userId": user_id, "loginMethod": self.method.name}
