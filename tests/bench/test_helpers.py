"""Smoke tests of the benchmark helpers (not the benchmarks): the stand-in, the generator, the search queries."""

from __future__ import annotations

import requests
from sqlalchemy import func, select

from bench import data, search, servers
from bench.standin import openid_for
from console.extensions import db
from console.models import User, WeChatBinding


def test_the_stand_in_answers_the_openid_of_the_part_before_the_dash():
    with servers.standin() as standin:
        url = standin.url + "/sns/jscode2session"
        http = requests.Session()
        first = http.get(url, params={"appid": "a", "secret": "s", "js_code": "u5-1"}, timeout=2).json()
        again = http.get(url, params={"appid": "a", "secret": "s", "js_code": "u5-2"}, timeout=2).json()
        refused = http.get(url, params={"js_code": "nodash"}, timeout=2).json()
    assert first["openid"] == again["openid"] == openid_for("u5")
    assert first["session_key"] != again["session_key"]
    assert refused["errcode"] == 40029


def test_the_generator_makes_users_bound_to_the_stand_ins_openids(app):
    with app.app_context():
        data.create_login_method()
        data.fill(100, progress=False)
        assert db.session.scalar(select(func.count()).select_from(User)) == 100
        assert db.session.scalar(select(WeChatBinding.openid).where(WeChatBinding.user_id == 42)) == openid_for("u42")
        assert data.sample(42).name == db.session.get(User, 42).name


def test_the_search_finds_generated_users_by_each_column(app):
    with app.app_context():
        data.create_login_method()
        data.fill(100, progress=False)
        user = next(data.sample(i) for i in range(1, 101) if data.sample(i).phone and data.sample(i).unionid)
        for term in (user.phone[:5], user.openid, user.openid[:10], user.unionid, str(user.user_id)):
            found = search.search_users(term, sort="id", descending=False).items
            assert user.user_id in {match.id for match in found}, term
        surname, given = user.name.split()
        both = search.search_users(f"{surname.lower()} {given.upper()}")
        assert user.user_id in {found.id for found in both.items}
        assert all(surname in found.name and given.lower() in found.name.lower() for found in both.items)
        everyone = search.search_users("", sort="name", descending=False)
        assert everyone.total == 100 and len(everyone.items) == search.PER_PAGE
        assert [found.name for found in everyone.items] == sorted(found.name for found in everyone.items)
        assert search.user_page(user.user_id)["bindings"][0].openid == user.openid
