"""Per-channel settings, managed by tenant admins through the admin API and `groundwork slack channel`, stored
in the metadata store."""

from __future__ import annotations

from typer.testing import CliRunner

from groundwork.platform.cli.main import app as cli

from .helpers import Bot


def test_admins_set_list_and_remove_channel_settings(bot: Bot) -> None:
    put = bot.http.put("/v1/admin/slack/channels/CADMIN1", json={"datastore_ids": ["handbook"], "reply": "all"})
    assert put.status_code == 200, put.text
    assert put.json()["reply"] == "all" and put.json()["updated_by"] == "admin"
    listed = {c["channel_id"]: c for c in bot.http.get("/v1/admin/slack/channels").json()}
    assert listed["CADMIN1"]["datastore_ids"] == ["handbook"] and listed["CADMIN1"]["configured"]
    assert bot.http.delete("/v1/admin/slack/channels/CADMIN1").status_code == 204
    assert "CADMIN1" not in {c["channel_id"] for c in bot.http.get("/v1/admin/slack/channels").json()}
    assert bot.http.delete("/v1/admin/slack/channels/CADMIN1").status_code == 404
    for action in ("slack.channel.set", "slack.channel.delete"):
        entries = bot.http.get("/v1/admin/audit", params={"action": action}).json()
        assert any(e["details"].get("channel_id") == "CADMIN1" for e in entries), action


def test_channel_settings_are_validated_and_admin_only(bot: Bot) -> None:
    unknown = bot.http.put("/v1/admin/slack/channels/CADMIN2", json={"datastore_ids": ["nope"]})
    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]["message"]
    assert (
        bot.http.put("/v1/admin/slack/channels/not-a-channel", json={"datastore_ids": ["handbook"]}).status_code == 400
    )
    assert bot.http.put("/v1/admin/slack/channels/CADMIN2", json={"datastore_ids": []}).status_code == 422
    assert (
        bot.http.put("/v1/admin/slack/channels/CADMIN2", json={"datastore_ids": ["handbook"], "reply": "x"}).status_code
        == 422
    )
    key = bot.http.post("/v1/admin/api-keys", json={"user": "bob"})
    assert key.status_code == 201, key.text
    reader = {"Authorization": f"Bearer {key.json()['token']}"}
    for method, path in (("GET", "/v1/admin/slack/channels"), ("PUT", "/v1/admin/slack/channels/CADMIN2")):
        response = bot.http.request(method, path, json={"datastore_ids": ["handbook"]}, headers=reader)
        assert response.status_code == 403, response.text
    anonymous = bot.http.get("/v1/admin/slack/channels", headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_the_cli_manages_channels_through_the_server(bot: Bot) -> None:
    env = {"GROUNDWORK_URL": str(bot.http.base_url), "GROUNDWORK_API_KEY": bot.admin_key}
    runner = CliRunner()
    result = runner.invoke(
        cli, ["slack", "channel", "set", "CCLI", "--datastore", "handbook", "--reply", "all"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "CCLI: handbook (reply: all)" in result.output
    listed = runner.invoke(cli, ["slack", "channel", "list"], env=env)
    assert listed.exit_code == 0 and "CCLI" in listed.output
    stored = {c["channel_id"]: c for c in bot.http.get("/v1/admin/slack/channels").json()}
    assert stored["CCLI"]["reply"] == "all" and stored["CCLI"]["datastore_ids"] == ["handbook"]
    removed = runner.invoke(cli, ["slack", "channel", "remove", "CCLI"], env=env)
    assert removed.exit_code == 0, removed.output
    missing = runner.invoke(cli, ["slack", "channel", "remove", "CCLI"], env=env)
    assert missing.exit_code == 1 and "not_found" in missing.output
