"""The `flask --app wsgi ...` commands. Bad input exits non-zero with one line and changes nothing."""

from __future__ import annotations

import functools
import getpass
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from console.database import transaction
from console.errors import Refused
from console.models import ROLES
from console.seed.instance_dir import export_instance_dir, import_instance_dir
from console.services.audit import Actor, record, set_actor
from console.services.bindings import issue_bind_ticket
from console.services.console_accounts import (
    check_username,
    create_account,
    find_account,
    reset_password,
    reset_second_factor,
    unlock,
)
from console.services.login_methods import binding_counts, find_login_method, list_methods
from console.services.retention import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, purge

# The flask command as typed in the checkout after `make run` (the virtual environment is not on the shell's PATH).
FLASK_COMMAND = ".venv/bin/flask --app wsgi"


def audited(command):
    """Name the CLI and the operator as the actor of the command's audit events."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        set_actor(Actor("cli", getpass.getuser()))
        return command(*args, **kwargs)

    return run


def one_line_errors(command):
    """Turn the service's errors into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Refused as exc:
            raise click.ClickException(exc.message) from None

    return run


@click.command("create-admin")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@audited
@one_line_errors
def create_admin(username: str, role: str, password_stdin: bool):
    """Create a console account; asks for the password unless --password-stdin."""
    check_username(username)  # before the password prompt, so a typo does not cost typing the password twice
    create_account(username, role, read_password(password_stdin))
    click.echo(f"Created {role} account {username!r}.")


def read_password(from_stdin: bool) -> str:
    """The first line of standard input, or a password typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.command("reset-password")
@with_appcontext
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@audited
@one_line_errors
def reset_password_command(username: str, password_stdin: bool):
    """Give console account USERNAME a new password; its sessions end and its locks are lifted."""
    account = find_account(username)  # before the prompt: an unknown name costs no typing
    reset_password(account, read_password(password_stdin))
    click.echo(f"Set a new password for {account.username!r}: its sessions are ended and its locks lifted.")


@click.command("unlock")
@with_appcontext
@click.argument("username")
@audited
@one_line_errors
def unlock_command(username: str):
    """Lift every lock on console account USERNAME, and its slowdown, after failed sign-ins."""
    account = find_account(username)
    forgotten = unlock(account)
    click.echo(f"Unlocked {account.username!r}: {forgotten} failed sign-in(s) forgotten.")


@click.command("reset-2fa")
@with_appcontext
@click.argument("username")
@audited
@one_line_errors
def reset_two_factor_command(username: str):
    """Remove console account USERNAME's second factor (a lost phone); its sessions end and its locks are lifted."""
    reset_second_factor(find_account(username))
    click.echo(
        f"Reset the second factor of {username!r}: its sessions are ended and its locks lifted; it signs in with its"
        " password and sets up a new one."
    )


@click.command("purge")
@click.option(
    "--batch-size",
    type=click.IntRange(1, MAX_BATCH_SIZE),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Rows deleted per transaction.",
)
@with_appcontext
def purge_command(batch_size: int):
    """Delete what has expired (codes, tokens, console sessions, old sign-in failures, login events older than
    LOGIN_EVENTS_DAYS) in batches; safe from cron on several hosts at once."""
    for kind, deleted in purge(batch_size).items():
        click.echo(f"{kind}: {deleted} deleted")


login_methods = AppGroup("login-methods", help="Import, export and list login methods (instance directories).")


@login_methods.command("import")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--update", is_flag=True, help="Overwrite the login method if it exists.")
@audited
@one_line_errors
def import_command(directory: str, update: bool):
    """Read one instance directory (e.json and its business config); its name is the instance name."""
    method, created = import_instance_dir(directory, update=update)
    click.echo(f"{'Created' if created else 'Updated'} login method {method.name!r} (appId {method.app_id}).")


@login_methods.command("export")
@click.argument("name")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--include-secret", is_flag=True, help="Write the appSecret too (the file is made readable by you only).")
@audited
@one_line_errors
def export_command(name: str, directory: str, include_secret: bool):
    """Write login method NAME as the instance directory DIRECTORY (e.json and NAME.json)."""
    path = export_instance_dir(find_login_method(name), directory, include_secret=include_secret)
    click.echo(f"Wrote {name!r} to {path}{' with its appSecret' if include_secret else ' (appSecret left out)'}.")


@login_methods.command("list")
def list_command():
    """One line per login method: name, title, appId, allowRegister, enabled, bindings."""
    counts = binding_counts()
    methods = list_methods()
    if not methods:
        click.echo("No login methods.")
    for method in methods:
        click.echo(
            f"{method.name}\t{method.title}\t{method.app_id}\tallowRegister={int(method.allow_register)}"
            f"\tenabled={int(method.enabled)}\tbindings={counts.get(method.id, 0)}"
        )


@click.command("issue-ticket")
@with_appcontext
@click.argument("user_id", type=int)
@click.argument("method")
@audited
@one_line_errors
def issue_ticket(user_id: int, method: str):
    """Print a one-time bind ticket (10 minutes) for USER_ID to bind login method METHOD."""
    ticket = issue_bind_ticket(find_login_method(method), user_id)
    click.echo(ticket)


@click.command("rotate-keys")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True)
@with_appcontext
@audited
def rotate_keys(batch_size: int):
    """Re-encrypt every appSecret, session_key and authenticator secret with the first key of ENCRYPTION_KEYS (safe
    to re-run)."""
    from console.security.rotation import count_sealed_values, rotate_sealed_values

    with click.progressbar(length=count_sealed_values(), label="Re-encrypting", file=sys.stderr) as bar:
        report = rotate_sealed_values(batch_size, on_progress=bar.update)
    for row in report.unreadable:
        click.echo(f"unreadable: {row}: no key of ENCRYPTION_KEYS opens its value", err=True)
    with transaction():
        record("keys.rotate", rotated=report.rotated, unreadable=len(report.unreadable))
    click.echo(f"Re-encrypted {report.rotated} values with the first key; {len(report.unreadable)} unreadable.")
    if report.unreadable:
        sys.exit(1)


@click.command("demo-setup")
@with_appcontext
@audited
def demo_setup():
    """Create the demo admin and login method on first run (make run calls this) and say where to sign in."""
    from console.demo import ensure_demo

    state_path = current_app.config.get("WECHAT_SIMULATOR_STATE")
    if not state_path:
        raise click.ClickException("demo-setup needs the WeChat simulator: set WECHAT_SIMULATOR=1")
    setup = ensure_demo(state_path)
    base = current_app.config["WECHAT_API_BASE"].removesuffix("/_wechat")
    click.echo("")
    click.echo(f"  Console:   {base}/")
    if setup.admin_password:
        click.echo(f"  Sign in:   admin / {setup.admin_password}   (shown this once: note it now)")
    else:
        click.echo("  Sign in:   with your console account (the demo admin's password was shown on the first run)")
        click.echo(f"  Lost it?   {FLASK_COMMAND} reset-password admin   (in another shell, here)")
    click.echo(f"  Accounts:  {FLASK_COMMAND} create-admin NAME [--role support]")
    if setup.method is not None:
        click.echo(f"  Try it:    sign in, then open {base}/simulator and press '1. Log in': a simulated WeChat user")
        click.echo(
            f"             logs in to {setup.method.name!r} (appId {setup.method.app_id}), registers, gets a token."
        )
        click.echo("             From a shell instead: see the README, 'Try the API'.")
    click.echo("")


def register_commands(app) -> None:
    """Add the commands to `flask --app wsgi`."""
    for command in (
        create_admin,
        reset_password_command,
        unlock_command,
        reset_two_factor_command,
        login_methods,
        issue_ticket,
        rotate_keys,
        purge_command,
        demo_setup,
    ):
        app.cli.add_command(command)
