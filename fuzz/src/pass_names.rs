//! The pass store's names: server URLs and usernames become one file-system name each, decode
//! back to themselves, and can never leave their directory. A username that a file can be named
//! after is stored as that name (the Go helper's layout): leading dots, `\` and control
//! characters stay as they are there.

use docker_credential_pass::layout::{decode_server, decode_user, encode_server, encode_user};

fn assert_one_safe_name(name: &str) {
    assert!(
        !name.is_empty(),
        "an empty name would be the directory itself"
    );
    assert!(!name.contains(['/', '\0']), "one path component: {name:?}");
    assert!(name != "." && name != "..", "{name:?}");
    let path = std::path::Path::new("store").join(name);
    assert_eq!(path.parent(), Some(std::path::Path::new("store")));
}

/// Any string, as a server URL and as a username.
pub fn pass_names(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(dir) = encode_server(s) {
        if !s.is_empty() {
            assert_one_safe_name(&dir);
            assert!(
                !dir.starts_with('.'),
                "base64url never starts with a dot: {dir:?}"
            );
        }
        assert_eq!(decode_server(&dir).as_deref(), Some(s), "server round trip");
    }
    if let Ok(file) = encode_user(s) {
        if !s.is_empty() {
            assert_one_safe_name(&file);
        }
        assert_eq!(decode_user(&file), s, "username round trip");
        if !s.contains(['/', '\0', '%']) && s != "." && s != ".." {
            assert_eq!(
                file, s,
                "a name a file can have is stored as it is, as Go stores it"
            );
        }
    }
}
