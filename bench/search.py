"""What the console's user pages run, called in an app context: the product's own search and user page.

The search's rules live in console/services/users.py (one place); this module only names the calls the
benchmark times.
"""

from __future__ import annotations

from console.extensions import db
from console.models import User
from console.services import api_tokens, bindings, users

PER_PAGE = 20  # the console's default page size


def search_users(q: str = "", sort: str = "created", descending: bool = True, page: int = 1):
    """One page of the console's user list for a search, as the users page asks for it."""
    return users.search_users(users.UserQuery(q=q, sort=sort, desc=descending, page=page, per_page=PER_PAGE))


def user_page(user_id: int) -> dict:
    """What a user's page loads: the user, bindings, live access tokens and latest audit events."""
    user = db.session.get(User, user_id)
    return {
        "user": user,
        "bindings": bindings.user_bindings(user),
        "tokens": api_tokens.active_tokens(user),
        "history": users.user_history(user),
    }
