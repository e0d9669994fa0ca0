//! The Ansible JSON module protocol, as a native binary module sees it.
//!
//! Ansible runs a binary module as `<binary> <args file>`, where the args file is one JSON object
//! holding the task's parameters and Ansible's own `_ansible_*` keys. The module answers with one
//! JSON object on stdout. This crate reads the first and builds the second; it knows nothing about
//! what the module does.

mod args;
mod boolean;
mod redact;
mod result;

pub use args::{Args, Internal, ParamError, Params};
pub use boolean::parse_bool;
pub use redact::{Redactor, NO_LOG_VALUE};
pub use result::ModuleResult;
