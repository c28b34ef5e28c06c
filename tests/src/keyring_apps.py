"""Other applications on the Secret Service, for the tests (tests/src/keyring_apps.rs).

Python's keyring library itself (its SecretService backend), items in the exact shapes other
libraries write (through secretstorage, which adds no attribute of its own), and gnome-keyring's
own interface for collections with a password, which needs no prompt. One JSON request on
stdin, one JSON answer on stdout; secrets never go through argv.
"""

import json
import sys

import secretstorage
from secretstorage.util import DBusAddressWrapper, format_secret, open_session

SERVICE = "org.freedesktop.Secret.Service"
GNOME = "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"
DEFAULT = "/org/freedesktop/secrets/aliases/default"

req = json.load(sys.stdin)
op = req["op"]
conn = secretstorage.dbus_init()


def service(interface):
    return DBusAddressWrapper("/org/freedesktop/secrets", interface, conn)


def master(password):
    return format_secret(open_session(conn), password.encode(), "text/plain")


def python_keyring():
    from keyring.backends.SecretService import Keyring

    return Keyring()


out = None
if op == "python-keyring-set":
    python_keyring().set_password(req["service"], req["username"], req["secret"])
elif op == "python-keyring-get":
    out = python_keyring().get_password(req["service"], req["username"])
elif op == "create-item":
    collection = secretstorage.Collection(conn, req.get("collection", DEFAULT))
    item = collection.create_item(
        req["label"], req["attributes"], req["secret"].encode(), replace=False
    )
    out = item.item_path
elif op == "create-collection":
    label = {"org.freedesktop.Secret.Collection.Label": ("s", req["label"])}
    (out,) = service(GNOME).call(
        "CreateWithMasterPassword", "a{sv}(oayays)", label, master(req["password"])
    )
elif op == "lock":
    service(SERVICE).call("Lock", "ao", [req["path"]])
elif op == "unlock":
    service(GNOME).call(
        "UnlockWithMasterPassword", "o(oayays)", req["path"], master(req["password"])
    )
elif op == "items":
    out = []
    for collection in secretstorage.get_all_collections(conn):
        for item in collection.get_all_items():
            locked = item.is_locked()
            out.append(
                {
                    "path": item.item_path,
                    "collection": collection.collection_path,
                    "label": item.get_label(),
                    "attributes": item.get_attributes(),
                    "secret": None if locked else item.get_secret().decode(),
                }
            )
else:
    sys.exit("unknown op " + op)
json.dump(out, sys.stdout)
