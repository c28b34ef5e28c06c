//! Reading the helper's stdin: bounded, UTF-8, no NUL, zeroed when dropped.

use std::io::Read;

use zeroize::Zeroizing;

use super::error::Error;

/// Why stdin or a server URL in it cannot be used. Never holds the input: it may be a secret.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// stdin could not be read.
    #[error("cannot read standard input: {0}")]
    Read(#[source] std::io::Error),
    /// More than [`MAX_INPUT`] bytes.
    #[error("input is larger than 1 MiB")]
    TooLarge,
    /// A NUL byte: no registry address or JSON request holds one.
    #[error("input contains a NUL byte")]
    Nul,
    /// Not UTF-8.
    #[error("input is not valid UTF-8")]
    NotUtf8,
    /// White space or control characters inside a server URL.
    #[error(
        "invalid server URL: it contains white space or control characters (send one URL, e.g. registry.example.com:5000)"
    )]
    InvalidServerUrl,
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Error {
        Error::bad_input(e)
    }
}

/// The most a helper reads from stdin. Real requests are a few hundred bytes; the bound keeps a
/// runaway writer from making us allocate without limit.
pub const MAX_INPUT: usize = 1024 * 1024;

/// Reads all of stdin (at most [`MAX_INPUT`] bytes) as UTF-8. The buffer may hold a secret, so it
/// is zeroed on drop, and errors never include its content.
pub fn read_input(stdin: &mut dyn Read) -> Result<Zeroizing<String>, Error> {
    let mut buf = Zeroizing::new(Vec::with_capacity(512));
    stdin
        .take(MAX_INPUT as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(InputError::Read)?;
    if buf.len() > MAX_INPUT {
        return Err(InputError::TooLarge.into());
    }
    if buf.contains(&0) {
        return Err(InputError::Nul.into());
    }
    if std::str::from_utf8(&buf).is_err() {
        return Err(InputError::NotUtf8.into());
    }
    // The bytes were checked above; moving the Vec out keeps one copy of the secret, not two.
    let bytes = std::mem::take(&mut *buf);
    match String::from_utf8(bytes) {
        Ok(s) => Ok(Zeroizing::new(s)),
        Err(e) => {
            drop(Zeroizing::new(e.into_bytes()));
            Err(InputError::NotUtf8.into())
        }
    }
}

/// The server URL sent to `get` and `erase`: the input with surrounding white space removed.
/// Interior white space or control characters cannot be part of a registry address, and a
/// message saying so beats a confusing miss.
pub fn server_url(input: &str) -> Result<String, Error> {
    let url = input.trim();
    if url.is_empty() {
        return Err(Error::MissingServerUrl);
    }
    check_server_url(url)?;
    Ok(url.to_string())
}

/// Refuses a server URL with white space or control characters anywhere. `store` checks its
/// ServerURL with this too: an entry `get` could never name would be stored for nothing (Go
/// stores it silently; found by the `protocol` fuzz target's store-then-get property).
pub fn check_server_url(url: &str) -> Result<(), Error> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InputError::InvalidServerUrl.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<String, String> {
        read_input(&mut &bytes[..])
            .map(|s| s.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn limits() {
        assert_eq!(read(b"abc").as_deref(), Ok("abc"));
        assert_eq!(read(b"a\0b").unwrap_err(), "input contains a NUL byte");
        assert_eq!(read(b"\xff\xfe").unwrap_err(), "input is not valid UTF-8");
        assert!(read(&vec![b'a'; MAX_INPUT]).is_ok());
        assert_eq!(
            read(&vec![b'a'; MAX_INPUT + 1]).unwrap_err(),
            "input is larger than 1 MiB"
        );
    }

    #[test]
    fn server_urls() {
        assert_eq!(server_url("h:5000\n").as_deref().ok(), Some("h:5000"));
        assert_eq!(
            server_url("  \r\n\t").unwrap_err().to_string(),
            "no credentials server URL"
        );
        assert!(
            server_url("a\nb")
                .unwrap_err()
                .to_string()
                .starts_with("invalid server URL")
        );
    }
}
