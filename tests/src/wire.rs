//! The protocol's JSON as the tests send and expect it.

/// A `store` request.
pub fn store_json(url: &str, user: &str, secret: &str) -> String {
    serde_json::json!({"ServerURL": url, "Username": user, "Secret": secret}).to_string()
}

/// A `get` answer, built by hand: Go's encoder key order, no escapes needed for these inputs.
pub fn get_json(url: &str, user: &str, secret: &str) -> String {
    format!("{{\"ServerURL\":\"{url}\",\"Username\":\"{user}\",\"Secret\":\"{secret}\"}}\n")
}

/// The missing-credential answer every caller matches on.
pub const NOT_FOUND: &str = "credentials not found in native keychain\n";
