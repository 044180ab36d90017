//! Reading a whole file with a size limit, for every file the library or the `smime` command
//! reads: messages, keys and certificates.

use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Why [`read_file_limited`] read no file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadFileError {
    /// The file cannot be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file's size, known before reading, is over the limit; nothing was read.
    #[error("{} is {size} bytes, over the limit of {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// A file whose size is not known before reading (a pipe, a device such as `/dev/zero`)
    /// gave more than the limit; at most the limit and one byte were read.
    #[error("{} is over the limit of {limit} bytes", path.display())]
    TooLargeStream {
        /// The file.
        path: PathBuf,
        /// The limit in force.
        limit: u64,
    },
}

/// What [`read_file_limited`] reads into: `Vec<u8>`, or
/// [`Zeroizing`]`<Vec<u8>>` for a file that holds a secret (a private key).
///
/// A `Zeroizing` buffer gets room for the whole file before reading (its size, or `limit` + 1
/// bytes when the size is not known), so that it never moves and leaves no unwiped copy
/// behind; a `Vec` grows as a pipe fills it.
pub trait FileBuffer: sealed::Sealed {}

impl FileBuffer for Vec<u8> {}
impl FileBuffer for Zeroizing<Vec<u8>> {}

mod sealed {
    use zeroize::Zeroizing;

    /// The buffers [`super::read_file_limited`] knows how to size.
    pub trait Sealed: AsMut<Vec<u8>> + Default {
        /// Whether a file of unknown size is read into room for the whole limit, reserved
        /// before reading.
        const RESERVE_LIMIT: bool;
    }

    impl Sealed for Vec<u8> {
        const RESERVE_LIMIT: bool = false;
    }

    impl Sealed for Zeroizing<Vec<u8>> {
        const RESERVE_LIMIT: bool = true;
    }
}

/// Reads the file at `path`, refusing one over `limit` bytes: by its size before reading, and
/// by counting while reading (a pipe or a device has no size), so that at most `limit` + 1
/// bytes are ever held.
///
/// ```no_run
/// use smime_core::zeroize::Zeroizing;
/// use smime_core::{MAX_KEY_FILE, read_file_limited};
///
/// # fn main() -> Result<(), smime_core::ReadFileError> {
/// let eml: Vec<u8> = read_file_limited("message.eml", 50 * 1024 * 1024)?;
/// // A key: wiped when dropped, and never copied while read.
/// let key: Zeroizing<Vec<u8>> = read_file_limited("alice@example.com.pem", MAX_KEY_FILE)?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`ReadFileError::TooLarge`] or [`ReadFileError::TooLargeStream`] when the file is over the
/// limit, [`ReadFileError::Io`] when it cannot be read (or, for a `Zeroizing` buffer, when
/// the room for it cannot be allocated).
pub fn read_file_limited<B: FileBuffer>(
    path: impl AsRef<Path>,
    limit: u64,
) -> Result<B, ReadFileError> {
    let path = path.as_ref();
    let io = |source| ReadFileError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.len() > limit {
        return Err(ReadFileError::TooLarge {
            path: path.to_owned(),
            size: meta.len(),
            limit,
        });
    }
    // A regular file says its size (files in /proc say 0, whatever they hold): room for all of
    // it, and one byte to see the end, so that the buffer does not move while it fills.
    let room = if meta.is_file() && meta.len() > 0 {
        meta.len() + 1
    } else if B::RESERVE_LIMIT {
        limit.saturating_add(1)
    } else {
        0
    };
    let mut data = B::default();
    data.as_mut()
        .try_reserve_exact(usize::try_from(room).unwrap_or(usize::MAX))
        .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::OutOfMemory, e)))?;
    file.take(limit.saturating_add(1))
        .read_to_end(data.as_mut())
        .map_err(io)?;
    if data.as_mut().len() as u64 > limit {
        return Err(ReadFileError::TooLargeStream {
            path: path.to_owned(),
            limit,
        });
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        let data: Vec<u8> = read_file_limited(&path, 10).unwrap();
        assert_eq!(data, b"0123456789");
        let key: Zeroizing<Vec<u8>> = read_file_limited(&path, 10).unwrap();
        assert_eq!(&key[..], b"0123456789");
        assert_eq!(key.capacity(), 11, "sized before reading");
        match read_file_limited::<Vec<u8>>(&path, 9) {
            Err(ReadFileError::TooLarge {
                size: 10, limit: 9, ..
            }) => {}
            other => panic!("{other:?}"),
        }
        match read_file_limited::<Vec<u8>>(dir.path().join("missing"), 9) {
            Err(e @ ReadFileError::Io { .. }) => {
                assert!(e.to_string().contains("missing"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_device_without_size_is_counted_while_read() {
        // `/dev/zero` says size 0 and never ends.
        match read_file_limited::<Zeroizing<Vec<u8>>>("/dev/zero", 1000) {
            Err(e @ ReadFileError::TooLargeStream { limit: 1000, .. }) => {
                assert_eq!(e.to_string(), "/dev/zero is over the limit of 1000 bytes");
            }
            other => panic!("{other:?}"),
        }
        let empty: Zeroizing<Vec<u8>> = read_file_limited("/dev/null", 1000).unwrap();
        assert!(empty.is_empty());
        assert_eq!(
            empty.capacity(),
            1001,
            "room for the whole limit, reserved up front"
        );
        let empty: Vec<u8> = read_file_limited("/dev/null", 1000).unwrap();
        assert!(empty.is_empty());
    }
}
