//! What the environment says about how a helper may behave: whether anyone can answer a prompt,
//! and time bounds set in seconds. One rule each, for every helper.

use std::time::Duration;

/// What can show a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompter {
    /// A graphical prompt only (the Secret Service's unlock dialog).
    Display,
    /// A graphical prompt, or one on the controlling terminal (gpg's pinentry has both).
    DisplayOrTerminal,
}

/// Whether a prompt of that kind could reach a person: a display (`DISPLAY` or
/// `WAYLAND_DISPLAY` set), or, for [`Prompter::DisplayOrTerminal`], a controlling terminal. Under
/// CI, Nomad, the kubelet or a daemon there is neither, and a prompt would wait for nobody.
pub fn may_prompt(prompter: Prompter) -> bool {
    let display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    display || (prompter == Prompter::DisplayOrTerminal && std::fs::File::open("/dev/tty").is_ok())
}

/// The longest bound any variable may set: an hour. A larger value is a mistake, and the default
/// holds instead.
const MAX_SECONDS: f64 = 3600.0;

/// A time bound from the variable `name`, in seconds (fractions allowed): `default` when the
/// variable is unset, empty, not a number, not positive, or over an hour.
pub fn seconds(name: &str, default: Duration) -> Duration {
    std::env::var(name)
        .ok()
        .and_then(|s| parse_seconds(&s))
        .unwrap_or(default)
}

fn parse_seconds(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().parse().ok()?;
    (secs.is_finite() && secs > 0.0 && secs <= MAX_SECONDS).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse_or_fall_back() {
        assert_eq!(parse_seconds("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_seconds(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_seconds("3600"), Some(Duration::from_secs(3600)));
        for bad in ["", "0", "-1", "nan", "inf", "3601", "2s"] {
            assert_eq!(parse_seconds(bad), None, "{bad:?}");
        }
    }
}
