//! `configure`'s arguments.

use std::path::PathBuf;

const USAGE: &str = "usage: NAME configure [--registry HOST]... [--file PATH] [--import] [--force] [--apply]\n\
  --registry HOST  use the helper for HOST only (credHelpers); without it, for every registry (credsStore)\n\
  --file PATH      the file to change (default $DOCKER_CONFIG/config.json, else ~/.docker/config.json;\n\
                   a containers auth.json works the same, e.g. ${XDG_RUNTIME_DIR}/containers/auth.json)\n\
  --import         move the passwords and identity tokens in \"auths\" into the helper's store\n\
  --force          replace a different helper already configured\n\
  --apply          write the change (a backup is kept as FILE.bak); without it, only show the diff";

/// The usage text for the program `name`.
pub fn usage(name: &str) -> String {
    USAGE.replace("NAME", name)
}

/// What was asked.
pub struct Options {
    /// `--registry`: credHelpers entries; none means credsStore.
    pub registries: Vec<String>,
    /// `--file`.
    pub file: Option<PathBuf>,
    /// `--import`.
    pub import: bool,
    /// `--force`.
    pub force: bool,
    /// `--apply`.
    pub apply: bool,
}

/// The options, `Err(None)` for `--help`, or the mistake.
pub fn parse(args: &[String]) -> Result<Options, Option<String>> {
    let mut o = Options {
        registries: Vec::new(),
        file: None,
        import: false,
        force: false,
        apply: false,
    };
    let mut it = args.iter();
    let needs = |what: &str| Some(what.to_string());
    while let Some(a) = it.next() {
        match a.as_str() {
            "--registry" => o.registries.push(
                it.next()
                    .ok_or_else(|| needs("--registry needs a host"))?
                    .clone(),
            ),
            "--file" => {
                o.file = Some(PathBuf::from(
                    it.next().ok_or_else(|| needs("--file needs a path"))?,
                ));
            }
            "--import" => o.import = true,
            "--force" => o.force = true,
            "--apply" => o.apply = true,
            "-h" | "--help" => return Err(None),
            other => return Err(Some(format!("unknown option {other}"))),
        }
    }
    Ok(o)
}
