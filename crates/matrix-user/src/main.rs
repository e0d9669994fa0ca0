//! `matrix-user`: creates Matrix accounts and manages their admin rights.
//!
//! Run by Ansible with one argument, the path of a JSON args file, it is the `matrix_user`
//! module, or `matrix_registration_token` (`tokens`) when the args file names that one; with
//! anything else it is the command-line tool (`cli`). Both read the same
//! parameters and give the same result; the logic lives in the `homeserver` and `reconcile`
//! crates.

mod cli;
mod config;
mod files;
mod host_config;
#[cfg(test)]
mod hostile_input;
mod module;
mod params;
mod provision;
mod settings;
mod tokens;
mod users_file;

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

/// Runs async work on one thread: the work is waiting on the homeserver, not computing.
fn block_on<F: std::future::Future>(work: F) -> Result<F::Output, String> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(work))
}

fn main() -> ExitCode {
    no_core_dumps();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match args.as_slice() {
        [path] if is_ansible_args_file(Path::new(path)) => module::run(Path::new(path)),
        // The role's matrix_user_exec with pipelining on: the args JSON comes on stdin, read once.
        [path] if path == "/dev/stdin" => module::run(Path::new(path)),
        _ => cli::main(args),
    }
}

/// A core file would hold every password, token and secret of the run: none is written, and no
/// other process of the same user may read this one's memory (`PR_SET_DUMPABLE` 0). Best
/// effort: where the kernel refuses, the run goes on.
fn no_core_dumps() {
    let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain system calls on this process, with a valid pointer to a local value.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Module mode: the one argument is a file holding a JSON object with at least one `_ansible_*`
/// key, which Ansible always writes. Anything else (a users file, a config file, a typo) is the
/// command-line tool's to refuse, never run as module arguments.
fn is_ansible_args_file(path: &Path) -> bool {
    if path.as_os_str().to_string_lossy().starts_with('-') || !path.is_file() {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(path) else { return false };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(map)) => map.keys().any(|key| key.starts_with("_ansible_")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_dumps_are_off() {
        no_core_dumps();
        // SAFETY: reads this process's own settings into a local value.
        let (dumpable, limit) = unsafe {
            let mut limit = libc::rlimit { rlim_cur: 1, rlim_max: 1 };
            libc::getrlimit(libc::RLIMIT_CORE, &mut limit);
            (libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0), limit)
        };
        assert_eq!((dumpable, limit.rlim_cur, limit.rlim_max), (0, 0, 0));
    }

    #[test]
    fn module_mode_needs_a_json_object_with_ansible_keys() {
        let dir = std::env::temp_dir().join(format!("matrix-user-main-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        assert!(is_ansible_args_file(&file("args", r#"{"username": "a", "_ansible_check_mode": false}"#)));
        assert!(!is_ansible_args_file(&file("users.json", r#"{"users": [{"username": "a"}]}"#)));
        assert!(!is_ansible_args_file(&file("list.json", r#"[{"_ansible_check_mode": false}]"#)));
        assert!(!is_ansible_args_file(&file("users.yaml", "users:\n  - username: a\n")));
        assert!(!is_ansible_args_file(&dir.join("missing")));
        assert!(!is_ansible_args_file(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
