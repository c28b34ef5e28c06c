//! Who asks for a token: the credential source, decided from the environment and the shared
//! files alone (no network call, no secret read, a few microseconds).
//!
//! The decision is made once, here, and both binaries act on it: the front keys the cache on it
//! and the fetcher builds exactly that credentials provider (not the SDK's default chain), so
//! the identity in the cache key is always the identity that signs the request. The order is
//! the default chain's: a registry's configured profile first, then the environment's keys,
//! then a profile (`AWS_PROFILE`, else `default` when it has credentials), web identity,
//! container credentials, and the instance role.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::aws_files::{Files, Profiles};
use crate::config::RegistryConfig;

/// Where the credentials come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Source {
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, both set.
    Environment {
        /// The key id (not a secret; it names the key).
        access_key_id: String,
    },
    /// A profile of the shared files.
    Profile {
        /// Its name.
        name: String,
        /// The config file read.
        config_file: PathBuf,
        /// The credentials file read.
        credentials_file: PathBuf,
        /// What the profile resolves to, e.g. `key:AKIA…` or `role:arn… from (key:AKIA…)`.
        resolves_to: String,
    },
    /// `AWS_WEB_IDENTITY_TOKEN_FILE` with `AWS_ROLE_ARN` (EKS IRSA).
    WebIdentity {
        /// The role.
        role_arn: String,
    },
    /// ECS or EKS Pod Identity container credentials.
    Container {
        /// `AWS_CONTAINER_CREDENTIALS_FULL_URI` or `…_RELATIVE_URI`.
        uri: String,
    },
    /// The EC2 instance role, through IMDS.
    InstanceRole,
    /// A pod's service-account token that the kubelet handed to its credential provider plugin
    /// (KEP-4412), exchanged with `AssumeRoleWithWebIdentity` for the role its service account
    /// names. The token itself is not here: it travels beside the identity
    /// (`FetchRequest::web_identity_token`), never in a key, a label or a log line.
    ServiceAccount {
        /// The role (the service account's `eks.amazonaws.com/ecr-role-arn` annotation).
        role_arn: String,
        /// Whom the token names, from its claims: issuer, subject (`system:serviceaccount:
        /// <namespace>:<name>`), the service account's uid and the audience. Two service
        /// accounts that name one role never share a token: STS decides for each whether the
        /// role trusts it, so a role's token is never served to one it does not trust.
        subject: String,
    },
}

/// The identity a token is fetched as: a source, and a role assumed with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Where the credentials come from.
    pub source: Source,
    /// A role to assume with them (the registry's `role_arn`).
    pub role_arn: Option<String>,
}

impl Identity {
    /// The identity as the cache key names it: everything that changes who signs.
    pub fn key(&self) -> String {
        let mut key = match &self.source {
            Source::Environment { access_key_id } => format!("env:{access_key_id}"),
            Source::Profile {
                name,
                config_file,
                credentials_file,
                resolves_to,
            } => format!(
                "profile:{name} files:{}|{} {resolves_to}",
                config_file.display(),
                credentials_file.display()
            ),
            Source::WebIdentity { role_arn } => format!("web-identity:{role_arn}"),
            Source::Container { uri } => format!("container:{uri}"),
            Source::InstanceRole => "instance-role".to_string(),
            Source::ServiceAccount { role_arn, subject } => {
                format!("service-account:{subject} web-identity-role:{role_arn}")
            }
        };
        if let Some(role) = &self.role_arn {
            key.push_str(&format!(" assume:{role}"));
        }
        key
    }

    /// A short name for the log line (no file paths).
    pub fn label(&self) -> String {
        let source = match &self.source {
            Source::Environment { access_key_id } => format!("env:{access_key_id}"),
            Source::Profile { name, .. } => format!("profile:{name}"),
            Source::WebIdentity { role_arn } => format!("web-identity:{role_arn}"),
            Source::Container { .. } => "container".to_string(),
            Source::InstanceRole => "instance-role".to_string(),
            Source::ServiceAccount { role_arn, subject } => {
                format!("service-account:{subject} web-identity-role:{role_arn}")
            }
        };
        match &self.role_arn {
            Some(role) => format!("{source} assume:{role}"),
            None => source,
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

/// The identity that fetches tokens for a registry with these settings, in this environment.
pub fn resolve(settings: &RegistryConfig) -> Identity {
    Identity {
        source: source(settings),
        role_arn: settings.role_arn.clone(),
    }
}

fn source(settings: &RegistryConfig) -> Source {
    let files = Files::from_env();
    let profile = |name: &str, profiles: &Profiles| Source::Profile {
        name: name.to_string(),
        resolves_to: resolves_to(profiles, name, 0).unwrap_or_else(|| "none".into()),
        config_file: files.config.clone(),
        credentials_file: files.credentials.clone(),
    };
    // A registry's own profile is the identity, whatever else the environment holds.
    if let Some(name) = &settings.profile {
        return profile(name, &Profiles::load(&files));
    }
    // Both keys: with only the key id the SDK's environment provider gives nothing and the
    // chain goes on, so the id alone must not name the identity.
    if let (Some(id), Some(_)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Source::Environment { access_key_id: id };
    }
    let profiles = Profiles::load(&files);
    // A profile named on purpose is used even if it cannot give credentials: the fetch then
    // says why, instead of quietly becoming the instance role.
    if let Some(name) = env("AWS_PROFILE") {
        return profile(&name, &profiles);
    }
    if resolves_to(&profiles, "default", 0).is_some() {
        return profile("default", &profiles);
    }
    if let (Some(_), Some(role_arn)) = (env("AWS_WEB_IDENTITY_TOKEN_FILE"), env("AWS_ROLE_ARN")) {
        return Source::WebIdentity { role_arn };
    }
    if let Some(uri) = env("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .or_else(|| env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
    {
        return Source::Container { uri };
    }
    Source::InstanceRole
}

/// What a profile's credentials come from, in the order the SDK's profile provider looks: a
/// role (from a source profile, a credential source or a web identity), SSO, a process, static
/// keys. `None` if the profile gives no credentials. Names and key ids only, never a secret.
fn resolves_to(p: &Profiles, name: &str, depth: u8) -> Option<String> {
    if depth > 8 {
        return Some(format!("cycle:{name}"));
    }
    if let Some(role) = p.get(name, "role_arn") {
        let from = if let Some(src) = p.get(name, "source_profile") {
            if src == name {
                static_key(p, name)
            } else {
                resolves_to(p, src, depth + 1)
            }
        } else if let Some(cs) = p.get(name, "credential_source") {
            Some(match cs {
                "Environment" => format!(
                    "credential-source:env:{}",
                    env("AWS_ACCESS_KEY_ID").unwrap_or_default()
                ),
                other => format!("credential-source:{other}"),
            })
        } else {
            p.get(name, "web_identity_token_file")
                .map(|f| format!("web-identity-file:{f}"))
        };
        return Some(format!(
            "role:{role} from ({})",
            from.unwrap_or_else(|| "none".into())
        ));
    }
    if let Some(session) = p
        .get(name, "sso_session")
        .or_else(|| p.get(name, "sso_start_url"))
    {
        return Some(format!(
            "sso:{session}/{}/{}",
            p.get(name, "sso_account_id").unwrap_or(""),
            p.get(name, "sso_role_name").unwrap_or("")
        ));
    }
    if let Some(process) = p.get(name, "credential_process") {
        return Some(format!("process:{process}"));
    }
    static_key(p, name)
}

fn static_key(p: &Profiles, name: &str) -> Option<String> {
    let id = p.get(name, "aws_access_key_id")?;
    p.get(name, "aws_secret_access_key")?;
    Some(format!("key:{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles(config: &str, credentials: &str) -> Profiles {
        let dir = std::env::temp_dir().join(format!(
            "ecr-identity-{}-{}",
            std::process::id(),
            config.len() * 31 + credentials.len()
        ));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let files = Files {
            config: dir.join("config"),
            credentials: dir.join("credentials"),
        };
        std::fs::write(&files.config, config).expect("write");
        std::fs::write(&files.credentials, credentials).expect("write");
        let p = Profiles::load(&files);
        std::fs::remove_dir_all(&dir).expect("cleanup");
        p
    }

    #[test]
    fn a_profile_resolves_to_what_signs_never_to_a_secret() {
        let p = profiles(
            "[profile role]\nrole_arn = arn:aws:iam::1:role/pull\nsource_profile = base\n\
             [profile sso]\nsso_start_url = https://corp.awsapps.com/start\nsso_account_id = 1\nsso_role_name = Dev\n\
             [profile proc]\ncredential_process = /usr/bin/creds --x\n\
             [profile region-only]\nregion = eu-west-1\n\
             [profile self]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = self\naws_access_key_id = AKIASELF\naws_secret_access_key = s\n\
             [profile loop]\nrole_arn = arn:aws:iam::1:role/l\nsource_profile = loop2\n\
             [profile loop2]\nrole_arn = arn:aws:iam::1:role/l2\nsource_profile = loop\n",
            "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n\
             [keyonly]\naws_access_key_id = AKIANOSECRET\n",
        );
        let r = |name| resolves_to(&p, name, 0);
        assert_eq!(r("base").as_deref(), Some("key:AKIABASE"));
        assert_eq!(
            r("role").as_deref(),
            Some("role:arn:aws:iam::1:role/pull from (key:AKIABASE)")
        );
        assert_eq!(
            r("sso").as_deref(),
            Some("sso:https://corp.awsapps.com/start/1/Dev")
        );
        assert_eq!(r("proc").as_deref(), Some("process:/usr/bin/creds --x"));
        assert_eq!(r("region-only"), None, "no credentials: the chain goes on");
        assert_eq!(
            r("keyonly"),
            None,
            "a key id without its secret gives nothing"
        );
        assert_eq!(
            r("self").as_deref(),
            Some("role:arn:aws:iam::1:role/r from (key:AKIASELF)")
        );
        assert!(r("loop").is_some_and(|s| s.contains("cycle:")), "bounded");
        for name in ["base", "role", "self"] {
            assert!(
                !r(name).unwrap_or_default().contains("secret"),
                "{name}: a secret in the key"
            );
        }
    }

    #[test]
    fn keys_name_the_source_and_the_role() {
        let id = Identity {
            source: Source::Profile {
                name: "p".into(),
                config_file: "/c".into(),
                credentials_file: "/k".into(),
                resolves_to: "key:AKIA1".into(),
            },
            role_arn: Some("arn:aws:iam::1:role/x".into()),
        };
        assert_eq!(
            id.key(),
            "profile:p files:/c|/k key:AKIA1 assume:arn:aws:iam::1:role/x"
        );
        assert_eq!(id.label(), "profile:p assume:arn:aws:iam::1:role/x");
        let env = Identity {
            source: Source::Environment {
                access_key_id: "AKIA2".into(),
            },
            role_arn: None,
        };
        assert_ne!(env.key(), id.key());
        let back: Identity =
            serde_json::from_str(&serde_json::to_string(&id).expect("encode")).expect("decode");
        assert_eq!(back, id);
    }
}
