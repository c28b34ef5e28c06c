//! gpg keys of every type people use with pass, for the tests of the gpg-agent fast path and
//! for the benchmark: a primary key and encryption subkeys, made with gpg's quick commands.

use crate::sandbox::Sandbox;

/// The encryption algorithms the fast path is tested with (gpg's names).
pub const TYPES: &[&str] = &["cv25519", "rsa2048", "rsa3072", "rsa4096", "nistp256"];

/// The signing primary key that goes with an encryption algorithm.
fn primary_for(encryption: &str) -> &str {
    match encryption {
        "cv25519" => "ed25519",
        "nistp256" => "nistp256",
        rsa => rsa,
    }
}

fn gpg_ok(sb: &Sandbox, args: &[&str]) -> String {
    let mut all = vec!["--batch", "--quiet", "--pinentry-mode", "loopback"];
    all.extend_from_slice(args);
    let out = sb.run("gpg", &all, "");
    assert!(out.ok(), "gpg {args:?}: {out:?}");
    out.stdout
}

/// Makes a key for `email` with a signing primary key and one encryption subkey per entry of
/// `subkeys` (`(algorithm, expiry)`, the expiry as gpg takes it: `never`, `seconds=5`, a date),
/// protected by `passphrase` (empty: none). Returns the primary key's fingerprint.
pub fn key_with_subkeys(
    sb: &Sandbox,
    email: &str,
    subkeys: &[(&str, &str)],
    passphrase: &str,
) -> String {
    let primary = primary_for(subkeys.first().map_or("ed25519", |s| s.0));
    let uid = format!("Test {email} <{email}>");
    gpg_ok(
        sb,
        &[
            "--passphrase",
            passphrase,
            "--quick-gen-key",
            &uid,
            primary,
            "sign",
            "never",
        ],
    );
    let fpr = fingerprint(sb, email);
    for (algo, expiry) in subkeys {
        gpg_ok(
            sb,
            &[
                "--passphrase",
                passphrase,
                "--quick-add-key",
                &fpr,
                algo,
                "encr",
                expiry,
            ],
        );
    }
    fpr
}

/// A key whose primary key itself signs and encrypts (RSA, no subkey).
pub fn primary_only_rsa(sb: &Sandbox, email: &str) -> String {
    let uid = format!("Test {email} <{email}>");
    gpg_ok(
        sb,
        &[
            "--passphrase",
            "",
            "--quick-gen-key",
            &uid,
            "rsa3072",
            "sign,encr",
            "never",
        ],
    );
    fingerprint(sb, email)
}

/// The fingerprint of the primary key of `email`.
pub fn fingerprint(sb: &Sandbox, email: &str) -> String {
    let out = sb.run(
        "gpg",
        &["--batch", "--with-colons", "--list-keys", "--", email],
        "",
    );
    assert!(out.ok(), "gpg --list-keys {email}: {out:?}");
    out.stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix("fpr:")
                .map(|r| r.trim_matches(':').to_string())
        })
        .expect("a fingerprint")
}

/// The key ids of every encryption subkey (or encrypting primary key) of `email`, in order.
pub fn encryption_key_ids(sb: &Sandbox, email: &str) -> Vec<String> {
    let out = sb.run(
        "gpg",
        &["--batch", "--with-colons", "--list-keys", "--", email],
        "",
    );
    out.stdout
        .lines()
        .filter(|l| l.starts_with("pub:") || l.starts_with("sub:"))
        .filter(|l| l.split(':').nth(11).is_some_and(|caps| caps.contains('e')))
        .filter_map(|l| l.split(':').nth(4).map(str::to_string))
        .collect()
}
