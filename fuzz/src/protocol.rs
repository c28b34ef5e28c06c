//! The protocol driver on any argv and stdin: exit 0 or 1, one line on stdout for every error,
//! Go's JSON for every answer, no secret echoed, and a store that succeeds reads back.

use std::ffi::OsString;
use std::process::ExitCode;

use credhelper::memory::MemoryStore as Memory;
use credhelper::{Credentials, HelperInfo, Secret, Store};

const INFO: HelperInfo = HelperInfo {
    name: "docker-credential-fuzz",
    version: "0",
    about: "fuzzing",
    details: "",
    log: credhelper::os::logging::LogDefaults::OFF,
};

/// The argv the first byte chooses; the rest of the input is stdin.
fn args(selector: u8) -> Vec<OsString> {
    let a: &[&str] = match selector % 10 {
        0 => &["get"],
        1 | 2 => &["store"],
        3 => &["erase"],
        4 => &["list"],
        5 => &["version"],
        6 => &[],
        7 => &["bogus\u{1b}[31m"],
        8 => &["get", "extra"],
        _ => &["--help"],
    };
    a.iter().map(OsString::from).collect()
}

fn call(store: &Memory, args: &[OsString], stdin: &[u8]) -> (bool, String) {
    let mut out = Vec::new();
    let code = credhelper::run(store, &INFO, args, &mut &stdin[..], &mut out);
    let ok = code == ExitCode::SUCCESS;
    assert!(ok || code == ExitCode::FAILURE, "exit 0 or 1");
    let out = String::from_utf8(out).expect("stdout is UTF-8");
    (ok, out)
}

/// The property: see the module doc.
pub fn protocol(data: &[u8]) {
    let Some((&selector, stdin)) = data.split_first() else {
        return;
    };
    let store = Memory::default();
    // One entry already there, so get/erase/list have something to find.
    store
        .store(&Credentials {
            server_url: "seeded.example".into(),
            username: "seed-user".into(),
            secret: Secret::new("seed-secret-value".into()),
        })
        .expect("seed");
    let argv = args(selector);
    let (ok, out) = call(&store, &argv, stdin);
    let action = argv.first().and_then(|a| a.to_str()).unwrap_or("");
    if !ok {
        assert!(out.ends_with('\n'), "an error ends its line: {out:?}");
        assert_eq!(
            out.matches('\n').count(),
            1,
            "an error is one line: {out:?}"
        );
        assert!(out.len() > 1, "an error says something");
        assert!(!out.contains("seed-secret-value"), "no secret in an error");
        return;
    }
    match action {
        "get" | "list" => {
            let v: serde_json::Value = serde_json::from_str(&out).expect("an answer is JSON");
            assert!(v.is_object(), "{out}");
            assert!(out.ends_with("}\n"), "{out:?}");
        }
        "store" => {
            assert_eq!(out, "", "store prints nothing");
            let sent: serde_json::Value = serde_json::from_slice(stdin).expect("store took JSON");
            // As in Go, a missing or null field is the empty string (only Secret may be empty).
            // Go also matches field names case-insensitively (`secret` fills Secret); with only
            // the canonical names, what was stored must be exactly what was sent.
            let field = |k: &str| sent[k].as_str().unwrap_or("").to_string();
            let canonical = sent.as_object().is_some_and(|o| {
                o.keys()
                    .all(|k| ["ServerURL", "Username", "Secret"].contains(&k.as_str()))
            });
            let map = store.entries();
            let (url, (user, secret)) = if canonical {
                let url = field("ServerURL");
                let entry = map.get(&url).cloned().expect("stored under its ServerURL");
                assert_eq!(entry, (field("Username"), field("Secret")));
                (url, entry)
            } else {
                let (url, entry) = map
                    .iter()
                    .find(|(k, _)| k.as_str() != "seeded.example")
                    .or_else(|| map.iter().next())
                    .expect("something stored");
                (url.clone(), entry.clone())
            };
            let url = url.as_str();
            // And `get` hands back exactly that (stdin is trimmed, so only for trimmed URLs).
            if url.trim() == url && !url.contains(['\n', '\r']) {
                let (ok, got) = call(&store, &[OsString::from("get")], url.as_bytes());
                assert!(ok, "{got}");
                let got: serde_json::Value = serde_json::from_str(&got).expect("JSON");
                assert_eq!(got["Username"].as_str(), Some(user.as_str()));
                assert_eq!(got["Secret"].as_str(), Some(secret.as_str()));
                assert_eq!(got["ServerURL"].as_str(), Some(url));
            }
        }
        _ => {}
    }
}
