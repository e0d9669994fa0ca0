//! Files of the host the tool reads: opened without blocking, so that a FIFO nobody writes to,
//! named by mistake, is refused or read as empty instead of waited on for ever.

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

/// A file holding a secret, as given: a regular file, or a pipe from a command
/// (`--admin-access-token-file <(pass show matrix/admin)`), read as it comes. Opened without
/// blocking, then read blocking: a FIFO with no writer then reads as empty at once.
pub fn open_secret(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    // SAFETY: `fd` is the open descriptor `file` owns; F_GETFL and F_SETFL only change its flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
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
        // A secret's FIFO with no writer reads as empty at once; one with a writer, as written.
        let mut text = String::new();
        open_secret(&fifo).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "");
        // A writer already there (as with `<(command)`): what it writes, until it closes.
        let mut writer = OpenOptions::new().read(true).write(true).open(&fifo).unwrap();
        let mut reader = open_secret(&fifo).unwrap();
        std::io::Write::write_all(&mut writer, b"s3cret\n").unwrap();
        drop(writer);
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "s3cret\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
