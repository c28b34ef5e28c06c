"""A Secret Service that answers like KeePassXC or a gnome-keyring that just locked an item, for
the tests (tests/src/fake_secrets.rs). One docker item; every method call it gets is logged, one
member name a line. Its setting comes as JSON on stdin (secrets never go through argv):
{"mode": "answer" | "fail" | "omit", "server", "username", "secret", "log"}.

- answer: GetSecrets answers with the item's secret, as gnome-keyring does.
- fail: GetSecrets fails with IsLocked, as KeePassXC does when one item asked for is locked for
  this client.
- omit: GetSecrets answers without the item, as gnome-keyring does for an item locked since the
  search.
GetSecret answers with the secret in every mode.
"""

import json
import sys

from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

cfg = json.load(sys.stdin)
ITEM = "/org/freedesktop/secrets/collection/fake/1"
SESSION = "/org/freedesktop/secrets/session/1"
ATTRIBUTES = {
    "xdg:schema": "io.docker.Credentials",
    "label": "Docker Credentials",
    "server": cfg["server"],
    "username": cfg["username"],
    "docker_cli": "1",
}
SECRET = (SESSION, b"", cfg["secret"].encode(), "text/plain")

conn = open_dbus_connection(bus="SESSION")
conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.secrets"))
log = open(cfg["log"], "a", buffering=1)

while True:
    msg = conn.receive()
    if msg.header.message_type != MessageType.method_call:
        continue
    member = msg.header.fields.get(HeaderFields.member)
    log.write(member + "\n")
    if member == "SearchItems":
        reply = new_method_return(msg, "aoao", ([ITEM], []))
    elif member == "OpenSession":
        reply = new_method_return(msg, "vo", (("s", ""), SESSION))
    elif member == "Get" and msg.body == ("org.freedesktop.Secret.Item", "Attributes"):
        reply = new_method_return(msg, "v", (("a{ss}", ATTRIBUTES),))
    elif member == "GetSecrets" and cfg["mode"] == "fail":
        reply = new_error(
            msg, "org.freedesktop.Secret.Error.IsLocked", "s", ("Object is locked",)
        )
    elif member == "GetSecrets":
        secrets = {ITEM: SECRET} if cfg["mode"] == "answer" else {}
        reply = new_method_return(msg, "a{o(oayays)}", (secrets,))
    elif member == "GetSecret":
        reply = new_method_return(msg, "(oayays)", (SECRET,))
    else:
        reply = new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,))
    conn.send(reply)
