"""The ``hazards users`` commands: the logins of a shared database and their roles."""

from __future__ import annotations

import click

from hazards.cli._common import CommandGroup, echo_json, echo_table, json_option, tr

ROLE_CHOICES = ("engineer", "planner", "contractor", "viewer", "admin")


def _password(password_file: str | None, *, name: str) -> str:
    """The password from the file, else asked twice on the terminal (never echoed)."""
    if password_file is not None:
        from hazards.users import read_password_file

        return read_password_file(password_file)
    return str(
        click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True, err=True)
    )


_password_file = click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=str),
    help="Read the password from the first line of FILE (else it is asked, not echoed).",
)


@click.group("users", cls=CommandGroup)
def users() -> None:
    """Logins of a shared database and their roles (docs/shared-server.md).

    \b
    Roles (what PostgreSQL lets each do):
      viewer      reads everything, changes nothing
      engineer    review decisions, tiers and overrides, status changes, re-checks
      planner     plans, batches and their contractors, exports
      contractor  its own batches only: exports them, reports their completions
      admin       everything: roads, surveys, users

    Run these as the embedded database's own user, or with HAZARDS_DATABASE_URL set to an
    admin login of the shared server. Users are shared by every database of a server.

    \b
    Examples:
      hazards users add wang --role engineer --password-file pw.txt
      hazards users add lq --role contractor --contractor 某路桥公司 --password-file pw.txt
      hazards users list
    """


@users.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, type=click.Choice(ROLE_CHOICES), help="What the user may do."
)
@click.option(
    "--contractor",
    help="For --role contractor: the contractor it works for, as in `batch set --contractor`.",
)
@_password_file
@json_option
def users_add(
    name: str, role: str, contractor: str | None, password_file: str | None, as_json: bool
) -> None:
    """Create the login NAME with a role (a contractor login sees only its batches)."""
    from hazards.users import add_user

    out = add_user(
        name, role=role, contractor=contractor, password=_password(password_file, name=name)
    )
    if as_json:
        echo_json(out)
        return
    c = out["contractor"]
    for_whom = tr(f" for {c}", f"（承包单位 {c}）") if c else ""
    click.echo(
        tr(
            f"User {name} added: {role}{for_whom}. Its URL: `hazards db url --as {name}`.",
            f"已添加用户 {name}：{role}{for_whom}。其连接地址：`hazards db url --as {name}`。",
        )
    )
    if out.get("warning"):
        named = (
            out["warning"]
            .partition("; the batches name: ")[2]
            .removesuffix(". Check the spelling.")
        )
        click.echo(
            tr(
                f"Warning: {out['warning']}",
                f"警告：还没有批次的承包单位是“{c}”，在有批次指定它之前 {name} 什么也看不到"
                f"（`hazards batch set 批次 --contractor 名称`）"
                + (f"；批次中的承包单位有：{named}" if named else "")
                + "。请核对名称。",
            ),
            err=True,
        )


@users.command("list")
@json_option
def users_list(as_json: bool) -> None:
    """Every login in a hazards role on this server, with its roles and contractor."""
    from hazards.users import list_users

    rows = list_users()
    if as_json:
        echo_json(rows)
        return
    echo_table(
        [
            {
                **r,
                "roles": ", ".join(r["roles"]),
                "contractor": tr("(shown to admins)", "（仅管理员可见）")
                if r["contractor_hidden"]
                else r["contractor"],
                "login": tr("yes", "是") if r["login"] else tr("no (revoked)", "否（已撤销）"),
            }
            for r in rows
        ],
        ["name", "roles", "contractor", "login", "valid_until"],
        "users",
    )


@users.command("set-password")
@click.argument("name")
@_password_file
def users_set_password(name: str, password_file: str | None) -> None:
    """Give the user NAME a new password."""
    from hazards.users import set_password

    set_password(name, password=_password(password_file, name=name))
    click.echo(tr(f"Password of {name} changed.", f"用户 {name} 的密码已更改。"))


@users.command("revoke")
@click.argument("name")
def users_revoke(name: str) -> None:
    """Take away NAME's access: its login is dropped (its name stays in the history)."""
    from hazards.users import revoke_user

    out = revoke_user(name)
    if out["dropped"]:
        click.echo(
            tr(f"User {name} revoked: its login is dropped.", f"用户 {name} 已撤销：其登录已删除。")
        )
    else:
        click.echo(
            tr(
                f"User {name} revoked: it may no longer log in and has no hazards role (the "
                "role still owns objects elsewhere on the server, so it was kept).",
                f"用户 {name} 已撤销：不能再登录，也不再有 hazards 角色（该角色在服务器上"
                "别处仍拥有对象，故保留）。",
            )
        )


@users.command("whoami")
@json_option
def users_whoami(as_json: bool) -> None:
    """The database user this tool connects as, its roles and its contractor."""
    from hazards.users import whoami

    out = whoami()
    if as_json:
        echo_json(out)
        return
    roles = ", ".join(g.removeprefix("hazards_") for g in out["groups"])
    if out["superuser"]:
        roles = tr("superuser (may do everything)", "超级用户（可做任何操作）")
    contractor = (
        tr(f", contractor {out['contractor']}", f"，承包单位 {out['contractor']}")
        if out["contractor"]
        else ""
    )
    click.echo(
        tr(
            f"{out['user']}: {roles or 'no hazards role'}{contractor}",
            f"{out['user']}：{roles or '无 hazards 角色'}{contractor}",
        )
    )
