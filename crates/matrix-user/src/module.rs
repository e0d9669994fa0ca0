//! The Ansible module `matrix_user`: args file in, one JSON result out.

use std::path::Path;
use std::process::ExitCode;

use ansible_module::{Args, ModuleResult, ParamError, Params, Redactor, NO_LOG_VALUE};
use homeserver::synapse::Synapse;
use homeserver::{Backend, Secret, UserId};
use reconcile::{Outcome, UpdatePassword, Wanted};
use serde_json::{json, Map, Value};

use crate::settings::{BackendKind, Settings, SECRET_PARAMS};

/// One user as the task describes it, before the server name is known.
#[derive(Debug)]
struct UserParams {
    username: String,
    password: Secret,
    admin: Option<bool>,
    update_password: UpdatePassword,
    displayname: Option<String>,
}

impl UserParams {
    fn take(params: &mut Params, redactor: &mut Redactor) -> Result<UserParams, ParamError> {
        let username = params
            .take_str("username")?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| params.missing("username", " (the localpart, such as john)"))?;
        let password = params.take_str("password")?.unwrap_or_default();
        redactor.add(&password);
        if password.is_empty() {
            return Err(params.missing("password", ""));
        }
        if password.contains('\0') {
            return Err(params.invalid("password", "must not contain a NUL character"));
        }
        if password.chars().count() > 512 {
            return Err(params.invalid("password", "must be at most 512 characters (the homeserver's limit)"));
        }
        let admin = params.take_bool("admin")?;
        let update_password = match params.take_choice("update_password", &["on_create", "always"])? {
            None | Some("on_create") => UpdatePassword::OnCreate,
            Some(_) => UpdatePassword::Always,
        };
        params.take_choice("state", &["present"])?;
        let displayname = params.take_str("displayname")?;
        if params.take_str("email")?.is_some() {
            return Err(params.invalid("email", "is supported only with backend: mas"));
        }
        Ok(UserParams { username, password: Secret::new(password), admin, update_password, displayname })
    }

    fn wanted(&self) -> Wanted<'_> {
        Wanted {
            password: &self.password,
            admin: self.admin,
            update_password: self.update_password,
            displayname: self.displayname.as_deref(),
        }
    }
}

/// Runs the module on the args file at `path` and prints its result.
pub fn run(path: &Path) -> ExitCode {
    let mut redactor = Redactor::new();
    let result = match Args::from_file(path) {
        Ok(args) => execute(args, &mut redactor),
        Err(e) => ModuleResult::failed(e.to_string()),
    };
    println!("{}", result.to_json(&redactor));
    if result.is_failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn execute(args: Args, redactor: &mut Redactor) -> ModuleResult {
    let invocation = masked(args.params.as_map());
    let mut result = match reconcile_args(args, redactor) {
        Ok(result) => result,
        Err(msg) => ModuleResult::failed(msg),
    };
    result.set_invocation(invocation);
    result
}

fn reconcile_args(args: Args, redactor: &mut Redactor) -> Result<ModuleResult, String> {
    let mut params = args.params;
    let settings = Settings::take(&mut params, redactor).map_err(|e| e.to_string())?;
    let user = UserParams::take(&mut params, redactor).map_err(|e| e.to_string())?;
    params.finish().map_err(|e| e.to_string())?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let http = settings.http()?;
        let backend = match settings.backend {
            BackendKind::Synapse => Synapse::connect(
                http,
                settings.server_name.clone(),
                settings.registration_shared_secret.clone(),
                settings.admin_access_token.clone(),
            )
            .await
            .map_err(|e| e.to_string())?,
        };
        ensure_one(&backend, &user, args.internal.check_mode, args.internal.diff).await
    })
}

async fn ensure_one<B: Backend>(
    backend: &B,
    user: &UserParams,
    check_mode: bool,
    diff: bool,
) -> Result<ModuleResult, String> {
    let user_id = UserId::parse(&user.username, backend.server_name(), &backend.rules())
        .map_err(|e| format!("parameter `username` ({:?}): {e}", user.username))?;
    let outcome = reconcile::ensure(backend, &user_id, &user.wanted(), check_mode).await.map_err(|e| e.to_string())?;
    Ok(single_result(&outcome, diff))
}

fn single_result(outcome: &Outcome, diff: bool) -> ModuleResult {
    let mut result = ModuleResult::ok(outcome.changed(), outcome.message());
    result
        .set("user_id", outcome.user_id.to_string())
        .set("created", outcome.created())
        .set("admin", json!(outcome.plan.after.admin))
        .set("password_changed", outcome.password_changed());
    if diff {
        let (before, after) = outcome.plan.diff();
        result.set_diff(before, after);
    }
    result
}

/// The parameters as given, each secret replaced as Ansible replaces `no_log` values.
fn masked(params: &Map<String, Value>) -> Map<String, Value> {
    params
        .iter()
        .map(|(key, value)| {
            let value = if SECRET_PARAMS.contains(&key.as_str()) && !value.is_null() {
                Value::String(NO_LOG_VALUE.to_string())
            } else {
                value.clone()
            };
            (key.clone(), value)
        })
        .collect()
}
