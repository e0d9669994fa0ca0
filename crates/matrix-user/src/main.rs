//! `matrix-user`: creates Matrix accounts and manages their admin rights.
//!
//! Run by Ansible with one argument, the path of a JSON args file, it is the `matrix_user`
//! module. The logic lives in the `homeserver` and `reconcile` crates; this binary only reads
//! parameters, picks a backend and prints the result.

mod module;
mod settings;

use std::process::ExitCode;

const USAGE: &str = "\
matrix-user: create Matrix homeserver accounts and manage their admin rights

Usage:
  matrix-user <args.json>   run as the Ansible module `matrix_user` (Ansible calls it this way)
  matrix-user --help        show this help
  matrix-user --version     show the version

As an Ansible module it reads the JSON args file Ansible writes and prints one JSON result.
Documentation: the module's options are shown by `ansible-doc -M roles/matrix_user/library matrix_user`.
";

/// Runs async work on one thread: the work is waiting on the homeserver, not computing.
fn block_on<T>(work: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(work)
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--help" || flag == "-h" => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        [flag] if flag == "--version" || flag == "-V" => {
            println!("matrix-user {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        [path] if !path.to_string_lossy().starts_with('-') => module::run(std::path::Path::new(path)),
        _ => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
