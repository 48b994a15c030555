"""Users for support: search, the user's page, unbind with a reason, bind tickets, corps, tokens, disable."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import AccessToken, AuditEvent, User, WeChatBinding


@pytest.fixture
def people(app, harness):
    """Three users: alice and bob on shopLogin (alice also on blogLogin), carol with a phone."""
    shop = harness.add_method(name="shopLogin", open_platform="platform")
    blog = harness.add_method(name="blogLogin", open_platform="platform")
    ids = {
        name: harness.register(shop, name.lower(), name=name)["user"]["userId"]
        for name in ("Alice Smith", "Bob Smith", "Carol Jones")
    }
    harness.login(blog, "alice smith")  # unionId links alice on blogLogin too
    with app.app_context():
        db.session.get(User, ids["Carol Jones"]).phone = "+8613800138000"
        db.session.commit()
        bindings = {
            b.user_id: b
            for b in db.session.scalars(select(WeChatBinding).where(WeChatBinding.login_method_id == shop.id))
        }
        openids = {name: bindings[user_id].openid for name, user_id in ids.items()}
        unionids = {name: bindings[user_id].unionid for name, user_id in ids.items()}
    return {"ids": ids, "openids": openids, "unionids": unionids, "shop": shop, "blog": blog}


def names(page) -> list[str]:
    return re.findall(r'href="/users/\d+">([^<]+)</a>', page.get_data(as_text=True))


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["Carol Jones", "Bob Smith", "Alice Smith"]),
        ("smith", ["Bob Smith", "Alice Smith"]),
        ("SMITH alice", ["Alice Smith"]),  # terms are AND-ed
        ("alice jones", []),
        ("+86138", ["Carol Jones"]),  # the start of a phone
        ("13800", []),  # not the start of any phone
        ("ith", ["Bob Smith", "Alice Smith"]),  # any part of a name (SQLite: through the trigram index)
        ("mi", ["Bob Smith", "Alice Smith"]),  # shorter than a trigram
        ("100%", []),  # LIKE wildcards are literal
    ],
)
def test_search_splits_terms_and_matches_each_across_the_columns(support, people, query, expected):
    assert names(support.get("/users", query_string={"q": query})) == expected


def test_search_finds_users_by_id_openid_and_unionid(support, people):
    assert "Bob Smith" in names(support.get("/users", query_string={"q": str(people["ids"]["Bob Smith"])}))
    assert names(support.get("/users", query_string={"q": people["openids"]["Carol Jones"]})) == ["Carol Jones"]
    assert names(support.get("/users", query_string={"q": people["unionids"]["Alice Smith"][:12]})) == ["Alice Smith"]
    assert names(support.get("/users", query_string={"q": people["openids"]["Carol Jones"][3:15]})) == []  # starts only


def test_sort_and_page_size_are_whitelisted(support, people):
    by_name = support.get("/users", query_string={"sort": "name", "dir": "asc"})
    unknown = support.get("/users", query_string={"sort": "password_hash", "dir": "sideways", "per_page": "7"})
    assert names(by_name) == ["Alice Smith", "Bob Smith", "Carol Jones"]
    assert unknown.status_code == 200 and names(unknown) == ["Carol Jones", "Bob Smith", "Alice Smith"]
    assert '<option selected value="20">' in unknown.get_data(as_text=True)


def test_pagination_keeps_the_query_string(app, support, harness):
    with app.app_context():
        db.session.add_all(User(name=f"Dora {number:02d}") for number in range(45))
        db.session.commit()

    first = support.get("/users", query_string={"q": "dora", "sort": "name", "dir": "asc", "per_page": "20"})
    third = support.get(
        "/users", query_string={"q": "dora", "sort": "name", "dir": "asc", "per_page": "20", "page": "3"}
    )
    beyond = support.get("/users", query_string={"q": "dora", "page": "99"})

    links = [link.strip() for link in re.findall(r'class="page-link" href="([^"]+)"', first.get_data(as_text=True))]
    assert "/users?q=dora&amp;sort=name&amp;dir=asc&amp;per_page=20&amp;page=2" in links
    assert names(first)[0] == "Dora 00" and names(third) == [f"Dora {number}" for number in range(40, 45)]
    assert beyond.status_code == 200 and names(beyond) == []


def test_an_empty_search_says_so(support, people):
    assert "No user matches" in support.get("/users", query_string={"q": "zebra"}).get_data(as_text=True)


def test_the_user_page_shows_bindings_tokens_and_history_never_a_session_key(app, support, people, simulator):
    harness_token_user = people["ids"]["Alice Smith"]
    page = support.get(f"/users/{harness_token_user}").get_data(as_text=True)
    assert (
        "Alice Smith" in page and people["openids"]["Alice Smith"] in page and people["unionids"]["Alice Smith"] in page
    )
    assert "shopLogin" in page and "blogLogin" in page and "register" in page
    with app.app_context():
        ciphertexts = db.session.scalars(select(WeChatBinding.session_key_ciphertext)).all()
    assert not any(ciphertext in page for ciphertext in ciphertexts)
    assert not any(key in page for key in simulator.state.issued_session_keys)


def test_a_missing_user_is_404(support):
    assert support.get("/users/999").status_code == 404


def test_unbind_confirmation_names_the_user_and_the_mini_program(support, people):
    user_id, blog = people["ids"]["Alice Smith"], people["blog"]
    page = support.get(f"/users/{user_id}/bindings/{blog.id}/unbind").get_data(as_text=True)
    assert "Alice Smith" in page and "blogLogin title" in page and 'name="reason"' in page


@pytest.mark.parametrize("reason", ["", "   "])
def test_unbind_needs_a_reason_and_changes_nothing_without_one(support, people, unchanged, reason):
    user_id, blog = people["ids"]["Alice Smith"], people["blog"]
    with unchanged():
        response = support.post(f"/users/{user_id}/bindings/{blog.id}/unbind", data={"reason": reason})
    assert response.status_code == 200 and "This field is required." in response.get_data(as_text=True)


def test_unbind_removes_the_binding_revokes_its_tokens_and_audits_actor_and_reason(app, support, people, harness):
    shop = people["shop"]
    token = harness.token(shop, "bob smith")
    user_id = people["ids"]["Bob Smith"]

    response = support.post(f"/users/{user_id}/bindings/{shop.id}/unbind", data={"reason": "lost phone, ticket 42"})

    assert response.status_code == 302 and response.headers["Location"] == f"/users/{user_id}"
    assert harness.get("/me", token=token).status_code == 401
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "unbind"))
        assert (event.actor_type, event.actor, event.user_id, event.login_method_name) == (
            "console",
            "helper",
            user_id,
            "shopLogin",
        )
        assert event.details["reason"] == "lost phone, ticket 42" and event.details["revokedTokens"] == 1
    again = support.post(f"/users/{user_id}/bindings/{shop.id}/unbind", data={"reason": "again"})
    assert "no WeChat binding on this login method" in again.get_data(as_text=True)


def test_a_bind_ticket_is_shown_once_as_text_and_qr_code_and_binds(app, support, people, harness):
    user_id, blog = people["ids"]["Bob Smith"], people["blog"]
    page = support.get(f"/users/{user_id}").get_data(as_text=True)
    assert "Issue bind ticket" in page

    response = support.post(f"/users/{user_id}/ticket", data={"login_method_id": str(blog.id)})

    text = response.get_data(as_text=True)
    ticket = re.search(r'<code id="ticket">([^<]+)</code>', text).group(1)
    assert "<svg" in text and response.headers["Cache-Control"] == "no-store"
    bound = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "bob smith"), "ticket": ticket})
    assert bound.status_code == 200 and bound.json["userId"] == user_id


def test_a_bind_ticket_for_a_bound_mini_program_is_refused(support, people, unchanged):
    user_id, shop = people["ids"]["Bob Smith"], people["shop"]
    with unchanged():
        response = support.post(f"/users/{user_id}/ticket", data={"login_method_id": str(shop.id)})
    assert response.status_code == 400 and "Not a valid choice." in response.get_data(as_text=True)


def test_memberships_are_added_and_removed_from_the_users_page(app, support, people, harness):
    corp_id = harness.add_corp("acme", "Acme")
    user_id = people["ids"]["Carol Jones"]

    added = support.post(f"/users/{user_id}/corps", data={"corp_id": str(corp_id)})
    page = support.get(f"/users/{user_id}").get_data(as_text=True)
    twice = support.post(f"/users/{user_id}/corps", data={"corp_id": str(corp_id)})
    removed = support.post(f"/users/{user_id}/corps/{corp_id}/remove")
    gone = support.post(f"/users/{user_id}/corps/{corp_id}/remove", follow_redirects=True)

    assert added.status_code == 302 and "Acme" in page and "acme" in page
    assert twice.status_code == 400
    assert removed.status_code == 302 and "The user is not a member of that corp." in gone.get_data(as_text=True)
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("membership.%"))).all()
        assert actions == ["membership.add", "membership.remove"]


def test_revoking_a_token_stops_it_at_once(app, support, people, harness):
    token = harness.token(people["shop"], "carol jones")
    user_id = people["ids"]["Carol Jones"]
    with app.app_context():
        token_id = db.session.scalar(select(AccessToken.id))

    response = support.post(f"/users/{user_id}/tokens/{token_id}/revoke")
    again = support.post(f"/users/{user_id}/tokens/{token_id}/revoke", follow_redirects=True)

    assert response.status_code == 302 and harness.get("/me", token=token).status_code == 401
    assert "unknown or already revoked" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "token.revoke")).actor == "helper"


def test_a_token_of_another_user_cannot_be_revoked_through_this_one(app, support, people, harness, unchanged):
    harness.token(people["shop"], "carol jones")
    with app.app_context():
        token_id = db.session.scalar(select(AccessToken.id))
    with unchanged():
        support.post(f"/users/{people['ids']['Bob Smith']}/tokens/{token_id}/revoke")
    with app.app_context():
        assert db.session.get(AccessToken, token_id).revoked_at is None


def test_disable_and_enable_a_user(app, support, people, harness):
    user_id, shop = people["ids"]["Bob Smith"], people["shop"]

    support.post(f"/users/{user_id}/disable")
    refused = harness.login(shop, "bob smith")
    support.post(f"/users/{user_id}/enable")
    allowed = harness.login(shop, "bob smith")

    assert refused.json["error"]["code"] == "account_disabled" and allowed.status_code == 200
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("user.%"))).all()
        assert actions == ["user.disable", "user.enable"]


def test_support_asks_wechat_whether_a_session_key_is_still_valid(support, people, simulator):
    import requests

    shop, user_id = people["shop"], people["ids"]["Bob Smith"]
    url = f"/users/{user_id}/bindings/{shop.id}/check-session-key"
    fresh = support.post(url, follow_redirects=True).get_data(as_text=True)
    # Bob's phone calls wx.login again but never logs in here: WeChat's key moves on, ours does not
    requests.get(
        f"{simulator.url}/sns/jscode2session",
        timeout=5,
        params={
            "appid": shop.app_id,
            "secret": shop.secret,
            "js_code": simulator.code(shop.app_id, "bob smith"),
            "grant_type": "authorization_code",
        },
    )
    stale = support.post(url, follow_redirects=True).get_data(as_text=True)

    assert "WeChat still accepts Bob Smith&#39;s session key" in fresh
    assert "WeChat no longer accepts Bob Smith&#39;s session key" in stale
    assert "Still valid?" in stale


def test_the_name_index_follows_renames_and_deletions(app, support, people):
    from console.services.users import UserQuery, search_users

    with app.app_context():
        bob = db.session.get(User, people["ids"]["Bob Smith"])
        bob.name = "Robert Brown"
        db.session.delete(db.session.get(User, people["ids"]["Carol Jones"]))
        db.session.commit()
        found = {user.name for user in search_users(UserQuery(q="row")).items}
        gone = search_users(UserQuery(q="Jones")).items
    assert found == {"Robert Brown"} and gone == []


def test_a_long_list_is_counted_only_ten_pages_ahead(app, support):
    from console.services.users import UserQuery, search_users

    with app.app_context():
        db.session.add_all(User(name=f"User {index}") for index in range(250))
        db.session.commit()
        first = search_users(UserQuery(per_page=20))
        last = search_users(UserQuery(per_page=20, page=13))
    assert (first.total, first.capped) == (220, True)
    assert (last.total, last.capped, len(last.items)) == (250, False, 10)
    assert "More than 220 user(s)." in support.get("/users").get_data(as_text=True)
