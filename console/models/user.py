"""Users of the mini programs, and the corps they belong to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, ForeignKey, Index, String, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import Model
from console.models.name_search import NAME_SEARCH_DDL
from console.models.types import UTCDateTime, utcnow

USER_ACTIVE = "active"
USER_DISABLED = "disabled"


class User(Model):
    """A person who signs in through one or more WeChat bindings."""

    __tablename__ = "users"
    __table_args__ = (
        # The console's user search (bench/search.py): a name contains a term (ILIKE '%term%'), which only a
        # trigram index serves on PostgreSQL. SQLite has no such index type: there the same definition is an
        # empty partial index (WHERE 0), so that one schema description holds for both databases.
        Index(
            "ix_users_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
            sqlite_where=text("0"),
        ),
        # A phone starts with a term: varchar_pattern_ops serves LIKE 'term%' (and =) whatever the collation.
        Index("ix_users_phone", "phone", postgresql_ops={"phone": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)  # sorting by name
    avatar_url: Mapped[str | None] = mapped_column(String(512))
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=USER_ACTIVE, index=True)  # the list's status filter
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)  # sorting by date

    bindings = relationship("WeChatBinding", back_populates="user", cascade="all, delete-orphan")
    memberships = relationship("Membership", back_populates="user", cascade="all, delete-orphan")

    @property
    def is_disabled(self) -> bool:
        """Whether the account may no longer sign in."""
        return self.status == USER_DISABLED

    @property
    def last_login_at(self) -> datetime | None:
        """The user's latest login through any of their WeChat bindings (None: never)."""
        return max((binding.last_login_at for binding in self.bindings if binding.last_login_at), default=None)


class Corp(Model):
    """An organisation a user can act in; `slug` is the public corpId."""

    __tablename__ = "corps"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Membership(Model):
    """A user's membership of a corp."""

    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    corp_id: Mapped[int] = mapped_column(ForeignKey("corps.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User", back_populates="memberships")
    corp = relationship("Corp")


# The trigram operator class comes with the pg_trgm extension (the migrations create it too).
event.listen(
    User.__table__, "before_create", DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql")
)
# SQLite's trigram index on names (console/models/name_search.py; migration 0004 creates the same).
for _statement in NAME_SEARCH_DDL:
    event.listen(User.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
