//! The Ansible module `matrix_user`: args file in, one JSON result out.
//!
//! Both front ends build the same typed [`Request`] (settings and users): the module from
//! Ansible's args file ([`Request::take`]), the command-line tool (`cli`) from flags, environment
//! and files. [`execute_request`] runs it and gives the typed [`Execution`], from which the
//! module's result object is built.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::ExitCode;

use ansible_module::{Args, ModuleResult, ParamError, Params, Redactor, NO_LOG_VALUE};
use homeserver::{Backend, Secret, Server, UserId, UserIdError, UserType};
use reconcile::exact::{AbsentState, Exact, ExactError, Keep, MaxChanges};
use reconcile::{AccountState, Item, Outcome, Totals, UpdatePassword, Wanted};
use serde_json::{json, Map, Value};

use crate::params;
use crate::provision;
use crate::settings::{ParamReader, Settings};

/// The most parallel requests: more only makes a homeserver refuse or slow down.
const CONCURRENCY_MAX: u64 = 64;

/// The most failures a list's `msg` names; the per-user results have them all.
const FAILURES_IN_MSG: usize = 10;

/// One user as the task describes it, before the server name is known.
#[derive(Debug)]
pub struct UserParams {
    pub username: String,
    /// Needed to be present; `None` for a user to be locked or deactivated without one.
    pub password: Option<Secret>,
    pub state: AccountState,
    pub admin: Option<bool>,
    pub update_password: UpdatePassword,
    pub displayname: Option<String>,
    pub user_type: Option<UserType>,
    pub email: Option<String>,
}

impl UserParams {
    /// Takes one user's parameters; `update_password` defaults to `default_update`.
    pub fn take(
        params: &mut impl ParamReader,
        redactor: &mut Redactor,
        default_update: UpdatePassword,
    ) -> Result<UserParams, ParamError> {
        let username = params
            .take_str("username")?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| params.missing("username", " (the localpart, such as john)"))?;
        let state = take_state(params)?;
        let password = params.take_str("password")?.filter(|password| {
            redactor.add(password);
            !password.is_empty()
        });
        if password.is_none() && state == AccountState::Present {
            return Err(params.missing("password", " (unless state is locked or deactivated)"));
        }
        if let Some(password) = &password {
            if password.contains('\0') {
                return Err(params.invalid("password", "must not contain a NUL character"));
            }
            if password.chars().count() > 512 {
                return Err(params.invalid("password", "must be at most 512 characters (the homeserver's limit)"));
            }
        }
        let admin = params.take_bool("admin")?;
        let update_password = take_update_password(params)?.unwrap_or(default_update);
        // An empty name is none: neither set on creation nor compared.
        let displayname = params.take_str("displayname")?.filter(|s| !s.is_empty());
        let user_type = params.take_choice("user_type", params::get("user_type").choices())?.and_then(UserType::parse);
        let email = params.take_str("email")?.filter(|s| !s.is_empty());
        if email.as_deref().is_some_and(|e| {
            e.contains(char::is_whitespace) || e.split_once('@').is_none_or(|(l, d)| l.is_empty() || d.is_empty())
        }) {
            return Err(params.invalid("email", "must be an email address such as john@example.com"));
        }
        Ok(UserParams {
            username,
            password: password.map(Secret::new),
            state,
            admin,
            update_password,
            displayname,
            user_type,
            email,
        })
    }

    pub fn wanted(&self) -> Wanted<'_> {
        Wanted {
            password: self.password.as_ref(),
            state: self.state,
            admin: self.admin,
            update_password: self.update_password,
            displayname: self.displayname.as_deref(),
            user_type: self.user_type,
            email: self.email.as_deref(),
        }
    }

    /// The user ID on this backend's server, or why the username cannot be one.
    pub fn user_id<B: Backend>(&self, backend: &B, field: &str) -> Result<UserId, UsernameError> {
        UserId::parse(&self.username, backend.server_name(), &backend.rules()).map_err(|error| UsernameError {
            field: field.to_string(),
            given: self.username.clone(),
            error,
        })
    }
}

/// A username the homeserver would not register.
#[derive(Debug, Clone)]
pub struct UsernameError {
    /// The parameter that held it (`username`, `users[3].username`).
    pub field: String,
    pub given: String,
    pub error: UserIdError,
}

impl std::fmt::Display for UsernameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "parameter `{}` ({:?}): {}", self.field, self.given, self.error)
    }
}

/// Why a run failed as a whole, instead of giving a result per user.
#[derive(Debug, Clone)]
pub enum Failure {
    /// A parameter was refused: nothing was sent to the homeserver.
    Param(ParamError),
    /// The one username is not one the homeserver would register: nothing was written.
    Username(UsernameError),
    /// The run could not start (the async runtime, the HTTP client): nothing was sent.
    Start(String),
    /// Reaching the homeserver, looking the user up or changing it failed.
    Run(reconcile::Error),
    /// Exact mode could not run (no full listing, too many to prune): nothing was changed. Boxed:
    /// the rarest failure need not make every result that can fail larger.
    Exact(Box<ExactError>),
}

impl Failure {
    pub fn homeserver(e: homeserver::Error) -> Failure {
        Failure::Run(e.into())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Param(e) => e.fmt(f),
            Failure::Username(e) => e.fmt(f),
            Failure::Start(msg) => f.write_str(msg),
            Failure::Run(e) => e.fmt(f),
            Failure::Exact(e) => e.fmt(f),
        }
    }
}

impl From<ParamError> for Failure {
    fn from(e: ParamError) -> Failure {
        Failure::Param(e)
    }
}

/// Why one user of a run failed; the others go on.
#[derive(Debug, Clone)]
pub enum UserFailure {
    /// An item of `users` was refused.
    Param(ParamError),
    /// Its username is not one the homeserver would register.
    Username(UsernameError),
    /// The same user is listed twice.
    Duplicate { user_id: UserId, first: usize },
    /// Looking the user up or changing it failed.
    Run(reconcile::Error),
}

impl std::fmt::Display for UserFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserFailure::Param(e) => e.fmt(f),
            UserFailure::Username(e) => e.fmt(f),
            UserFailure::Duplicate { user_id, first } => {
                write!(f, "{user_id} is listed more than once (also as users[{first}])")
            }
            UserFailure::Run(e) => e.fmt(f),
        }
    }
}

/// One user's part of a run: what happened, or why it failed (the message names the user).
#[derive(Debug, Clone)]
pub struct UserRun {
    /// The username as given.
    pub username: Option<String>,
    pub outcome: Result<Outcome, UserFailure>,
    /// For a failure after a change (a creation whose password was refused): what was done.
    /// Boxed: rare, and a directory-sized run holds a hundred thousand runs.
    pub done: Option<Box<Outcome>>,
}

/// Where progress lines of long waits go (the command-line tool's standard error); the module
/// prints nothing but its result.
pub type ProgressSink = Box<dyn Fn(&str)>;

/// Told, as each user of a list is done, how many are and of how many (the command-line tool's
/// status line on a terminal).
pub type CountSink = Box<dyn FnMut(usize, usize)>;

/// A whole run: the module's result object and, for text output, each user's outcome.
#[derive(Debug)]
pub struct Execution {
    /// The module's result, `invocation` included, exactly as the module prints it.
    pub result: ModuleResult,
    /// In the order given; empty when the run failed as a whole.
    pub users: Vec<UserRun>,
    /// Exact mode: the accounts the list does not name, brought to `absent_state`.
    pub pruned: Option<Vec<UserRun>>,
    /// How many users ended each way.
    pub totals: Totals,
    /// The run's warnings (also in `result`).
    pub warnings: Vec<String>,
    /// Why the run failed as a whole, if it did (a list whose items fail has per-user failures).
    pub failure: Option<Failure>,
    /// Where credentials not given as parameters came from, and the provisioned admin token.
    pub host: provision::Report,
}

pub fn take_update_password(params: &mut impl ParamReader) -> Result<Option<UpdatePassword>, ParamError> {
    Ok(params.take_choice("update_password", params::get("update_password").choices())?.map(|choice| match choice {
        "always" => UpdatePassword::Always,
        _ => UpdatePassword::OnCreate,
    }))
}

/// `state`, with `erase`, which only a deactivation takes.
fn take_state(params: &mut impl ParamReader) -> Result<AccountState, ParamError> {
    let state = params.take_choice("state", params::get("state").choices())?.unwrap_or("present");
    let erase = params.take_bool("erase")?.unwrap_or(false);
    match state {
        "locked" if !erase => Ok(AccountState::Locked),
        "deactivated" => Ok(AccountState::Deactivated { erase }),
        _ if erase => Err(params.invalid("erase", "applies only with state: deactivated")),
        _ => Ok(AccountState::Present),
    }
}

/// Who the task asks for: one user, or a list.
pub enum Users {
    One(UserParams),
    /// Each item parsed on its own, a bad item failing alone; with the username as given.
    Many {
        users: Vec<ListedUser>,
        concurrency: usize,
        /// Exact mode (`exclusive`): what becomes of the accounts the list does not name.
        exact: Option<Exact>,
    },
}

/// The typed request both front ends build: the connection settings and the users to ensure.
/// The module takes it from the args file ([`Request::take`]), the command-line tool from its
/// flags, environment and files; [`execute_request`] runs it.
pub struct Request {
    pub settings: Settings,
    pub users: Users,
}

impl Request {
    /// The request of a front end's parameters (the module's args file, the command-line tool's
    /// layers); refuses parameters left over.
    pub fn take(params: &mut impl ParamReader, redactor: &mut Redactor) -> Result<Request, ParamError> {
        let settings = Settings::take(params, redactor)?;
        let users = Users::take(params, redactor)?;
        params.finish()?;
        Ok(Request { settings, users })
    }
}

/// `concurrency`'s range: a count of at most [`CONCURRENCY_MAX`].
pub fn check_concurrency(concurrency: u64) -> Result<usize, String> {
    if concurrency > CONCURRENCY_MAX {
        return Err(format!("must be at most {CONCURRENCY_MAX}"));
    }
    Ok(concurrency as usize)
}

impl Users {
    fn take(params: &mut impl ParamReader, redactor: &mut Redactor) -> Result<Users, ParamError> {
        let concurrency = params.take_count("concurrency")?;
        // Given beside a list, it is the default of every item.
        let default_update = take_update_password(params)?.unwrap_or(UpdatePassword::OnCreate);
        let exact = take_exact(params)?;
        let Some(users) = take_users(params, redactor, default_update)? else {
            if concurrency.is_some() {
                return Err(params.invalid("concurrency", "applies only with `users` or `users_file`"));
            }
            if exact.is_some() {
                return Err(params.invalid("exclusive", "applies only with `users` or `users_file`"));
            }
            return UserParams::take(params, redactor, default_update).map(Users::One);
        };
        if ["username", "password", "admin"].iter().any(|key| params.has(key)) {
            return Err(params.invalid("users", "set either `users` or `username`/`password`/`admin`, not both"));
        }
        // Unset: the table's default (Synapse registers fastest at 2-4 concurrent requests).
        let concurrency = concurrency.unwrap_or(params::get("concurrency").default_number() as u64);
        let concurrency = check_concurrency(concurrency).map_err(|problem| params.invalid("concurrency", problem))?;
        Ok(Users::Many { users, concurrency, exact })
    }
}

/// Exact mode's parameters: `exclusive`, and with it `absent_state`, `keep` and `max_changes`.
fn take_exact(params: &mut impl ParamReader) -> Result<Option<Exact>, ParamError> {
    let exclusive = params.take_bool("exclusive")?.unwrap_or(params::get("exclusive").default_bool());
    let absent = params.take_choice("absent_state", params::get("absent_state").choices())?;
    let keep = params.take_str_list("keep")?;
    let max_changes = params.take_str("max_changes")?;
    if !exclusive {
        let given =
            [("absent_state", absent.is_some()), ("keep", keep.is_some()), ("max_changes", max_changes.is_some())];
        if let Some((name, _)) = given.into_iter().find(|(_, given)| *given) {
            return Err(params.invalid(name, "applies only with `exclusive: true` (exact mode)"));
        }
        return Ok(None);
    }
    let absent = match absent.unwrap_or(params::get("absent_state").default_str()) {
        "deactivated" => AbsentState::Deactivated,
        _ => AbsentState::Locked,
    };
    let max_changes = max_changes.as_deref().unwrap_or(params::get("max_changes").default_str());
    let max_changes = MaxChanges::parse(max_changes).map_err(|problem| params.invalid("max_changes", problem))?;
    Ok(Some(Exact { absent, keep: Keep::new(keep.unwrap_or_default()), max_changes }))
}

/// One item of a list, as given and as taken.
pub type ListedUser = (Option<String>, Result<UserParams, ParamError>);

/// The items of `users`, or of the file `users_file` names (read by the binary itself, so a
/// directory of thousands is not templated by Ansible), each taken as it is read; not both.
fn take_users(
    params: &mut impl ParamReader,
    redactor: &mut Redactor,
    default_update: UpdatePassword,
) -> Result<Option<Vec<ListedUser>>, ParamError> {
    let Some(path) = params.take_str("users_file")?.filter(|path| !path.is_empty()) else {
        return Ok(params.take_object_list("users")?.map(|items| users_of(items, redactor, default_update)));
    };
    if params.has("users") {
        return Err(params.invalid("users_file", "set either `users` or `users_file`, not both"));
    }
    let mut users = Vec::new();
    crate::users_file::for_each(Path::new(&path), redactor, |item, redactor| {
        users.push(user_of(Params::item(item, "users", users.len()), redactor, default_update));
    })
    .map_err(|e| params.invalid("users_file", e))?;
    Ok(Some(users))
}

/// The items of a `users` list, each taken on its own (a bad item fails alone), with the
/// username as given.
fn users_of(items: Vec<Params>, redactor: &mut Redactor, default_update: UpdatePassword) -> Vec<ListedUser> {
    items.into_iter().map(|item| user_of(item, redactor, default_update)).collect()
}

fn user_of(mut item: Params, redactor: &mut Redactor, default_update: UpdatePassword) -> ListedUser {
    let username = item.as_map().get("username").and_then(Value::as_str).map(str::to_string);
    let user = UserParams::take(&mut item, redactor, default_update).and_then(|user| item.finish().map(|()| user));
    (username, user)
}

/// Runs the module on the args file at `path` and prints its result.
pub fn run(path: &Path) -> ExitCode {
    let mut redactor = Redactor::new();
    let result = match Args::from_file(path) {
        Ok(args) if crate::tokens::is_this_module(args.internal.module_name.as_deref()) => {
            crate::tokens::execute(args.params, args.internal.check_mode, args.internal.diff, &mut redactor).result
        }
        Ok(args) => execute(args.params, args.internal.check_mode, args.internal.diff, &mut redactor).result,
        Err(e) => ModuleResult::failed(e.to_string()),
    };
    // Written as it is masked: a copy of a directory-sized result would double the memory.
    if let Err(e) = result.write_json(&redactor, &mut std::io::stdout().lock()) {
        eprintln!("matrix-user: cannot write the result: {e}");
        return ExitCode::FAILURE;
    }
    if result.is_failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The module's logic on a parameter map (the task's parameters, without `_ansible_*` keys):
/// [`Request::take`], then [`execute_request`].
pub fn execute(mut params: Params, check_mode: bool, diff: bool, redactor: &mut Redactor) -> Execution {
    let invocation = masked(params.as_map());
    let request = Request::take(&mut params, redactor).map_err(Failure::Param);
    execute_request(request, invocation, Run { check_mode, diff, progress: None, count: None }, redactor)
}

/// How a request is run: check mode, diff, where progress lines of long waits go and who counts
/// the users done.
pub struct Run {
    pub check_mode: bool,
    pub diff: bool,
    pub progress: Option<ProgressSink>,
    pub count: Option<CountSink>,
}

/// The module's logic on a typed request (or why none could be built): reconciles each user
/// (writing nothing in check mode) and builds the result, with `invocation` (the parameters as
/// given, masked). Every secret met is added to `redactor`, through which all output must pass.
pub fn execute_request(
    request: Result<Request, Failure>,
    invocation: Map<String, Value>,
    run: Run,
    redactor: &mut Redactor,
) -> Execution {
    let mut warnings = Vec::new();
    let mut host = provision::Report::default();
    let outcome = request.and_then(|request| {
        reconcile_request(request, &mut warnings, &mut host, run.check_mode, run.progress, run.count)
    });
    let (shape, users, pruned, failure) = match outcome {
        Ok((shape, users, pruned)) => (Some(shape), users, pruned, None),
        Err(failure) => (None, Vec::new(), None, Some(failure)),
    };
    let totals = totals_of(users.iter().chain(pruned.iter().flatten()));
    // The Ansible result, from the typed outcome alone.
    let mut result = match (&failure, shape, users.first()) {
        (None, Some(Shape::One), Some(user)) => one_result(user, run.diff),
        (None, Some(Shape::Many), _) => list_result(&users, pruned.as_deref(), &totals, run.diff),
        _ => ModuleResult::failed(failure.as_ref().map(ToString::to_string).unwrap_or_default()),
    };
    for warning in &warnings {
        result.warn(warning.clone());
    }
    host_credentials(&mut result, &host);
    // Tokens the backends obtained on the way, and forms derived from secrets.
    for secret in homeserver::Secret::all_obtained() {
        redactor.add(&secret);
    }
    result.set_invocation(invocation);
    Execution { result, users, pruned, totals, warnings, failure, host }
}

/// Whether the task asked for one user or a list: the result's shape.
#[derive(Debug, Clone, Copy)]
enum Shape {
    One,
    Many,
}

/// What a run gives: its shape, each listed user's run and, in exact mode, the pruned ones'.
type Ran = (Shape, Vec<UserRun>, Option<Vec<UserRun>>);
/// What the result says of credentials found on the host: where each came from, and what was
/// done about the provisioned admin token (a registration or a rewritten file is a change).
pub(crate) fn host_credentials(result: &mut ModuleResult, host: &provision::Report) {
    if host.changed {
        result.set("changed", true);
    }
    if !host.sources.is_empty() {
        let sources: Map<String, Value> = host.sources.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        result.set("credentials", sources);
    }
    if let Some((action, file)) = &host.admin_token {
        result.set("admin_token", json!({"provisioned": action, "file": file}));
    }
}

/// What both modules do before they connect: the settings' warnings, where the credentials
/// found on the host came from, and the provisioned admin token when none was given.
pub(crate) async fn prepare(
    settings: &mut Settings,
    check_mode: bool,
    host: &mut provision::Report,
    warnings: &mut Vec<String>,
) -> Result<(), Failure> {
    warnings.extend(settings.warnings());
    host.sources = std::mem::take(&mut settings.sources);
    provision::obtain(settings, check_mode, host, warnings).await
}

fn reconcile_request(
    request: Request,
    warnings: &mut Vec<String>,
    host: &mut provision::Report,
    check_mode: bool,
    progress: Option<ProgressSink>,
    count: Option<CountSink>,
) -> Result<Ran, Failure> {
    let Request { mut settings, users } = request;
    crate::block_on(async {
        prepare(&mut settings, check_mode, host, warnings).await?;
        let mut backend = settings.connect().await?;
        if let (Server::Mas(mas), Some(progress)) = (&mut backend, progress) {
            mas.on_progress(progress);
        }
        let result = match users {
            Users::One(user) => ensure_one(&backend, &user, check_mode).await.map(|runs| (Shape::One, runs, None)),
            Users::Many { users, concurrency, exact } => {
                ensure_list(&backend, users, concurrency, exact.as_ref(), check_mode, count)
                    .await
                    .map(|(runs, pruned)| (Shape::Many, runs, pruned))
            }
        };
        // Whatever happened: what the run opened on the server (MAS's admin session) is ended.
        if let Err(e) = backend.close().await {
            warnings.push(format!("the run's work is done, but {e}"));
        }
        result
    })
    .map_err(Failure::Start)?
}

async fn ensure_one<B: Backend>(backend: &B, user: &UserParams, check_mode: bool) -> Result<Vec<UserRun>, Failure> {
    let user_id = user.user_id(backend, "username").map_err(Failure::Username)?;
    let run = match reconcile::ensure(backend, &user_id, &user.wanted(), check_mode).await {
        Ok(outcome) => UserRun { username: Some(user.username.clone()), outcome: Ok(outcome), done: None },
        // Changed, then failed (a creation whose password MAS refused): failed, and changed.
        Err(e) if e.done().is_some() => {
            let done = e.done().cloned().map(Box::new);
            UserRun { username: Some(user.username.clone()), outcome: Err(UserFailure::Run(e)), done }
        }
        Err(e) => return Err(Failure::Run(e)),
    };
    Ok(vec![run])
}

async fn ensure_list<B: Backend>(
    backend: &B,
    users: Vec<ListedUser>,
    concurrency: usize,
    exact: Option<&Exact>,
    check_mode: bool,
    mut count: Option<CountSink>,
) -> Result<(Vec<UserRun>, Option<Vec<UserRun>>), Failure> {
    // A directory-sized list is held several times over (as given, as items, as outcomes): each
    // copy is kept small. A user ID, or why the user fails alone (boxed: rare, and large).
    let mut ids: Vec<Result<UserId, Box<UserFailure>>> = users
        .iter()
        .enumerate()
        .map(|(index, (_, user))| match user {
            Ok(user) => user.user_id(backend, &format!("users[{index}].username")).map_err(UserFailure::Username),
            Err(e) => Err(UserFailure::Param(e.clone())),
        })
        .map(|id| id.map_err(Box::new))
        .collect();
    // The same user twice: the later ones fail, naming the first.
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(ids.len());
    let duplicates: Vec<(usize, usize)> = ids
        .iter()
        .enumerate()
        .filter_map(|(index, id)| Some((index, *first.entry(id.as_ref().ok()?.localpart()).or_insert(index))))
        .filter(|(index, first)| index != first)
        .collect();
    drop(first);
    for (index, first) in duplicates {
        if let Ok(user_id) = &ids[index] {
            ids[index] = Err(Box::new(UserFailure::Duplicate { user_id: user_id.clone(), first }));
        }
    }
    // Each entry: the user's own failure, or none when it is among the items reconciled, in
    // the same order.
    let mut items = Vec::with_capacity(ids.len());
    let entries: Vec<Option<Box<UserFailure>>> = ids
        .into_iter()
        .zip(&users)
        .map(|(id, (_, user))| match (id, user) {
            (Ok(user_id), Ok(user)) => {
                items.push(Item { user: user_id, wanted: user.wanted() });
                None
            }
            (Err(failure), _) => Some(failure),
            (Ok(_), Err(e)) => Some(Box::new(UserFailure::Param(e.clone()))),
        })
        .collect();
    let listed = items.len();
    // Exact mode: before any change, the whole server is listed and the accounts to prune are
    // picked and counted against max_changes; they are then items like the listed ones.
    let pruning = match exact {
        Some(exact) => {
            // A user of the list that failed on its own is still listed: never pruned.
            let failed: Vec<UserId> = entries
                .iter()
                .zip(&users)
                .filter(|(entry, _)| entry.is_some())
                .filter_map(|(_, (username, _))| username.as_deref())
                .filter_map(|username| UserId::parse(username, backend.server_name(), &backend.rules()).ok())
                .collect();
            let named: HashSet<&str> =
                items.iter().map(|item| &item.user).chain(&failed).map(UserId::localpart).collect();
            Some(reconcile::exact::select(backend, &named, exact).await.map_err(|e| Failure::Exact(Box::new(e)))?)
        }
        None => None,
    };
    let absent = exact.map(|exact| Wanted {
        password: None,
        state: exact.absent.state(),
        admin: None,
        update_password: UpdatePassword::OnCreate,
        displayname: None,
        user_type: None,
        email: None,
    });
    if let (Some(pruning), Some(absent)) = (&pruning, &absent) {
        items.extend(pruning.pruned.iter().map(|user| Item { user: user.clone(), wanted: absent.clone() }));
    }
    let total = items.len();
    let mut done_count = 0;
    let on_done = |_: &Result<Outcome, reconcile::Error>| {
        done_count += 1;
        if let Some(count) = count.as_mut() {
            count(done_count, total);
        }
    };
    let mut outcomes = match &pruning {
        Some(pruning) => {
            reconcile::ensure_listed(backend, &items, Some(&pruning.accounts), concurrency, check_mode, on_done).await
        }
        None => reconcile::ensure_many(backend, &items, concurrency, check_mode, on_done).await,
    };
    let pruned: Vec<UserRun> = items
        .drain(listed..)
        .zip(outcomes.drain(listed..))
        .map(|(item, outcome)| {
            let done = outcome.as_ref().err().and_then(reconcile::Error::done).cloned().map(Box::new);
            UserRun {
                username: Some(item.user.localpart().to_string()),
                outcome: outcome.map_err(UserFailure::Run),
                done,
            }
        })
        .collect();
    drop(items);
    // The items' outcomes come in the order of the entries without a failure: each moved, not
    // copied, as the users are, which are let go one by one.
    let mut outcomes = outcomes.into_iter();
    let runs = entries
        .into_iter()
        .zip(users)
        .map(|(entry, (username, _))| {
            let (outcome, done) = match entry {
                None => match outcomes.next().expect("ensure_many gives one result per item") {
                    Ok(outcome) => (Ok(outcome), None),
                    Err(e) => {
                        let done = e.done().cloned().map(Box::new);
                        (Err(UserFailure::Run(e)), done)
                    }
                },
                Some(failure) => (Err(*failure), None),
            };
            UserRun { username, outcome, done }
        })
        .collect();
    Ok((runs, pruning.map(|_| pruned)))
}

/// The module's result for one user.
fn one_result(run: &UserRun, diff: bool) -> ModuleResult {
    let mut result = match &run.outcome {
        Ok(outcome) => {
            let mut result = ModuleResult::ok(outcome.changed(), outcome.message());
            if diff {
                let (before, after) = outcome.plan.diff();
                result.set_diff(before, after);
            }
            result
        }
        Err(e) => ModuleResult::failed(e.to_string()),
    };
    if run.outcome.is_err() && run.done.is_some() {
        result.set("changed", true);
    }
    for (key, value) in run.outcome.as_ref().ok().or(run.done.as_deref()).into_iter().flat_map(outcome_fields) {
        result.set(key, value);
    }
    result
}

/// The module's result for a list: one entry per user, the totals, and a message naming the
/// first failures.
fn list_result(runs: &[UserRun], pruned: Option<&[UserRun]>, totals: &Totals, diff: bool) -> ModuleResult {
    // The first failures, for `msg`, and how many there are.
    let mut failures = Vec::new();
    let mut failed = 0;
    let mut diffs = Vec::new();
    let mut changed = false;
    // The pruned accounts after the listed ones, named `pruned[N]`.
    let named = runs.iter().enumerate().map(|(index, run)| (format!("users[{index}]"), run));
    let pruned_named = pruned.into_iter().flatten().enumerate().map(|(index, run)| (format!("pruned[{index}]"), run));
    for (label, run) in named.chain(pruned_named) {
        match &run.outcome {
            Ok(outcome) => {
                changed |= outcome.changed();
                if diff && outcome.changed() {
                    let (before, after) = outcome.plan.diff();
                    let header = outcome.user_id.to_string();
                    diffs.push(
                        json!({"before_header": header, "after_header": header, "before": before, "after": after}),
                    );
                }
            }
            Err(msg) => {
                changed |= run.done.is_some();
                failed += 1;
                if failures.len() < FAILURES_IN_MSG {
                    failures.push(format!("{label}: {msg}"));
                }
            }
        }
    }
    let mut result = if failures.is_empty() {
        ModuleResult::ok(changed, totals.summary(false))
    } else {
        let mut msg =
            format!("{failed} of {} users failed ({}): {}", runs.len(), totals.summary(false), failures.join("; "));
        if failed > FAILURES_IN_MSG {
            msg.push_str(&format!("; and {} more (see `users`)", failed - FAILURES_IN_MSG));
        }
        let mut failed = ModuleResult::failed(msg);
        failed.set("changed", changed);
        failed
    };
    // Kept as text until printed: a directory-sized run has a hundred thousand of them.
    result.set_list("users", runs.iter().map(user_entry)).set(
        "totals",
        json!({
            "created": totals.created,
            "promoted": totals.promoted,
            "demoted": totals.demoted,
            "password_changed": totals.password_changed,
            "displayname_set": totals.displayname_set,
            "locked": totals.locked,
            "unlocked": totals.unlocked,
            "deactivated": totals.deactivated,
            "erased": totals.erased,
            "reactivated": totals.reactivated,
            "unchanged": totals.unchanged,
            "failed": totals.failed,
        }),
    );
    if let Some(pruned) = pruned {
        result.set_list("pruned", pruned.iter().map(user_entry));
    }
    if diff {
        result.set_list("diff", diffs);
    }
    result
}

/// One user's entry in a list's result.
fn user_entry(run: &UserRun) -> Value {
    let mut fields = Map::new();
    fields.insert("username".into(), json!(run.username));
    match &run.outcome {
        Ok(outcome) => {
            fields.insert("changed".into(), outcome.changed().into());
            fields.insert("msg".into(), outcome.message().into());
            fields.extend(outcome_fields(outcome).map(|(k, v)| (k.to_string(), v)));
        }
        Err(msg) => {
            fields.insert("failed".into(), true.into());
            fields.insert("msg".into(), msg.to_string().into());
            if let Some(done) = &run.done {
                fields.insert("changed".into(), true.into());
                fields.extend(outcome_fields(done).map(|(k, v)| (k.to_string(), v)));
            }
        }
    }
    Value::Object(fields)
}

/// How many users ended each way: the one count the module's `totals` and `msg` and the
/// command-line tool's summary all show.
fn totals_of<'a>(users: impl Iterator<Item = &'a UserRun>) -> Totals {
    let mut totals = Totals::default();
    for user in users {
        match &user.outcome {
            Ok(outcome) => totals.add(outcome),
            Err(_) => totals.add_failure(user.done.as_deref()),
        }
    }
    totals
}

/// The fields every successful user result has.
fn outcome_fields(outcome: &Outcome) -> impl Iterator<Item = (&'static str, Value)> {
    [
        ("user_id", json!(outcome.user_id.to_string())),
        ("created", json!(outcome.created())),
        ("admin", json!(outcome.plan.after.admin)),
        ("password_changed", json!(outcome.password_changed())),
        ("state", json!(outcome.plan.after.standing.map(|standing| standing.word()))),
    ]
    .into_iter()
}

/// The parameters as given, with every secret replaced as Ansible replaces `no_log` values: the
/// secret parameters, and at any depth every key whose name suggests a secret (`password` in a
/// `users` item, a misspelt `pasword`); `users` whole when it is not a list of objects (its
/// passwords could be anywhere in it); the credentials in a URL.
pub fn masked(params: &Map<String, Value>) -> Map<String, Value> {
    params
        .iter()
        .map(|(key, value)| {
            let value = match value {
                Value::Null => Value::Null,
                _ if params::is_secret(key) || looks_secret(key) => no_log(),
                Value::Array(items) if key == "users" && items.iter().all(Value::is_object) => masked_value(value),
                _ if key == "users" => no_log(),
                other => masked_value(other),
            };
            (key.clone(), value)
        })
        .collect()
}

fn masked_value(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(masked(fields)),
        Value::Array(items) => Value::Array(items.iter().map(masked_value).collect()),
        Value::String(text) => Value::String(without_credentials(text)),
        other => other.clone(),
    }
}

fn no_log() -> Value {
    Value::String(NO_LOG_VALUE.to_string())
}

/// `text` with the user and password of a URL (`http://user:pw@host`) masked.
fn without_credentials(text: &str) -> String {
    match crate::settings::url_credentials(text) {
        Some(_) => match text.split_once("://").and_then(|(scheme, rest)| Some((scheme, rest.split_once('@')?.1))) {
            Some((scheme, rest)) => format!("{scheme}://{NO_LOG_VALUE}@{rest}"),
            None => NO_LOG_VALUE.to_string(),
        },
        None => text.to_string(),
    }
}

fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["pass", "pasw", "pw", "word", "secret", "token", "key", "cred", "auth"].iter().any(|word| name.contains(word))
}
