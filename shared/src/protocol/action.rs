//! The action a helper is asked to perform: argv[1], parsed once.

use std::ffi::{OsStr, OsString};
use std::path::Path;

/// What the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read a server URL, print its credentials.
    Get,
    /// Read credentials JSON, save them.
    Store,
    /// Read a server URL, delete its credentials.
    Erase,
    /// Print ServerURL → Username for every saved credential.
    List,
    /// `version` or `--version`.
    Version,
    /// `--help` or `-h`.
    Help,
}

/// The actions the protocol defines, in the order the Go helpers' usage line names them.
pub const ACTIONS: &str = "store, get, erase, list, version";

/// Why argv did not name an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgsError {
    /// No action, or more than one argument: the Go helpers print their usage line.
    Usage,
    /// An action we do not know; holds it for the message (lossy if it was not UTF-8).
    Unknown(String),
}

impl Action {
    /// The action's name in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Get => "get",
            Action::Store => "store",
            Action::Erase => "erase",
            Action::List => "list",
            Action::Version => "version",
            Action::Help => "help",
        }
    }

    /// The arguments to parse, given the program name it was run as. The Nomad podman driver runs
    /// helpers with `cmd.Args = []string{"get"}`: argv[0] is the action and nothing follows. So
    /// when no argument follows and argv[0]'s file name is one of the protocol's actions, that
    /// is the action; otherwise the arguments are left as they are.
    pub fn args_with_argv0(argv0: &OsStr, args: Vec<OsString>) -> Vec<OsString> {
        if !args.is_empty() {
            return args;
        }
        let name = Path::new(argv0).file_name().unwrap_or_default();
        match name.to_str() {
            Some(word @ ("get" | "store" | "erase" | "list" | "version")) => vec![word.into()],
            _ => args,
        }
    }

    /// Parses the arguments after the program name. Like the Go helpers, exactly one is allowed.
    pub fn from_args(args: &[OsString]) -> Result<Action, ArgsError> {
        let [arg] = args else {
            return Err(ArgsError::Usage);
        };
        let arg = arg.to_string_lossy();
        Ok(match arg.as_ref() {
            "get" => Action::Get,
            "store" => Action::Store,
            "erase" => Action::Erase,
            "list" => Action::List,
            "version" | "--version" | "-v" => Action::Version,
            "--help" | "-h" | "help" => Action::Help,
            _ => return Err(ArgsError::Unknown(arg.into_owned())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Action, ArgsError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        Action::from_args(&args)
    }

    #[test]
    fn parses() {
        assert_eq!(parse(&["get"]), Ok(Action::Get));
        assert_eq!(parse(&["--version"]), Ok(Action::Version));
        assert_eq!(parse(&["-h"]), Ok(Action::Help));
        assert_eq!(parse(&[]), Err(ArgsError::Usage));
        assert_eq!(parse(&["get", "x"]), Err(ArgsError::Usage));
        assert_eq!(parse(&["GET"]), Err(ArgsError::Unknown("GET".into())));
    }

    #[test]
    fn argv0_names_the_action_only_when_nothing_follows() {
        let with = |argv0: &str, args: &[&str]| {
            let args = args.iter().map(OsString::from).collect();
            Action::from_args(&Action::args_with_argv0(OsStr::new(argv0), args))
        };
        assert_eq!(with("get", &[]), Ok(Action::Get), "the Nomad podman driver");
        assert_eq!(with("/some/dir/list", &[]), Ok(Action::List));
        assert_eq!(with("get", &["store"]), Ok(Action::Store), "argv wins");
        assert_eq!(with("docker-credential-pass", &[]), Err(ArgsError::Usage));
        assert_eq!(with("configure", &[]), Err(ArgsError::Usage));
        assert_eq!(with("--help", &[]), Err(ArgsError::Usage));
    }
}
