//! `--import`: the credentials `docker login` left in `auths` (a base64 `user:password` in
//! `auth`, or an OAuth refresh token in `identitytoken`) become entries of the helper's store, as
//! the docker CLI itself would store them there.

use serde_json::{Map, Value};

use crate::protocol::secret::Secret;
use crate::protocol::wire::{Credentials, TOKEN_USERNAME};

/// The fields of an `auths` entry that hold a secret.
pub const SECRET_FIELDS: &[&str] = &["auth", "identitytoken"];

/// Takes the credentials out of every `auths` entry of `config` (removing the fields that held
/// them), or says which entry is unreadable and why (never its value).
pub fn take_credentials(
    config: &mut Map<String, Value>,
) -> Result<Vec<Credentials>, (String, &'static str)> {
    let mut taken = Vec::new();
    let Some(Value::Object(auths)) = config.get_mut("auths") else {
        return Ok(taken);
    };
    for (host, entry) in auths.iter_mut() {
        let Value::Object(fields) = entry else {
            continue;
        };
        // An identity token is what logs in (the docker CLI sends it, not the password); the
        // CLI stores it in a helper as the username `<token>` with the token as the secret.
        let creds = if let Some(Value::String(token)) = fields.get("identitytoken") {
            Some(Credentials {
                server_url: host.clone(),
                username: TOKEN_USERNAME.to_string(),
                secret: Secret::new(token.clone()),
            })
        } else if let Some(Value::String(auth)) = fields.get("auth") {
            Some(decode_auth(host, auth).map_err(|why| (host.clone(), why))?)
        } else {
            None
        };
        if let Some(creds) = creds {
            taken.push(creds);
            for field in SECRET_FIELDS {
                fields.remove(*field);
            }
        }
    }
    Ok(taken)
}

/// `config` with every secret field of its `auths` entries removed.
pub fn without_secrets(mut config: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Object(auths)) = config.get_mut("auths") {
        for entry in auths.values_mut() {
            if let Value::Object(fields) = entry {
                for field in SECRET_FIELDS {
                    fields.remove(*field);
                }
            }
        }
    }
    config
}

/// The credentials in an `auth` value, or what is wrong with it (never the value itself).
fn decode_auth(host: &str, auth: &str) -> Result<Credentials, &'static str> {
    use base64::Engine;
    let bytes = zeroize::Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| "\"auth\" is not base64")?,
    );
    let text = std::str::from_utf8(&bytes).map_err(|_| "\"auth\" is not UTF-8")?;
    let (user, password) = text
        .split_once(':')
        .ok_or("\"auth\" is not user:password")?;
    Ok(Credentials {
        server_url: host.to_string(),
        username: user.to_string(),
        secret: Secret::new(password.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_identity_tokens_are_taken_out() {
        let mut config: Map<String, Value> = serde_json::from_str(
            r#"{"auths":{
                "a.example":{"auth":"dTpwdw=="},
                "b.example":{"auth":"dTo=","identitytoken":"refresh-token"},
                "c.example":{}},
              "credsStore":"x"}"#,
        )
        .expect("JSON");
        let taken = take_credentials(&mut config).expect("readable");
        let got: Vec<(&str, &str, &str)> = taken
            .iter()
            .map(|c| {
                (
                    c.server_url.as_str(),
                    c.username.as_str(),
                    c.secret.expose(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a.example", "u", "pw"),
                ("b.example", "<token>", "refresh-token")
            ]
        );
        assert_eq!(
            Value::Object(config)["auths"],
            serde_json::json!({"a.example": {}, "b.example": {}, "c.example": {}})
        );
    }
}
