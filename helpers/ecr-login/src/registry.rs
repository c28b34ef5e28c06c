//! Which registries are ECR's: a small pure parser, checked against a table of host names.

/// The two token services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Service {
    /// Private registries: `ecr:GetAuthorizationToken` in the registry's region.
    #[serde(rename = "ecr")]
    Ecr,
    /// ECR Public: `ecr-public:GetAuthorizationToken`, always in us-east-1.
    #[serde(rename = "ecr-public")]
    EcrPublic,
}

impl Service {
    /// The name used in the cache and the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Ecr => "ecr",
            Service::EcrPublic => "ecr-public",
        }
    }
}

/// An ECR registry named by a server URL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// The host name alone, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com`.
    pub host: String,
    /// Which API issues its tokens.
    pub service: Service,
    /// The 12-digit account id (private registries only).
    pub id: Option<String>,
    /// The region named by the host (us-east-1 for ECR Public).
    pub region: String,
    /// Whether the host is a FIPS endpoint (`dkr.ecr-fips.…`).
    pub fips: bool,
}

/// The host names of ECR Public.
const PUBLIC_HOSTS: &[&str] = &["public.ecr.aws", "ecr-public.aws.com"];

/// The DNS suffixes of every partition the Go helper 0.12 accepts.
const SUFFIXES: &[&str] = &[
    "amazonaws.com",
    "amazonaws.com.cn",
    "on.aws",
    "on.amazonwebservices.com.cn",
    "c2s.ic.gov",
    "sc2s.sgov.gov",
    "cloud.adc-e.uk",
    "csp.hci.ic.gov",
    "amazonaws.eu",
];

/// `host[:port]` of a server URL as docker, skopeo and podman send it: an optional `https://`,
/// then `host[:port][/path]`. Userinfo is dropped the way a URL parser would.
pub fn authority_of(server_url: &str) -> &str {
    let rest = server_url.strip_prefix("https://").unwrap_or(server_url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    match authority.rsplit_once('@') {
        // Userinfo may hold only what RFC 3986 allows there: anything else (a `\`, as in
        // `evil.example\@<account>.dkr.ecr…`) means the string is not the URL it looks like,
        // and names no host at all.
        Some((userinfo, host)) if userinfo.bytes().all(is_userinfo_byte) => host,
        Some(_) => "",
        None => authority,
    }
}

/// RFC 3986 `userinfo`: unreserved, percent-encoded, sub-delims and `:`.
fn is_userinfo_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:".contains(&b)
}

/// The host of a server URL: [`authority_of`] without the port.
pub fn host_of(server_url: &str) -> &str {
    let host_port = authority_of(server_url);
    match host_port.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => host_port,
    }
}

/// The ECR registry a server URL names, or `None` if it is not ECR (no network call is ever made
/// for those: they get the protocol's not-found answer).
pub fn parse(server_url: &str) -> Option<Registry> {
    let host = host_of(server_url);
    if PUBLIC_HOSTS.contains(&host) {
        return Some(Registry {
            host: host.to_string(),
            service: Service::EcrPublic,
            id: None,
            region: "us-east-1".to_string(),
            fips: false,
        });
    }
    // <12 digits>.dkr(.|-)ecr[-fips].<region>.<suffix>
    let (id, rest) = host.split_once('.')?;
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = rest
        .strip_prefix("dkr.ecr")
        .or_else(|| rest.strip_prefix("dkr-ecr"))?;
    let (fips, rest) = match rest.strip_prefix("-fips") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let (region, suffix) = rest.strip_prefix('.')?.split_once('.')?;
    let valid_region = region
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_region || !SUFFIXES.contains(&suffix) {
        return None;
    }
    Some(Registry {
        host: host.to_string(),
        service: Service::Ecr,
        id: Some(id.to_string()),
        region: region.to_string(),
        fips,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_form_the_go_helper_accepts() {
        let ok = |url: &str, id: &str, region: &str, fips: bool| {
            let r = parse(url).unwrap_or_else(|| panic!("{url} should be ECR"));
            assert_eq!(
                (r.service, r.id.as_deref(), r.region.as_str(), r.fips),
                (Service::Ecr, Some(id), region, fips),
                "{url}"
            );
        };
        ok(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "123456789012",
            "us-east-1",
            false,
        );
        ok(
            "https://123456789012.dkr.ecr.us-west-2.amazonaws.com",
            "123456789012",
            "us-west-2",
            false,
        );
        ok(
            "https://123456789012.dkr.ecr.us-west-2.amazonaws.com/v2/repo/manifests/latest",
            "123456789012",
            "us-west-2",
            false,
        );
        ok(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com:443/team/app",
            "123456789012",
            "eu-west-1",
            false,
        );
        ok(
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            "123456789012",
            "us-gov-west-1",
            true,
        );
        ok(
            "123456789012.dkr-ecr.us-east-1.on.aws",
            "123456789012",
            "us-east-1",
            false,
        );
        ok(
            "123456789012.dkr-ecr-fips.us-east-1.on.aws",
            "123456789012",
            "us-east-1",
            true,
        );
        ok(
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "123456789012",
            "cn-north-1",
            false,
        );
        ok(
            "123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn",
            "123456789012",
            "cn-northwest-1",
            false,
        );
        ok(
            "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
            "123456789012",
            "us-iso-east-1",
            false,
        );
        ok(
            "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
            "123456789012",
            "us-isob-east-1",
            false,
        );
        ok(
            "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
            "123456789012",
            "eu-isoe-west-1",
            false,
        );
        ok(
            "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov",
            "123456789012",
            "us-isof-south-1",
            false,
        );
        ok(
            "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
            "123456789012",
            "eusc-de-east-1",
            false,
        );
        for public in [
            "public.ecr.aws",
            "https://public.ecr.aws/nginx/nginx",
            "ecr-public.aws.com",
        ] {
            let r = parse(public).unwrap_or_else(|| panic!("{public}"));
            assert_eq!(
                (r.service, r.region.as_str(), r.id),
                (Service::EcrPublic, "us-east-1", None)
            );
        }
    }

    #[test]
    fn rejects_everything_else() {
        for url in [
            "",
            "index.docker.io",
            "https://index.docker.io/v1/",
            "127.0.0.1:5000",
            "123456789012.dkr.ecr.us-west-2.amazonaws.com.evil.example",
            "evil.example/123456789012.dkr.ecr.us-west-2.amazonaws.com",
            "x123456789012.dkr.ecr.us-west-2.amazonaws.com",
            "12345678901.dkr.ecr.us-west-2.amazonaws.com",
            "1234567890123.dkr.ecr.us-west-2.amazonaws.com",
            "123456789012.dkr.ecr..amazonaws.com",
            "123456789012.dkr.ecr.us-west-2.amazonaws.org",
            "123456789012.ecr.us-west-2.amazonaws.com",
            "123456789012.dkr.ecr.us-west-2.amazonaws.com@evil.example",
            "evil.example\\@123456789012.dkr.ecr.us-west-2.amazonaws.com",
            "https://evil.example\\@123456789012.dkr.ecr.us-west-2.amazonaws.com/v2/",
            "a b@123456789012.dkr.ecr.us-west-2.amazonaws.com",
            "http://123456789012.dkr.ecr.us-west-2.amazonaws.com",
            "public.ecr.aws.evil.example",
            "notpublic.ecr.aws",
        ] {
            assert_eq!(parse(url), None, "{url}");
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(host_of("https://u:p@h.example:5000/x?y#z"), "h.example");
        assert_eq!(host_of("h.example"), "h.example");
        assert_eq!(host_of("h.example:notaport"), "h.example:notaport");
        assert_eq!(authority_of("https://u@h.example:5000/x"), "h.example:5000");
        // Userinfo, ports (0 and out of range alike: only digits are checked, as Go's URL parser
        // does), path, query and fragment never change which registry a URL names.
        let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        for url in [
            format!("https://user:pass@{host}/v2/"),
            format!("{host}:0"),
            format!("{host}:99999"),
            format!("https://{host}:443/v2/repo?scope=x#frag"),
        ] {
            assert_eq!(parse(&url).map(|r| r.host), Some(host.to_string()), "{url}");
        }
        assert_eq!(
            parse(&format!("{host}:port")),
            None,
            "not a port: not a host"
        );
        assert_eq!(parse("[::1]:5000"), None);
    }
}
