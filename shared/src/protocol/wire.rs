//! The JSON of the docker credential-helper protocol, byte for byte as the Go helpers write it.
//!
//! Go's `encoding/json` escapes `<`, `>`, `&`, U+2028 and U+2029 and writes control characters
//! other than `\n`, `\r`, `\t` as `\u00xx`; serde_json does neither, so output is encoded here.
//! Input is decoded the Go way too: keys match case-insensitively, unknown keys are ignored and
//! `null` means empty, because clients written against the Go helpers rely on that.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::Error;
use super::secret::Secret;

/// Why a request's JSON cannot be used. serde_json's message names a position, never content, so
/// a secret in the input is never echoed.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// Not JSON, or JSON with something after it.
    #[error("invalid credentials JSON: {0}")]
    Syntax(#[source] serde_json::Error),
    /// JSON, but not an object.
    #[error("invalid credentials JSON: expected an object with ServerURL, Username and Secret")]
    NotAnObject,
    /// A field that is not a string (nor null).
    #[error("invalid credentials JSON: {0} must be a string")]
    NotAString(String),
}

impl From<JsonError> for Error {
    fn from(e: JsonError) -> Error {
        Error::bad_input(e)
    }
}

/// The username the docker CLI uses for identity tokens (refresh tokens from OAuth registries).
pub const TOKEN_USERNAME: &str = "<token>";

/// One credential as it crosses the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The registry, exactly as the client sent it (`127.0.0.1:5000`, `https://index.docker.io/v1/`).
    pub server_url: String,
    /// The account name; [`TOKEN_USERNAME`] for identity tokens.
    pub username: String,
    /// The password or token.
    pub secret: Secret,
}

impl Credentials {
    /// Decodes the stdin of `store`. Never echoes the input in an error: it holds the secret.
    pub fn from_store_json(input: &str) -> Result<Credentials, Error> {
        let creds = Self::decode(input)?;
        if creds.server_url.is_empty() {
            return Err(Error::MissingServerUrl);
        }
        super::input::check_server_url(&creds.server_url)?;
        if creds.username.is_empty() {
            return Err(Error::MissingUsername);
        }
        Ok(creds)
    }

    /// Decodes the stdout of another helper's `get` (the same object, no field required).
    pub fn from_get_json(input: &str) -> Result<Credentials, Error> {
        Self::decode(input)
    }

    fn decode(input: &str) -> Result<Credentials, Error> {
        let value: Value = serde_json::from_str(input).map_err(JsonError::Syntax)?;
        let Value::Object(map) = value else {
            return Err(JsonError::NotAnObject.into());
        };
        let mut server_url = String::new();
        let mut username = String::new();
        let mut secret = String::new();
        // Go prefers an exact key match over a case-insensitive one; with several keys the last
        // exact-or-folded one wins, which for the keys docker sends is the same thing.
        for (key, value) in map {
            let slot = if key.eq_ignore_ascii_case("ServerURL") {
                &mut server_url
            } else if key.eq_ignore_ascii_case("Username") {
                &mut username
            } else if key.eq_ignore_ascii_case("Secret") {
                &mut secret
            } else {
                continue;
            };
            match value {
                Value::String(s) => *slot = s,
                Value::Null => slot.clear(),
                _ => return Err(JsonError::NotAString(key).into()),
            }
        }
        Ok(Credentials {
            server_url,
            username,
            secret: Secret::new(secret),
        })
    }

    /// The stdout of `get`: one object, keys in Go's order, and a newline.
    pub fn to_json(&self) -> String {
        let mut out =
            String::with_capacity(64 + self.server_url.len() + self.secret.expose().len());
        out.push_str("{\"ServerURL\":");
        push_go_string(&mut out, &self.server_url);
        out.push_str(",\"Username\":");
        push_go_string(&mut out, &self.username);
        out.push_str(",\"Secret\":");
        push_go_string(&mut out, self.secret.expose());
        out.push_str("}\n");
        out
    }
}

/// The stdout of `list`: ServerURL → Username, keys sorted bytewise as Go sorts map keys.
pub fn list_to_json(entries: &BTreeMap<String, String>) -> String {
    let mut out = String::from("{");
    for (i, (url, user)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_go_string(&mut out, url);
        out.push(':');
        push_go_string(&mut out, user);
    }
    out.push_str("}\n");
    out
}

/// Appends `s` as a JSON string exactly as Go's `json.Marshal` (HTML escaping on) writes it.
pub fn push_go_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\0'..='\u{1f}' => {
                let n = c as u32;
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX[((n >> shift) & 0xf) as usize] as char);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(url: &str, user: &str, secret: &str) -> Credentials {
        Credentials {
            server_url: url.into(),
            username: user.into(),
            secret: Secret::new(secret.into()),
        }
    }

    #[test]
    fn get_output_is_byte_exact() {
        assert_eq!(
            creds("127.0.0.1:5000", "testuser", "testpass").to_json(),
            "{\"ServerURL\":\"127.0.0.1:5000\",\"Username\":\"testuser\",\"Secret\":\"testpass\"}\n"
        );
    }

    #[test]
    fn escapes_like_go() {
        let c = creds(
            "https://h/?a=1&b=2",
            TOKEN_USERNAME,
            "q\"\\\n\u{1}\u{8}\u{2028}é",
        );
        assert_eq!(
            c.to_json(),
            "{\"ServerURL\":\"https://h/?a=1\\u0026b=2\",\"Username\":\"\\u003ctoken\\u003e\",\
             \"Secret\":\"q\\\"\\\\\\n\\u0001\\u0008\\u2028é\"}\n"
        );
    }

    #[test]
    fn list_is_sorted_object() {
        let mut m = BTreeMap::new();
        m.insert("b".to_string(), "u2".to_string());
        m.insert("a".to_string(), "u1".to_string());
        assert_eq!(list_to_json(&m), "{\"a\":\"u1\",\"b\":\"u2\"}\n");
        assert_eq!(list_to_json(&BTreeMap::new()), "{}\n");
    }

    #[test]
    fn store_input_go_semantics() {
        let c = Credentials::from_store_json(
            r#"{"serverurl":"h","USERNAME":"u","Secret":"s","Extra":1}"#,
        )
        .expect("valid");
        assert_eq!(c, creds("h", "u", "s"));
        let c = Credentials::from_store_json(r#"{"ServerURL":"h","Username":"u","Secret":null}"#)
            .expect("null secret is empty");
        assert!(c.secret.is_empty());
    }

    #[test]
    fn store_input_errors() {
        let err = |s: &str| Credentials::from_store_json(s).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"ServerURL":"","Username":"u","Secret":"s"}"#),
            "no credentials server URL"
        );
        assert_eq!(
            err(r#"{"ServerURL":"h","Username":"","Secret":"s"}"#),
            "no credentials username"
        );
        assert_eq!(err(r#"{"Username":"u"}"#), "no credentials server URL");
        assert_eq!(
            err(r#"{"ServerURL":"h","Username":"u","Secret":5}"#),
            "invalid credentials JSON: Secret must be a string"
        );
        assert!(err("[1]").starts_with("invalid credentials JSON: expected an object"));
        let e = err(r#"{"ServerURL":"h","Username":"u","Secret":"topsecret"} trailing"#);
        assert!(
            e.starts_with("invalid credentials JSON: trailing characters"),
            "{e}"
        );
        assert!(!e.contains("topsecret"));
        let e = err(r#"{"ServerURL":"h","Username":"u","Secret":"topsec"#);
        assert!(!e.contains("topsec"), "{e}");
    }
}
