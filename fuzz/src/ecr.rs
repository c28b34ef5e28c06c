//! ECR: the host parser accepts only true ECR hosts, and the cache reader takes any bytes.

use ecr_login::cache::{self, Freshness};
use ecr_login::registry::{self, Service};

/// The DNS suffixes of the partitions the Go helper accepts (a copy, so that a change to the
/// parser's list is a decision the fuzz property sees).
const SUFFIXES: &[&str] = &[
    ".amazonaws.com",
    ".amazonaws.com.cn",
    ".on.aws",
    ".on.amazonwebservices.com.cn",
    ".c2s.ic.gov",
    ".sc2s.sgov.gov",
    ".cloud.adc-e.uk",
    ".csp.hci.ic.gov",
    ".amazonaws.eu",
];

/// Any string: `parse` never panics, and what it accepts is an ECR host whose name ends in one of
/// the partitions' suffixes (no lookalike such as `….amazonaws.com.evil.example`), whose region
/// and account id come from that host, and which parses the same from its bare host name.
pub fn ecr_host(data: &[u8]) {
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    let Some(reg) = registry::parse(url) else {
        return;
    };
    assert_eq!(reg.host, registry::host_of(url));
    match reg.service {
        Service::EcrPublic => {
            assert!(["public.ecr.aws", "ecr-public.aws.com"].contains(&reg.host.as_str()));
            assert_eq!(reg.region, "us-east-1");
        }
        Service::Ecr => {
            assert!(
                SUFFIXES.iter().any(|s| reg.host.ends_with(s)),
                "not an ECR partition: {:?}",
                reg.host
            );
            let id = reg.id.as_deref().expect("a private registry has an id");
            assert!(id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()));
            assert!(reg.host.starts_with(&format!("{id}.dkr")));
            assert!(reg.host.contains(&format!(".{}.", reg.region)));
            assert!(!reg.region.is_empty());
        }
    }
    assert!(
        !reg.host.contains(['/', '@', '?', '#', ':']),
        "{:?}",
        reg.host
    );
    assert_eq!(registry::parse(&reg.host), Some(reg.clone()));
    assert_eq!(
        registry::parse(&format!("https://{}/v2/", reg.host)),
        Some(reg)
    );
}

/// Any bytes as a cache file: `parse` never panics; every entry it returns can be judged and
/// opened at any time without a panic; and writing the entries back reads back the same.
pub fn ecr_cache(data: &[u8]) {
    let Ok(contents) = cache::parse(data) else {
        return;
    };
    for e in contents.entries.values() {
        for now in [
            i64::MIN,
            -1,
            0,
            e.requested_at,
            e.expires_at,
            e.requested_at.saturating_add(1),
            i64::MAX,
        ] {
            let f = e.freshness(now);
            if now >= e.expires_at {
                assert_eq!(f, Freshness::Expired, "an expired token is never served");
            }
        }
        let _ = e.credentials();
    }
    let bytes = cache::to_bytes(contents.clone()).expect("serialise");
    let again = cache::parse(&bytes).expect("reads back");
    assert_eq!(again, contents);
}
