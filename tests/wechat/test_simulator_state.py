"""The simulator's state on disk: shared by every process that opens the file, and no secret in clear."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from console.security.keyring import KeyRing
from console.wechat.simulator.state import SimulatorState

SECRET = "kept-secret-0123456789abcdef"


def on_disk(path: Path) -> bytes:
    """Every byte the state keeps on disk: the file and SQLite's journals beside it."""
    return b"".join(part.read_bytes() for part in path.parent.iterdir() if part.name.startswith(path.name))


@pytest.fixture
def sealer():
    return KeyRing(Fernet.generate_key().decode())


def test_the_registry_on_disk_holds_a_digest_of_the_app_secret_not_the_secret(tmp_path):
    path = tmp_path / "sim.db"
    SimulatorState(str(path)).register_app("wxkept", SECRET, "p")

    reopened = SimulatorState(str(path))
    assert reopened.apps == {"wxkept": {"openPlatform": "p"}}
    assert reopened.check_app("wxkept", SECRET) is None
    assert reopened.check_app("wxkept", SECRET[:-1] + "0") == 40125
    assert reopened.check_app("wxnobody", SECRET) == 40013
    assert SECRET.encode() not in on_disk(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_registering_again_replaces_the_secret(tmp_path):
    state = SimulatorState(str(tmp_path / "sim.db"))
    state.register_app("wxkept", SECRET)
    state.register_app("wxkept", "new-secret", "q")
    assert state.check_app("wxkept", SECRET) == 40125 and state.check_app("wxkept", "new-secret") is None
    assert state.apps["wxkept"] == {"openPlatform": "q"}


def test_two_states_over_one_file_share_codes_session_keys_and_tokens(tmp_path, sealer):
    path = str(tmp_path / "sim.db")
    one, two = SimulatorState(path, sealer=sealer), SimulatorState(path, sealer=sealer)
    one.register_app("wxshared", SECRET, "p")

    code = one.mint_code("wxshared", "alice")
    minted, errcode = two.take_code("wxshared", code)
    assert errcode is None and minted is not None and minted.user == "alice"
    assert one.take_code("wxshared", code) == (None, 40163)

    key = two.new_session_key("wxshared", "alice")
    openid, unionid = two.identity("wxshared", "alice")
    assert one.session_key("wxshared", "alice") == key and one.session_keys == {("wxshared", "alice"): key}
    assert one.user_of_openid("wxshared", openid) == "alice" and unionid

    token, _ = one.stable_token("wxshared")
    assert two.stable_token("wxshared")[0] == token and two.app_of_token(token) == "wxshared"
    two.reset_token("wxshared")
    assert one.app_of_token(token) is None

    phone = one.mint_phone_code("wxshared", "alice", "13800138000", "86")
    assert two.take_phone_code("wxshared", phone)["phone"] == "13800138000"
    assert one.take_phone_code("wxshared", phone) is None

    kept = on_disk(tmp_path / "sim.db")
    assert not [value for value in (SECRET, key, token, code, phone) if value.encode() in kept]


def test_a_state_without_the_key_sees_no_session_key_or_token(tmp_path, sealer):
    path = str(tmp_path / "sim.db")
    state = SimulatorState(path, sealer=sealer)
    state.register_app("wxshared", SECRET)
    state.new_session_key("wxshared", "alice")
    token, _ = state.stable_token("wxshared")
    stranger = SimulatorState(path)  # another key: the sealed values stay closed, and nothing breaks
    assert stranger.session_key("wxshared", "alice") is None
    assert stranger.stable_token("wxshared")[0] != token


def test_a_legacy_json_registry_is_taken_in_and_removed(tmp_path):
    legacy = tmp_path / "wechat-simulator.json"
    legacy.write_text(json.dumps({"wxold": {"secret": SECRET, "openPlatform": None}}))
    state = SimulatorState(str(tmp_path / "wechat-simulator.db"))
    assert state.check_app("wxold", SECRET) is None and not legacy.exists()
    assert SECRET.encode() not in on_disk(tmp_path / "wechat-simulator.db")


def take_all(state: SimulatorState, codes: list[str], start, taken) -> None:
    """In a forked process: wait for the others, then try to take every code, reporting the ones it got."""
    start.wait(30)
    for code in codes:
        minted, errcode = state.take_code("wxrace", code)
        taken.put(code if minted is not None else errcode)


def test_forked_processes_racing_for_the_same_codes_take_each_exactly_once(tmp_path, sealer):
    # gunicorn forks its workers from a master that loaded the app: the children race with this very object.
    state = SimulatorState(str(tmp_path / "sim.db"), sealer=sealer)
    state.register_app("wxrace", SECRET)
    codes = [state.mint_code("wxrace", f"user{number}") for number in range(200)]
    context = multiprocessing.get_context("fork")
    start, taken = context.Barrier(4), context.Queue()
    workers = [context.Process(target=take_all, args=(state, codes, start, taken)) for _ in range(4)]
    for worker in workers:
        worker.start()
    answers = [taken.get(timeout=60) for _ in range(4 * len(codes))]
    for worker in workers:
        worker.join(30)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    assert sorted(answer for answer in answers if isinstance(answer, str)) == sorted(codes)
    assert {answer for answer in answers if not isinstance(answer, str)} == {40163}
