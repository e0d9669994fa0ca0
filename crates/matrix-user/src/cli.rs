//! The command-line tool: `matrix-user register` (also `unlock`, `reactivate`), `lock`,
//! `deactivate` and `ensure` (and `token` and `tokens`, whose reading and printing are in `tokens`).
//!
//! It reads flags, environment and files into layers (`config`), builds from them the typed
//! request the module builds from its args file ([`module::Request::take`], the same checks),
//! runs it ([`module::execute_request`]) and prints the module's result object (`--json`) or a
//! line per user and a summary. Every line it prints passes through the same [`Redactor`] as the module's result.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ansible_module::{ParamError, Redactor};
use clap::{Arg, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use reconcile::{Outcome, Totals};
use serde_json::Value;

use crate::config::{self, Layers, Source};
use crate::module::{self, Execution, Failure};
use crate::params::{self, Kind, Param, Scope, PARAMS};
use crate::users_file;

const USAGE_ERROR: u8 = 2;

const EXAMPLES: &str = "\
Examples:
  # Create john as an admin (or promote him); the password is read from a file
  matrix-user register john --admin yes --password-file john.password \\
      --registration-shared-secret-file /matrix/synapse/config/registration_shared_secret \\
      --admin-access-token-file ~/.config/matrix-user/admin_token

  # In CI: settings and password from the environment, the password piped in
  export MATRIX_USER_HOMESERVER_URL=https://matrix.example.com MATRIX_USER_SERVER_NAME=example.com
  export MATRIX_USER_REGISTRATION_SHARED_SECRET_FILE=/run/secrets/registration_shared_secret
  printf '%s' \"$BOT_PASSWORD\" | matrix-user register ci-bot --password-stdin

  # What would change for every user of a file, without changing anything, as JSON
  matrix-user ensure users.yaml --check --json

Settings are read from flags, then MATRIX_USER_* environment variables, then the config file
($XDG_CONFIG_HOME/matrix-user/config.yaml, or --config FILE). Exit status: 0 success (changed or
not), 1 failure, 2 usage error. Full manual: docs/cli.md.";

const MORE: &str = "  MATRIX_USER_CONFIG
      the config file when --config is not given

Ansible runs this same binary as the module `matrix_user`, with one argument: the JSON args file
it writes (a JSON object with `_ansible_*` keys). Anything else runs the command-line tool.";

#[derive(Parser, Debug)]
#[command(
    name = "matrix-user",
    version,
    about = "Create Matrix homeserver accounts and manage their admin rights, idempotently.",
    long_about = "Create Matrix homeserver accounts and manage their admin rights, idempotently: a user is\n\
                  created if missing, promoted or demoted if its admin flag differs, and left alone otherwise.",
    after_help = EXAMPLES,
    after_long_help = format!("{EXAMPLES}\n\n{}{MORE}", params::environment_help()),
    subcommand_required = true,
    arg_required_else_help = true,
    args_override_self = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create one user, or bring an existing one to the wanted admin state (unlocking or
    /// reactivating it)
    #[command(
        args_override_self = true,
        visible_aliases = ["unlock", "reactivate"],
        after_help = "\
A locked user is unlocked, a deactivated one reactivated with the password (Synapse, MAS).

Examples:
  matrix-user register john --admin yes --password-file john.password
  printf '%s' \"$PASSWORD\" | matrix-user register john --password-stdin --check
  MATRIX_USER_PASSWORD=\"$PASSWORD\" matrix-user register @john:example.com --admin no --json
  matrix-user reactivate john --password-file john.password"
    )]
    Register(RegisterArgs),
    /// Lock a user: the account stays but cannot log in (Synapse, MAS); a missing user is left missing
    #[command(
        args_override_self = true,
        after_help = "\
Nothing else about the account changes; `matrix-user unlock` (register) unlocks it.

Examples:
  matrix-user lock john
  matrix-user lock @john:example.com --check --diff"
    )]
    Lock(LockArgs),
    /// Deactivate a user: its sessions end and it cannot log in; a missing user is left missing
    #[command(
        args_override_self = true,
        after_help = "\
Dendrite deactivates an account only with its own password (give it as to register) and
cannot erase or reactivate one. `matrix-user reactivate` brings a deactivated user back.

Examples:
  matrix-user deactivate john
  matrix-user deactivate john --erase --check"
    )]
    Deactivate(DeactivateArgs),
    /// Ensure every user of a YAML, JSON or CSV file, as the module's `users_file`
    #[command(
        args_override_self = true,
        after_help = "\
A users file is a list of users with the fields of the module's `users` items
(username, password, admin, update_password, displayname, email), or a mapping whose
`users` (or `matrix_user_users`) is that list:

  users:
    - username: john
      password: \"correct horse battery staple\"
      admin: yes
    - {username: mary, password: \"an0ther secret\"}

A file named *.csv is CSV, its first row a header naming those fields; an empty cell
leaves a field unset (standard input is read as YAML or JSON):

  username,password,admin
  john,\"correct horse, battery staple\",yes
  mary,an0ther secret,

Examples:
  matrix-user ensure users.yaml
  matrix-user ensure users.json --check --json
  generate-users | matrix-user ensure - --quiet"
    )]
    Ensure(EnsureArgs),
    /// Create, change or delete one registration token, as the module matrix_registration_token
    #[command(args_override_self = true, after_help = crate::tokens::TOKEN_HELP)]
    Token(crate::tokens::TokenArgs),
    /// Ensure every registration token of a YAML or JSON file, as the module's `tokens` list
    #[command(args_override_self = true, after_help = crate::tokens::TOKENS_HELP)]
    Tokens(crate::tokens::TokensArgs),
}

/// The connection settings given as flags: one global flag per connection parameter of the
/// table ([`params::PARAMS`]), plus `--config`.
#[derive(Debug, Default)]
pub(crate) struct ConnectionArgs {
    config: Option<PathBuf>,
    /// Each flag given, with its parameter, in the table's order.
    given: Vec<(&'static Param, String)>,
}

const CONNECTION_HEADING: &str = "Connection (flag > MATRIX_USER_<NAME> environment variable > config file)";

fn connection_flags() -> impl Iterator<Item = (&'static Param, params::Flag)> {
    PARAMS.iter().filter(|p| p.scope == Scope::Connection).filter_map(|p| Some((p, p.flag?)))
}

/// A flag of the table, as clap takes it; `id` is the parameter's name.
fn table_arg(param: &'static Param, flag: params::Flag) -> Arg {
    let arg = Arg::new(param.name).long(flag.long).value_name(flag.value_name).help(param.doc);
    if matches!(param.kind, Kind::Path | Kind::PathList) || flag.reads_file {
        arg.value_parser(clap::value_parser!(PathBuf))
    } else {
        arg
    }
}

fn table_value(matches: &ArgMatches, param: &Param) -> Option<String> {
    if let Ok(Some(path)) = matches.try_get_one::<PathBuf>(param.name) {
        return Some(path.to_string_lossy().into_owned());
    }
    matches.try_get_one::<String>(param.name).ok().flatten().cloned()
}

impl FromArgMatches for ConnectionArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut args = ConnectionArgs { config: matches.get_one::<PathBuf>("config").cloned(), given: Vec::new() };
        for (param, _) in connection_flags() {
            if let Some(value) = table_value(matches, param) {
                args.given.push((param, value));
            }
        }
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = ConnectionArgs::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for ConnectionArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let config = Arg::new("config")
            .long("config")
            .global(true)
            .value_name("FILE")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Config file [default: $XDG_CONFIG_HOME/matrix-user/config.yaml; env: MATRIX_USER_CONFIG]");
        let cmd = cmd.next_help_heading(CONNECTION_HEADING).arg(config);
        connection_flags().fold(cmd, |cmd, (param, flag)| cmd.arg(table_arg(param, flag).global(true)))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        ConnectionArgs::augment_args(cmd)
    }
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Output")]
struct OutputArgs {
    /// Change nothing; say what a real run would change
    #[arg(long, global = true)]
    check: bool,

    /// Also show each change's before and after
    #[arg(long, global = true)]
    diff: bool,

    /// Print the module's result object (one JSON line) instead of text
    #[arg(long, global = true)]
    json: bool,

    /// Print nothing but warnings and errors
    #[arg(long, short, global = true)]
    quiet: bool,
}

/// The long name of a parameter's flag, from the table.
fn long(name: &str) -> &'static str {
    params::get(name).flag.map(|flag| flag.long).unwrap_or_else(|| panic!("`{name}` has no flag"))
}

fn value_name(name: &str) -> &'static str {
    params::get(name).flag.map(|flag| flag.value_name).unwrap_or_default()
}

fn doc(name: &str) -> &'static str {
    params::get(name).doc
}

#[derive(Args, Debug)]
struct RegisterArgs {
    #[arg(value_name = "USERNAME", help = doc("username"))]
    username: String,

    #[arg(long = long("admin"), value_name = value_name("admin"), help = doc("admin"))]
    admin: Option<String>,

    #[arg(long = long("update_password"), value_name = value_name("update_password"), help = doc("update_password"))]
    update_password: Option<String>,

    #[arg(long = long("displayname"), value_name = value_name("displayname"), help = doc("displayname"))]
    displayname: Option<String>,

    #[arg(long = long("user_type"), value_name = value_name("user_type"), help = doc("user_type"))]
    user_type: Option<String>,

    #[arg(long = long("email"), value_name = value_name("email"), help = doc("email"))]
    email: Option<String>,

    #[command(flatten)]
    password: PasswordArgs,
}

/// Where a user's password comes from.
#[derive(Args, Debug)]
struct PasswordArgs {
    /// Read the password from FILE ('-': standard input); one final line break is dropped
    #[arg(long, value_name = "FILE", conflicts_with_all = ["password_stdin", "insecure_password"])]
    password_file: Option<PathBuf>,

    /// Read the password from standard input; one final line break is dropped
    #[arg(long, conflicts_with = "insecure_password")]
    password_stdin: bool,

    /// The password itself: other local users can read it (prefer the above or MATRIX_USER_PASSWORD)
    #[arg(long, value_name = "PASSWORD", allow_hyphen_values = true)]
    insecure_password: Option<String>,
}

#[derive(Args, Debug)]
struct LockArgs {
    #[arg(value_name = "USERNAME", help = doc("username"))]
    username: String,
}

#[derive(Args, Debug)]
struct DeactivateArgs {
    #[arg(value_name = "USERNAME", help = doc("username"))]
    username: String,

    /// Also erase the account as the server defines it (Synapse's erasure; MAS asks Synapse to erase it)
    #[arg(long)]
    erase: bool,

    #[command(flatten)]
    password: PasswordArgs,
}

#[derive(Args, Debug)]
struct EnsureArgs {
    /// YAML, JSON or CSV users file ('-': standard input, YAML or JSON)
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// update_password of every user that does not set its own [default: on_create]
    #[arg(long = long("update_password"), value_name = value_name("update_password"))]
    update_password: Option<String>,

    #[arg(long = long("concurrency"), value_name = value_name("concurrency"), help = doc("concurrency"))]
    concurrency: Option<String>,

    /// Exact mode: bring the accounts the file does not name to --absent-state (the module's
    /// `exclusive`); never admins, appservice users, guests or --keep
    #[arg(long)]
    exact: bool,

    #[arg(long = long("absent_state"), value_name = value_name("absent_state"), help = doc("absent_state"))]
    absent_state: Option<String>,

    /// With --exact, a localpart never pruned (a glob: * and ?); may be given again
    #[arg(long = long("keep"), value_name = value_name("keep"))]
    keep: Vec<String>,

    #[arg(long = long("max_changes"), value_name = value_name("max_changes"), help = doc("max_changes"))]
    max_changes: Option<String>,
}

const PASSWORD_WARNING: &str = "--insecure-password puts the password on the command line, where other local \
     users can read it (ps, /proc) and where shell history keeps it; use --password-file, --password-stdin or \
     MATRIX_USER_PASSWORD instead";

/// The command line as clap sees it: what parsing, `--help`, the completion scripts and the
/// manual pages are all made from.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Runs the command-line tool on `args` (without the program name).
pub fn main(args: Vec<OsString>) -> ExitCode {
    let mut redactor = Redactor::new();
    // Secrets the command line or environment already holds are masked in everything printed,
    // from clap's own errors on.
    config::redact_env_secrets(&mut redactor);
    for (i, arg) in args.iter().enumerate() {
        let arg = arg.to_string_lossy();
        if let Some(value) = arg.strip_prefix("--insecure-password=") {
            redactor.add(value);
        } else if arg == "--insecure-password" {
            if let Some(value) = args.get(i + 1) {
                redactor.add(&value.to_string_lossy());
            }
        }
    }

    if let [only] = args.as_slice() {
        let path = Path::new(only);
        let command = command();
        let is_command = command.get_subcommands().any(|c| c.get_name() == only.to_string_lossy());
        if !is_command && path.is_file() {
            let mut msg = format!(
                "matrix-user: error: {0} is not a command, and not an Ansible args file (a JSON object with \
                 `_ansible_*` keys, as Ansible writes): nothing was run.\nDid you mean `matrix-user ensure {0}`? \
                 See `matrix-user --help`.",
                path.display()
            );
            redactor.redact_str(&mut msg);
            eprintln!("{msg}");
            return ExitCode::from(USAGE_ERROR);
        }
    }

    let cli = match Cli::try_parse_from(std::iter::once(OsString::from("matrix-user")).chain(args)) {
        Ok(cli) => cli,
        Err(e) => {
            let mut text = e.render().to_string();
            redactor.redact_str(&mut text);
            if e.use_stderr() {
                eprint!("{text}");
            } else {
                print!("{text}");
            }
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let out = Output { json: cli.output.json, quiet: cli.output.quiet };
    let mut warnings = Vec::new();
    let password_args = match &cli.command {
        Command::Register(RegisterArgs { password, .. }) | Command::Deactivate(DeactivateArgs { password, .. }) => {
            Some(password)
        }
        _ => None,
    };
    if password_args.is_some_and(|args| args.insecure_password.is_some()) {
        warnings.push(PASSWORD_WARNING.to_string());
    }
    for warning in &warnings {
        out.note(&format!("warning: {warning}"), &redactor);
    }

    let built = match &cli.command {
        Command::Register(args) => build_register(args, &cli.connection, &mut redactor),
        Command::Lock(args) => build_state(&args.username, "locked", None, None, &cli.connection, &mut redactor),
        Command::Deactivate(args) => build_state(
            &args.username,
            "deactivated",
            args.erase.then_some("--erase"),
            Some(&args.password),
            &cli.connection,
            &mut redactor,
        ),
        Command::Ensure(args) => build_ensure(args, &cli.connection, &mut redactor),
        Command::Token(args) => {
            let layers = crate::tokens::build_token(args, &cli.connection, &mut redactor);
            return crate::tokens::run_cli(layers, &out, cli.output.check, cli.output.diff, &mut redactor);
        }
        Command::Tokens(args) => {
            let layers = crate::tokens::build_tokens(args, &cli.connection, &mut redactor);
            return crate::tokens::run_cli(layers, &out, cli.output.check, cli.output.diff, &mut redactor);
        }
    };
    let mut layers = match built {
        Ok(layers) => layers,
        Err(msg) => return out.usage_error(&msg, &redactor),
    };

    // On a terminal, a status line counts the users done (standard error, so output piped
    // elsewhere is unchanged; never when it is not a terminal).
    let status = !cli.output.quiet && std::io::stderr().is_terminal();
    // Long waits (MAS's login rate limit) are shown as they happen, unless --quiet.
    let progress: Option<module::ProgressSink> = (!cli.output.quiet).then(|| {
        let redactor = redactor.clone();
        Box::new(move |line: &str| {
            let mut text = format!("{}matrix-user: {line}", if status { CLEAR_LINE } else { "" });
            redactor.redact_str(&mut text);
            eprintln!("{text}");
        }) as module::ProgressSink
    });
    // The typed request, read from the layers as the module reads its args file, then the run;
    // `invocation` shows the parameters as given, masked.
    let invocation = module::masked(&layers.params);
    let request = module::Request::take(&mut layers, &mut redactor).map_err(Failure::Param);
    let count = status.then(status_line);
    let run = module::Run { check_mode: cli.output.check, diff: cli.output.diff, progress, count };
    let execution = module::execute_request(request, invocation, run, &mut redactor);
    out.report(&execution, &layers, &warnings, cli.output.diff, &redactor)
}

/// Back to the start of the terminal's line, which is wiped.
const CLEAR_LINE: &str = "\r\x1b[K";
/// The shortest time between two drawings of the status line.
const STATUS_EVERY: Duration = Duration::from_millis(250);

/// The status line of a list on a terminal: redrawn at most every [`STATUS_EVERY`], wiped when
/// the last user is done.
fn status_line() -> module::CountSink {
    let start = Instant::now();
    let mut drawn: Option<Instant> = None;
    Box::new(move |done, total| {
        let now = Instant::now();
        if done >= total {
            if drawn.is_some() {
                eprint!("{CLEAR_LINE}");
            }
            return;
        }
        if drawn.is_some_and(|at| now - at < STATUS_EVERY) {
            return;
        }
        drawn = Some(now);
        eprint!("{CLEAR_LINE}{}", status_text(done, total, now - start));
    })
}

/// "matrix-user: 4,000 of 100,000 users done, 2,000/s".
fn status_text(done: usize, total: usize, elapsed: Duration) -> String {
    let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
    format!("matrix-user: {} of {} users done, {}/s", thousands(done), thousands(total), thousands(rate as usize))
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The parameters of `register`: connection settings, then the user.
fn build_register(args: &RegisterArgs, connection: &ConnectionArgs, redactor: &mut Redactor) -> Result<Layers, String> {
    let mut layers = user_layers(&args.username, &args.password, connection, redactor)?;
    layers.set_flags(&[
        ("admin", &args.admin),
        ("update_password", &args.update_password),
        ("displayname", &args.displayname),
        ("user_type", &args.user_type),
        ("email", &args.email),
    ]);
    Ok(layers)
}

/// The parameters of `lock` and `deactivate`: the user and the state (`erase`: the flag that
/// asked for it), with a password only where one is given.
fn build_state(
    username: &str,
    state: &str,
    erase: Option<&str>,
    password: Option<&PasswordArgs>,
    connection: &ConnectionArgs,
    redactor: &mut Redactor,
) -> Result<Layers, String> {
    let mut layers = match password {
        Some(password) => user_layers(username, password, connection, redactor)?,
        None => {
            let mut layers = connection_layers(connection, false, redactor)?;
            layers.set("username", username.to_string(), Source::Argument("USERNAME"));
            layers
        }
    };
    layers.set("state", state.to_string(), Source::Argument("the command"));
    if let Some(flag) = erase {
        layers.set("erase", "true".to_string(), Source::Flag(flag.to_string()));
    }
    Ok(layers)
}

/// Connection settings, the username and the password from wherever it is given.
fn user_layers(
    username: &str,
    args: &PasswordArgs,
    connection: &ConnectionArgs,
    redactor: &mut Redactor,
) -> Result<Layers, String> {
    let password_from_stdin = args.password_stdin || args.password_file.as_deref() == Some(Path::new("-"));
    let mut layers = connection_layers(connection, password_from_stdin, redactor)?;
    layers.set("username", username.to_string(), Source::Argument("USERNAME"));

    let password = if let Some(password) = &args.insecure_password {
        Some((password.clone(), Source::Flag(String::from("--insecure-password"))))
    } else if args.password_stdin {
        if std::io::stdin().is_terminal() {
            eprintln!("Reading the password from standard input (end it with Enter, then Ctrl-D)...");
        }
        Some((config::read_password(Path::new("-"))?, Source::Flag(String::from("--password-stdin"))))
    } else if let Some(path) = &args.password_file {
        Some((config::read_password(path)?, Source::Flag(String::from("--password-file"))))
    } else {
        match (config::env_var(config::PASSWORD_ENV)?, config::env_var(config::PASSWORD_FILE_ENV)?) {
            (Some(_), Some(_)) => {
                return Err(format!("set either {} or {}, not both", config::PASSWORD_ENV, config::PASSWORD_FILE_ENV))
            }
            (Some(password), None) => Some((password, Source::Env(config::PASSWORD_ENV.into()))),
            (None, Some(path)) => {
                Some((config::read_password(Path::new(&path))?, Source::Env(config::PASSWORD_FILE_ENV.into())))
            }
            (None, None) => None,
        }
    };
    if let Some((password, source)) = password {
        redactor.add(&password);
        layers.set("password", password, source);
    }
    Ok(layers)
}

/// The parameters of `ensure`: connection settings, then the users file.
fn build_ensure(args: &EnsureArgs, connection: &ConnectionArgs, redactor: &mut Redactor) -> Result<Layers, String> {
    let mut layers = connection_layers(connection, args.file == Path::new("-"), redactor)?;
    if args.file == Path::new("-") {
        let (users, name) = users_file::read_list(&args.file, &users_file::USERS)?;
        layers.set("users", Value::Array(users), Source::UsersFile(name));
    } else {
        // Read by the module's own `users_file`, so the formats and their errors are the same.
        let name = args.file.display().to_string();
        layers.set("users_file", name.clone(), Source::UsersFile(name));
    }
    if args.exact {
        layers.set("exclusive", true, Source::Flag("--exact".into()));
    }
    if !args.keep.is_empty() {
        layers.set("keep", args.keep.clone(), Source::flag_of("keep"));
    }
    layers.set_flags(&[
        ("update_password", &args.update_password),
        ("concurrency", &args.concurrency),
        ("absent_state", &args.absent_state),
        ("max_changes", &args.max_changes),
    ]);
    Ok(layers)
}

/// Connection settings from flags, environment and config file. `stdin_taken`: standard input
/// already holds something else (a password, a users file), so no secret may come from it.
pub(crate) fn connection_layers(
    connection: &ConnectionArgs,
    stdin_taken: bool,
    redactor: &mut Redactor,
) -> Result<Layers, String> {
    let mut flags: Vec<(&'static str, String, Source)> = Vec::new();
    let mut stdin_users = usize::from(stdin_taken);
    for (param, value) in &connection.given {
        let Some(flag) = param.flag else { continue };
        let flag_name = format!("--{}", flag.long);
        match param.holds {
            // A secret's file; `-` reads the secret itself from standard input.
            Some(secret) if value == "-" => {
                stdin_users += 1;
                if stdin_users > 1 {
                    return Err(format!(
                        "{flag_name} -: standard input can feed only one of the password, a secret and the users file"
                    ));
                }
                let secret_value = config::read_secret_stdin(&secret.replace('_', " "))?;
                redactor.add(&secret_value);
                flags.push((params::get(secret).name, secret_value, Source::Flag(flag_name)));
            }
            _ if flag.reads_file => {
                // The module takes the setting itself (which may hold a password): the flag names a file.
                let setting =
                    std::fs::read_to_string(value).map_err(|e| format!("{flag_name}: cannot read {value}: {e}"))?;
                let setting = setting.trim().to_string();
                redactor.add(&setting);
                flags.push((param.name, setting, Source::Flag(flag_name)));
            }
            _ => flags.push((param.name, value.clone(), Source::Flag(flag_name))),
        }
    }
    let config = config::load_config(connection.config.as_deref(), redactor)?;
    let mut layers = Layers::default();
    layers.add_connection(flags, config.as_ref(), redactor)?;
    Ok(layers)
}

/// How results and errors are printed.
pub(crate) struct Output {
    pub(crate) json: bool,
    pub(crate) quiet: bool,
}

impl Output {
    /// Prints a usage error (as a failed result with `--json`) and gives the usage exit code.
    pub(crate) fn usage_error(&self, msg: &str, redactor: &Redactor) -> ExitCode {
        if self.json {
            let result = ansible_module::ModuleResult::failed(msg);
            println!("{}", result.to_json(redactor));
        } else {
            self.error(msg, redactor);
            eprintln!("See `matrix-user --help`.");
        }
        ExitCode::from(USAGE_ERROR)
    }

    pub(crate) fn error(&self, msg: &str, redactor: &Redactor) {
        let mut text = format!("matrix-user: error: {msg}");
        redactor.redact_str(&mut text);
        eprintln!("{text}");
    }

    pub(crate) fn note(&self, msg: &str, redactor: &Redactor) {
        let mut text = msg.to_string();
        redactor.redact_str(&mut text);
        eprintln!("{text}");
    }

    pub(crate) fn line(&self, text: String, redactor: &Redactor) {
        if !self.quiet {
            let mut text = text;
            redactor.redact_str(&mut text);
            println!("{text}");
        }
    }

    /// Prints the run's result and gives the exit code: 0 done (changed or not), 1 failed,
    /// 2 refused input (nothing was sent or changed).
    /// `printed`: the tool's own warnings, already printed (with `--json`, part of the result).
    fn report(
        &self,
        execution: &Execution,
        layers: &Layers,
        printed: &[String],
        diff: bool,
        redactor: &Redactor,
    ) -> ExitCode {
        let (code, failure_msg) = match &execution.failure {
            Some(Failure::Param(e)) => (USAGE_ERROR, Some(explain(e, layers))),
            Some(Failure::Username(e)) => {
                (USAGE_ERROR, Some(format!("{} {:?}: {}", layers.describe(&e.field), e.given, e.error)))
            }
            // Settings named by the flags that give them (`--homeserver-url`).
            Some(Failure::Run(e)) => (1, Some(e.render(params::flag_of_setting))),
            Some(Failure::Exact(e)) => (1, Some(e.message("--max-changes"))),
            Some(failure @ Failure::Start(_)) => (1, Some(failure.to_string())),
            None if execution.result.is_failed() => (1, None),
            None => (0, None),
        };
        if self.json {
            let mut result = execution.result.clone();
            for warning in printed {
                result.warn(warning.clone());
            }
            // A refused input is named as the user gave it (flag, variable or file).
            if let (Some(msg), true) = (&failure_msg, code == USAGE_ERROR) {
                result.set("msg", msg.clone());
            }
            if let Err(e) = result.write_json(redactor, &mut std::io::stdout().lock()) {
                self.error(&format!("cannot write the result: {e}"), redactor);
                return ExitCode::FAILURE;
            }
            return ExitCode::from(code);
        }

        for warning in &execution.warnings {
            self.note(&format!("warning: {warning}"), redactor);
        }
        if let Some(msg) = failure_msg {
            self.error(&msg, redactor);
            if code == USAGE_ERROR {
                eprintln!("See `matrix-user --help`.");
            } else {
                if let Some(Failure::Run(e)) = &execution.failure {
                    hints(&e.settings(), redactor);
                }
            }
            return ExitCode::from(code);
        }
        // Check mode as the outcomes say it (a run whose every user failed reports no plan).
        let mut check_mode = false;
        // Exact mode's pruned accounts come after the listed ones, said alike.
        let pruned = execution.pruned.iter().flatten();
        for (index, user) in execution.users.iter().chain(pruned).enumerate() {
            match &user.outcome {
                Ok(outcome) => {
                    check_mode = outcome.check_mode;
                    self.line(user_line(outcome), redactor);
                    if diff && outcome.changed() {
                        let (before, after) = outcome.plan.diff();
                        self.line(format!("    before: {before}\n    after:  {after}"), redactor);
                    }
                }
                Err(failure) => {
                    let label = user.username.clone().unwrap_or_else(|| format!("users[{index}]"));
                    let msg = match failure {
                        module::UserFailure::Run(e) => e.render(params::flag_of_setting),
                        other => other.to_string(),
                    };
                    self.note(&format!("failed {label}: {msg}"), redactor);
                }
            }
        }
        // A change of its own, which the users' summary does not count.
        if let Some(line) = admin_token_line(&execution.host) {
            self.line(line, redactor);
        }
        self.line(summary(&execution.totals, check_mode), redactor);
        ExitCode::from(code)
    }
}

/// The line saying the run registered or renewed the provisioned admin token: a change the
/// summary of users or tokens does not count.
pub(crate) fn admin_token_line(host: &crate::provision::Report) -> Option<String> {
    match &host.admin_token {
        Some((action @ ("registered" | "renewed"), file)) => Some(format!("admin token {action}, kept in {file}")),
        _ => None,
    }
}

/// A refused parameter, named as the user gave it.
pub(crate) fn explain(error: &ParamError, layers: &Layers) -> String {
    match error {
        ParamError::Missing { name, .. } if name == "password" && !layers.params.contains_key("password") => format!(
            "no password given: use --password-file FILE, --password-stdin, {} or {} (or --insecure-password, which \
             other local users can see)",
            config::PASSWORD_ENV,
            config::PASSWORD_FILE_ENV
        ),
        ParamError::Missing { name, .. } if layers.params.contains_key(name) => {
            format!("{} is empty", layers.describe(name))
        }
        ParamError::Missing { name, why } => format!("{} is required{why}", layers.describe(name)),
        ParamError::WrongType { name, expected, got } => {
            format!("{}: expected {expected}, got {got}", layers.describe(name))
        }
        ParamError::Invalid { name, problem } => format!("{}: {problem}", layers.describe(name)),
        ParamError::Unsupported { names, supported } => format!(
            "unknown setting{} {}; the config file takes: {}",
            if names.len() > 1 { "s" } else { "" },
            names.iter().map(|name| layers.describe(name)).collect::<Vec<_>>().join(", "),
            supported.iter().filter(|name| !config::is_user_param(name)).cloned().collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// Where to set each connection setting the failure asks for, in the table's order.
pub(crate) fn hints(asked: &[homeserver::Setting], redactor: &Redactor) {
    let asked: Vec<&str> = asked.iter().filter_map(|setting| params::of_setting(*setting)).collect();
    for setting in params::settings() {
        let param = setting[setting.len() - 1].name;
        let base = setting[0].name;
        if asked.contains(&base) {
            let flag = params::flag_of(param).unwrap_or_default();
            let envs: Vec<&str> = setting.iter().filter_map(|p| p.env).collect();
            let mut text =
                format!("hint: {base} is set with {flag}, {} or `{param}` in the config file", envs.join(" or "));
            redactor.redact_str(&mut text);
            eprintln!("{text}");
        }
    }
}

/// "created @john:example.com (admin)", "would promote @john:example.com", "unchanged ...".
fn user_line(outcome: &Outcome) -> String {
    let user = &outcome.user_id;
    let admin = if outcome.plan.after.admin == Some(true) { " (admin)" } else { "" };
    if outcome.plan.actions.is_empty() {
        return match outcome.plan.note {
            // Why nothing was done, as the module says it ("... is missing: nothing to lock").
            Some(note) => format!("unchanged {}", note.sentence(user)),
            None => format!("unchanged {user}{admin}"),
        };
    }
    let check = outcome.check_mode;
    let words: Vec<&str> = outcome.plan.actions.iter().map(|action| action.line_word(!check)).collect();
    let line = format!("{}{} {user}{admin}", if check { "would " } else { "" }, words.join(", "));
    if check && !outcome.caveats.is_empty() {
        // What the server may still refuse, which check mode cannot know.
        format!("{line} ({})", outcome.caveats.join("; "))
    } else {
        line
    }
}

/// "1 created, 19 unchanged"; in check mode "1 to create, 19 unchanged (check mode: nothing was changed)".
fn summary(totals: &Totals, check_mode: bool) -> String {
    let text = totals.summary(check_mode);
    if check_mode {
        format!("{text} (check mode: nothing was changed)")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }

    /// The completion scripts in `completions/` are generated from this command line, here
    /// rather than by the binary, which stays smaller without a completion generator.
    #[test]
    fn completion_scripts_are_current() {
        use clap_complete::Shell;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../completions");
        let update = std::env::var_os("MATRIX_USER_UPDATE_COMPLETIONS").is_some();
        for (shell, file) in
            [(Shell::Bash, "matrix-user.bash"), (Shell::Zsh, "_matrix-user"), (Shell::Fish, "matrix-user.fish")]
        {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command(), "matrix-user", &mut script);
            let path = dir.join(file);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &script).unwrap();
            }
            let current = std::fs::read(&path).unwrap_or_default();
            assert!(
                current == script,
                "{} is out of date: run `MATRIX_USER_UPDATE_COMPLETIONS=1 cargo test -p matrix-user completion`",
                path.display()
            );
        }
    }

    /// The manual pages in `man/`: `matrix-user.1` and one per subcommand, generated from this
    /// command line (as `--help` shows it) by a test, like the completion scripts. No version in
    /// them: the workspace's `Cargo.toml` is the one place that holds it.
    fn manual_pages() -> Vec<(String, Vec<u8>)> {
        let mut cli = command().disable_help_subcommand(true);
        cli.build();
        let mut pages = vec![("matrix-user.1".to_string(), manual_page(&cli))];
        for sub in cli.get_subcommands() {
            let name = sub.get_display_name().unwrap_or(sub.get_name());
            pages.push((format!("{name}.1"), manual_page(sub)));
        }
        pages
    }

    fn manual_page(command: &clap::Command) -> Vec<u8> {
        let man = clap_mangen::Man::new(command.clone()).source("matrix-user").manual("User Commands");
        let mut page = Vec::new();
        man.render_title(&mut page).unwrap();
        man.render_name_section(&mut page).unwrap();
        man.render_synopsis_section(&mut page).unwrap();
        man.render_description_section(&mut page).unwrap();
        man.render_options_section(&mut page).unwrap();
        if command.has_subcommands() {
            man.render_subcommands_section(&mut page).unwrap();
        }
        if let Some(text) = command.get_after_long_help().or(command.get_after_help()) {
            page.extend(roff_sections(&text.to_string()).into_bytes());
        }
        page
    }

    /// The text after the options, as sections: a line such as `Examples:` starts one (EXAMPLES),
    /// and the lines up to the next are kept as they are (no filling), escaped for roff.
    fn roff_sections(text: &str) -> String {
        let mut out = String::new();
        let mut open = false;
        for line in text.lines() {
            let heading =
                line.strip_suffix(':').filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphabetic()));
            if let Some(heading) = heading {
                if open {
                    out.push_str(".fi\n");
                }
                out.push_str(&format!(".SH {}\n.nf\n", heading.to_uppercase()));
                open = true;
                continue;
            }
            if !open {
                out.push_str(".SH NOTES\n.nf\n");
                open = true;
            }
            let escaped = line.replace('\\', "\\e").replace('-', "\\-");
            if escaped.starts_with('.') || escaped.starts_with('\'') {
                out.push_str("\\&");
            }
            out.push_str(&escaped);
            out.push('\n');
        }
        if open {
            out.push_str(".fi\n");
        }
        out
    }

    #[test]
    fn manual_pages_are_current() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../man");
        let update = std::env::var_os("MATRIX_USER_UPDATE_MAN").is_some();
        for (file, page) in manual_pages() {
            let path = dir.join(file);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &page).unwrap();
            }
            let current = std::fs::read(&path).unwrap_or_default();
            assert!(
                current == page,
                "{} is out of date: run `MATRIX_USER_UPDATE_MAN=1 cargo test -p matrix-user manual_pages`",
                path.display()
            );
        }
    }

    #[test]
    fn status_lines() {
        assert_eq!(
            status_text(4000, 100_000, Duration::from_secs(2)),
            "matrix-user: 4,000 of 100,000 users done, 2,000/s"
        );
        assert_eq!(status_text(0, 7, Duration::ZERO), "matrix-user: 0 of 7 users done, 0/s");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn summaries() {
        let totals = Totals { created: 1, unchanged: 19, ..Totals::default() };
        assert_eq!(summary(&totals, false), "1 created, 19 unchanged");
        assert_eq!(summary(&totals, true), "1 to create, 19 unchanged (check mode: nothing was changed)");
        assert_eq!(summary(&Totals::default(), false), "no users");
        let email_only = Totals { email_added: 1, ..Totals::default() };
        assert_eq!(summary(&email_only, false), "1 email added");
        assert_eq!(summary(&email_only, true), "1 email to add (check mode: nothing was changed)");
        let named = Totals { displayname_set: 2, unchanged: 1, ..Totals::default() };
        assert_eq!(summary(&named, false), "2 display name set, 1 unchanged");
        assert_eq!(summary(&named, true), "2 display name to set, 1 unchanged (check mode: nothing was changed)");
    }
}
