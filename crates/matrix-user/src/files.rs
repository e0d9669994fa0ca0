//! Files of the host the tool reads whole (users files, homeserver configurations): opened
//! without blocking, so that a FIFO or a device named by mistake is refused instead of waited
//! on, and read no further than a bound.

use std::fs::{File, OpenOptions};
use std::io::{Read, Take};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The regular file at `path`, to be read at most `max` bytes. The error says what is wrong
/// ("cannot be read: …", "is not a regular file", "is larger than N MiB"); the caller names the
/// file.
pub fn open_regular(path: &Path, max: u64) -> Result<Take<File>, String> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot be read: {e}"))?;
    let metadata = file.metadata().map_err(|e| format!("cannot be read: {e}"))?;
    if !metadata.is_file() {
        return Err("is not a regular file".to_string());
    }
    if metadata.len() > max {
        return Err(format!("is larger than {} MiB", max >> 20));
    }
    Ok(file.take(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_bound() {
        let dir = std::env::temp_dir().join(format!("matrix-user-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        // A FIFO with no writer: refused at once, not waited on.
        assert_eq!(open_regular(&fifo, 1 << 20).unwrap_err(), "is not a regular file");
        assert_eq!(open_regular(Path::new("/dev/zero"), 1 << 20).unwrap_err(), "is not a regular file");
        let big = dir.join("big");
        std::fs::write(&big, vec![b'x'; (2 << 20) + 1]).unwrap();
        assert_eq!(open_regular(&big, 2 << 20).unwrap_err(), "is larger than 2 MiB");
        let mut text = String::new();
        std::fs::write(&big, "fits").unwrap();
        open_regular(&big, 2 << 20).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "fits");
        assert!(open_regular(&dir.join("gone"), 1).unwrap_err().starts_with("cannot be read: "));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
