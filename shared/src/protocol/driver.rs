//! The one protocol driver: argv + stdin in, stdout + exit code out, with injected I/O so the
//! whole protocol is tested without processes.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::ExitCode;

use super::action::{ACTIONS, Action, ArgsError};
use super::error::{Error, one_line};
use super::info::HelperInfo;
use super::input::{read_input, server_url};
use super::store::Store;
use super::wire::{Credentials, list_to_json};
use crate::os::hardening;
use crate::os::logging;

/// The whole `main` of a helper: hardening, logging, then real argv, stdin and stdout into
/// [`run`]. `configure` (not part of the protocol: for people, see [`crate::configure`]) is
/// handled here, outside the protocol driver.
pub fn main(store: &dyn Store, info: &HelperInfo) -> ExitCode {
    hardening::no_core_dumps();
    hardening::one_line_panics(info.name);
    logging::init(info.name, &info.log);
    let mut argv = std::env::args_os();
    let argv0 = argv.next().unwrap_or_default();
    let args: Vec<OsString> = argv.collect();
    let stdout = std::io::stdout();
    if args.first().is_some_and(|a| a == "configure") {
        let rest: Vec<String> = args[1..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return ExitCode::from(crate::configure::run(
            store,
            info,
            &rest,
            &mut stdout.lock(),
        ));
    }
    let args = Action::args_with_argv0(&argv0, args);
    run(
        store,
        info,
        &args,
        &mut std::io::stdin().lock(),
        &mut stdout.lock(),
    )
}

/// What the Go helpers answer to argv that names no action.
#[derive(Debug, thiserror::Error)]
enum ArgsMessage {
    /// No action, or more than one argument.
    #[error("Usage: {name} <store|get|erase|list|version>")]
    Usage { name: &'static str },
    /// An action we do not know (with its line breaks folded).
    #[error("Unknown credential action `{action}`: expected one of {ACTIONS}")]
    UnknownAction { action: String },
}

/// Runs one protocol exchange. Every error is one line on `stdout` and exit code 1, because
/// that is where the docker CLI reads it; nothing is ever written to stderr here.
pub fn run(
    store: &dyn Store,
    info: &HelperInfo,
    args: &[OsString],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
) -> ExitCode {
    let start = std::time::Instant::now();
    let parsed = Action::from_args(args);
    // Every log line of this call carries these fields; a `Store` fills in the ones it knows
    // (`Span::current().record(...)`), so each call logs one line that says it all.
    let span = tracing::info_span!(
        "call",
        action = parsed.as_ref().map(|a| a.as_str()).unwrap_or("none"),
        server_url = tracing::field::Empty,
        registry = tracing::field::Empty,
        source = tracing::field::Empty,
        cache = tracing::field::Empty,
        api_ms = tracing::field::Empty,
    );
    let _entered = span.enter();
    let result = match parsed.clone() {
        Ok(action) => dispatch(store, info, action, stdin),
        Err(ArgsError::Usage) => Err(Error::bad_input(ArgsMessage::Usage { name: info.name })),
        Err(ArgsError::Unknown(action)) => Err(Error::bad_input(ArgsMessage::UnknownAction {
            action: one_line(&action),
        })),
    };
    // One line per call: what was asked, how it ended, how long it took. Never a secret: the span
    // holds URLs and names, and no error text holds a secret.
    let elapsed_ms = (start.elapsed().as_secs_f64() * 1e4).round() / 10.0;
    let (text, code) = match result {
        Ok(text) => {
            tracing::info!(elapsed_ms, "ok");
            (text, ExitCode::SUCCESS)
        }
        Err(err) => {
            tracing::info!(elapsed_ms, error = %err, "failed");
            (
                format!("{}\n", one_line(&err.to_string())),
                ExitCode::FAILURE,
            )
        }
    };
    // A closed stdout (the client went away) leaves nothing useful to do; the exit code says it.
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => code,
        Err(_) => ExitCode::FAILURE,
    }
}

fn dispatch(
    store: &dyn Store,
    info: &HelperInfo,
    action: Action,
    stdin: &mut dyn Read,
) -> Result<String, Error> {
    match action {
        Action::Get => {
            let url = server_url(&read_input(stdin)?)?;
            span_record("server_url", &url);
            Ok(get_or_registry(store, &url)?.to_json())
        }
        Action::Store => {
            let input = read_input(stdin)?;
            let creds = Credentials::from_store_json(&input)?;
            span_record("server_url", &creds.server_url);
            store.store(&creds)?;
            Ok(String::new())
        }
        Action::Erase => {
            let url = server_url(&read_input(stdin)?)?;
            span_record("server_url", &url);
            // Nothing to erase is not a failure: `docker logout` removes the registry from
            // config.json only when erase succeeds, so a failing erase of nothing leaves a
            // login marker behind for good (the Go secretservice helper succeeds here too).
            match store.erase(&url) {
                Ok(()) | Err(Error::NotFound) => Ok(String::new()),
                Err(e) => Err(e),
            }
        }
        Action::List => Ok(list_to_json(&store.list()?)),
        Action::Version => Ok(format!(
            "{} (rust-credential-helpers) {}\n",
            info.name, info.version
        )),
        Action::Help => Ok(help(info)),
    }
}

/// `get` of `url`, else of the registry it names. The docker CLI sends a registry (`host[:port]`,
/// or a URL such as `https://index.docker.io/v1/`) and that is what is stored; the Nomad podman
/// driver sends the image's repository, `host[:port]/path/name` (no scheme, no tag). When the
/// whole string has no credentials and it has no scheme, its shorter paths are tried, down to
/// the bare registry, as podman itself matches auth entries. The answer names what matched.
fn get_or_registry(store: &dyn Store, url: &str) -> Result<Credentials, Error> {
    let mut candidate = url;
    loop {
        match store.get(candidate) {
            Err(Error::NotFound) if !url.contains("://") => match candidate.rsplit_once('/') {
                Some((shorter, _)) if !shorter.is_empty() => candidate = shorter,
                _ => return Err(Error::NotFound),
            },
            other => return other,
        }
    }
}

/// Records a field of the current call's log line (see [`run`]).
pub fn span_record(field: &str, value: &str) {
    tracing::Span::current().record(field, value);
}

fn help(info: &HelperInfo) -> String {
    format!(
        "{name} {version}\n{about}\n\n\
         Usage: {name} <store|get|erase|list|version>\n\n\
         Actions (the docker credential-helper protocol; errors are one line on stdout, exit 1):\n  \
         get      read a server URL on stdin, print {{\"ServerURL\",\"Username\",\"Secret\"}} JSON\n  \
         store    read {{\"ServerURL\",\"Username\",\"Secret\"}} JSON on stdin and save it\n  \
         erase    read a server URL on stdin and delete its credentials\n  \
         list     print {{\"<ServerURL>\":\"<Username>\"}} JSON for every saved credential\n  \
         version  print the version\n\n\
         For people: `{name} configure --help` adds this helper to a docker config.json and moves the\n\
         base64 passwords `docker login` left there into the helper's store.\n\n\
         {details}\n\n\
         Examples:\n  \
         printf '%s' registry.example.com | {name} get\n  \
         printf '%s' '{{\"ServerURL\":\"registry.example.com\",\"Username\":\"me\",\"Secret\":\"…\"}}' | {name} store\n  \
         {name} list\n  \
         and in ~/.docker/config.json: {{\"credHelpers\": {{\"registry.example.com\": \"{short}\"}}}}\n\n\
         Exit status: 0 on success; 1 on any error, including `credentials not found in native keychain`.\n",
        name = info.name,
        version = info.version,
        about = info.about,
        details = info.details.trim_end(),
        short = info.short_name(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An in-memory store whose `store` of the server URL `fail` fails.
    fn memory() -> crate::memory::MemoryStore {
        let mut store = crate::memory::MemoryStore::default();
        store.fail_on = Some("fail".into());
        store
    }

    const INFO: HelperInfo = HelperInfo {
        name: "docker-credential-test",
        version: "9.9.9",
        about: "A test helper.",
        details: "Environment: none.",
        log: crate::os::logging::LogDefaults::OFF,
    };

    fn call(store: &crate::memory::MemoryStore, args: &[&str], stdin: &[u8]) -> (ExitCode, String) {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let mut out = Vec::new();
        let code = run(store, &INFO, &args, &mut &stdin[..], &mut out);
        (code, String::from_utf8(out).expect("stdout is UTF-8"))
    }

    fn ok(s: &str) -> (ExitCode, String) {
        (ExitCode::SUCCESS, s.to_string())
    }

    fn fail(s: &str) -> (ExitCode, String) {
        (ExitCode::FAILURE, format!("{s}\n"))
    }

    #[test]
    fn store_get_list_erase_round_trip() {
        let s = memory();
        let json = br#"{"ServerURL":"127.0.0.1:5000","Username":"u","Secret":"p"}"#;
        assert_eq!(call(&s, &["store"], json), ok(""));
        assert_eq!(
            call(&s, &["get"], b"127.0.0.1:5000\n"),
            ok("{\"ServerURL\":\"127.0.0.1:5000\",\"Username\":\"u\",\"Secret\":\"p\"}\n")
        );
        assert_eq!(call(&s, &["list"], b""), ok("{\"127.0.0.1:5000\":\"u\"}\n"));
        assert_eq!(call(&s, &["erase"], b"127.0.0.1:5000"), ok(""));
        assert_eq!(
            call(&s, &["get"], b"127.0.0.1:5000"),
            fail("credentials not found in native keychain")
        );
        assert_eq!(
            call(&s, &["erase"], b"127.0.0.1:5000"),
            ok(""),
            "erasing nothing succeeds (docker logout then drops its marker)"
        );
        assert_eq!(call(&s, &["list"], b""), ok("{}\n"));
    }

    #[test]
    fn protocol_errors_are_one_line_on_stdout() {
        let s = memory();
        assert_eq!(call(&s, &["get"], b""), fail("no credentials server URL"));
        assert_eq!(
            call(&s, &["erase"], b" \n"),
            fail("no credentials server URL")
        );
        assert_eq!(
            call(
                &s,
                &["store"],
                br#"{"ServerURL":"h","Username":"","Secret":"p"}"#
            ),
            fail("no credentials username")
        );
        assert_eq!(
            call(&s, &["bogus"], b""),
            fail(
                "Unknown credential action `bogus`: expected one of store, get, erase, list, version"
            )
        );
        assert_eq!(
            call(&s, &["evil\nline"], b""),
            fail(
                "Unknown credential action `evil; line`: expected one of store, get, erase, list, version"
            )
        );
        assert_eq!(
            call(&s, &[], b""),
            fail("Usage: docker-credential-test <store|get|erase|list|version>")
        );
        assert_eq!(
            call(&s, &["get", "x"], b""),
            fail("Usage: docker-credential-test <store|get|erase|list|version>")
        );
        assert_eq!(
            call(
                &s,
                &["store"],
                br#"{"ServerURL":"fail","Username":"u","Secret":"p"}"#
            ),
            fail("backend broke; badly")
        );
        let (code, out) = call(
            &s,
            &["store"],
            b"{\"ServerURL\":\"h\",\"Username\":\"u\",\"Secret\":\"s3cr3t",
        );
        assert_eq!(code, ExitCode::FAILURE);
        assert!(
            out.starts_with("invalid credentials JSON:") && !out.contains("s3cr3t"),
            "{out}"
        );
        assert_eq!(out.lines().count(), 1);
        assert_eq!(
            call(&s, &["list"], b""),
            ok("{}\n"),
            "failed store wrote nothing"
        );
    }

    #[test]
    fn a_repository_path_falls_back_to_its_registry() {
        let s = memory();
        let json = br#"{"ServerURL":"127.0.0.1:5000","Username":"u","Secret":"p"}"#;
        assert_eq!(call(&s, &["store"], json), ok(""));
        assert_eq!(
            call(&s, &["get"], b"127.0.0.1:5000/team/app"),
            ok("{\"ServerURL\":\"127.0.0.1:5000\",\"Username\":\"u\",\"Secret\":\"p\"}\n"),
            "the Nomad podman driver's stdin"
        );
        let json = br#"{"ServerURL":"127.0.0.1:5000/team","Username":"t","Secret":"q"}"#;
        assert_eq!(call(&s, &["store"], json), ok(""));
        assert_eq!(
            call(&s, &["get"], b"127.0.0.1:5000/team/app"),
            ok("{\"ServerURL\":\"127.0.0.1:5000/team\",\"Username\":\"t\",\"Secret\":\"q\"}\n"),
            "the longest stored prefix"
        );
        assert_eq!(
            call(&s, &["get"], b"https://127.0.0.1:5000/v1/"),
            fail("credentials not found in native keychain"),
            "a URL with a scheme is matched whole, as the docker CLI sends it"
        );
        assert_eq!(
            call(&s, &["get"], b"other.example/team/app"),
            fail("credentials not found in native keychain")
        );
        assert_eq!(call(&s, &["erase"], b"127.0.0.1:5000/team/app"), ok(""));
        assert_eq!(
            call(&s, &["list"], b"").1,
            "{\"127.0.0.1:5000\":\"u\",\"127.0.0.1:5000/team\":\"t\"}\n",
            "erase names exactly what it removes: the registry's entry stays"
        );
    }

    #[test]
    fn version_and_help() {
        let s = memory();
        assert_eq!(
            call(&s, &["version"], b""),
            ok("docker-credential-test (rust-credential-helpers) 9.9.9\n")
        );
        assert_eq!(
            call(&s, &["--version"], b"").1,
            call(&s, &["version"], b"").1
        );
        let (code, out) = call(&s, &["--help"], b"");
        assert_eq!(code, ExitCode::SUCCESS);
        assert!(out.contains("Usage: docker-credential-test <store|get|erase|list|version>"));
        assert!(out.contains("Environment: none."));
    }

    #[test]
    fn closed_stdout_is_a_failure_not_a_panic() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let args = [OsString::from("list")];
        assert_eq!(
            run(&memory(), &INFO, &args, &mut &b""[..], &mut Closed),
            ExitCode::FAILURE
        );
    }
}
