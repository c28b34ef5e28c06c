//! The action a helper is asked to perform: argv[1], parsed once.

use std::ffi::OsString;

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
}
