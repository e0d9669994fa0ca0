//! Dendrite's account and profile tables, read and changed directly: Dendrite has no API that
//! changes the admin flag of an existing account (its own documentation prescribes this update),
//! nor one that sets another user's display name.
//!
//! Every wait is bounded by the `timeout` setting: connecting (TCP, TLS and login) and each
//! query on PostgreSQL, the wait for Dendrite's own writes on SQLite. SQLite is opened read-only
//! except to change an admin flag or a display name, so looking up accounts writes nothing next to the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{Mutex, MutexGuard};

use super::postgres::Target;
use super::tls::Rustls;
use crate::backend::Account;
use crate::Error;

/// `account_type` values of `userapi_accounts` (Dendrite's `userapi/api/api.go`).
const USER: i16 = 1;
const ADMIN: i16 = 3;

/// Why a display name could not be read or set: the account has no profile row.
const NO_PROFILE: &str =
    "the account has no profile in the database (Dendrite makes one with every account), so nothing was changed";

/// The `timeout` setting's default, until [`AccountsDatabase::with_timeout`] sets it.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the user API's account database is, and how long any one wait for it may take.
#[derive(Debug)]
pub struct AccountsDatabase {
    place: Place,
    timeout: Duration,
}

#[derive(Debug)]
enum Place {
    /// The URL, parsed (or why it cannot be used), and the connection once opened.
    Postgres {
        target: Box<Result<Target, String>>,
        state: Mutex<State>,
    },
    Sqlite(PathBuf),
}

/// The PostgreSQL connection of a run.
#[derive(Debug)]
enum State {
    NotYet,
    Open(tokio_postgres::Client),
    /// It timed out: every later use fails the same way at once rather than wait again.
    Failed(Error),
}

impl AccountsDatabase {
    /// A PostgreSQL connection string (`postgres://` or `postgresql://`), or the path of the
    /// SQLite file (`file:` prefix allowed, as in Dendrite's configuration). A connection string
    /// that cannot be used is reported by [`AccountsDatabase::check`].
    pub fn parse(setting: &str) -> AccountsDatabase {
        let place = if setting.starts_with("postgres://") || setting.starts_with("postgresql://") {
            let target = Target::parse(setting).and_then(|target| target.check_off_machine().map(|()| target));
            Place::Postgres { target: Box::new(target), state: Mutex::new(State::NotYet) }
        } else {
            Place::Sqlite(PathBuf::from(setting.strip_prefix("file:").unwrap_or(setting)))
        };
        AccountsDatabase { place, timeout: DEFAULT_TIMEOUT }
    }

    /// Bounds connecting and each query (the transport's `timeout`).
    pub fn with_timeout(mut self, timeout: Duration) -> AccountsDatabase {
        self.timeout = timeout;
        self
    }

    /// Whether the setting can be used as it is; nothing is connected to.
    pub fn check(&self) -> Result<(), Error> {
        match &self.place {
            Place::Postgres { target, .. } => match &**target {
                Err(message) => Err(Error::Database {
                    action: "checking the connection string in {dendrite_database}".to_string(),
                    message: message.clone(),
                }),
                Ok(_) => Ok(()),
            },
            Place::Sqlite(_) => Ok(()),
        }
    }

    /// The account `localpart` on `server_name`, if it exists.
    pub async fn account(&self, localpart: &str, server_name: &str) -> Result<Option<Account>, Error> {
        const QUERY: &str =
            "SELECT account_type, is_deactivated FROM userapi_accounts WHERE localpart = $1 AND server_name = $2";
        let action = "reading the account from {dendrite_database}";
        let row = match &self.place {
            Place::Postgres { .. } => {
                let mut guard = self.postgres().await?;
                let outcome = tokio::time::timeout(
                    self.timeout,
                    open_client(&guard).query_opt(QUERY, &[&localpart, &server_name]),
                )
                .await;
                self.settle(action, outcome, &mut guard)?
                    .map(|row| (row.get::<_, i16>(0), row.get::<_, Option<bool>>(1).unwrap_or(false)))
            }
            Place::Sqlite(path) => {
                let conn = self.sqlite(path, Access::Read, action)?;
                let fail = |e| self.sqlite_error(action, e);
                let mut statement = conn.prepare(QUERY).map_err(fail)?;
                let mut rows = statement.query((localpart, server_name)).map_err(fail)?;
                match rows.next().map_err(fail)? {
                    Some(row) => Some((
                        row.get::<_, i16>(0).map_err(fail)?,
                        row.get::<_, Option<bool>>(1).map_err(fail)?.unwrap_or(false),
                    )),
                    None => None,
                }
            }
        };
        Ok(row.map(|(account_type, deactivated)| Account {
            admin: Some(account_type == ADMIN),
            deactivated,
            locked: false,
            unfinished: false,
            displayname: None,
        }))
    }

    /// Every account on `server_name`, by localpart.
    pub async fn accounts(&self, server_name: &str) -> Result<HashMap<String, Account>, Error> {
        const QUERY: &str =
            "SELECT localpart, account_type, is_deactivated FROM userapi_accounts WHERE server_name = $1";
        let action = "listing the accounts in {dendrite_database}";
        let rows: Vec<(String, i16, bool)> = match &self.place {
            Place::Postgres { .. } => {
                let mut guard = self.postgres().await?;
                let outcome =
                    tokio::time::timeout(self.timeout, open_client(&guard).query(QUERY, &[&server_name])).await;
                self.settle(action, outcome, &mut guard)?
                    .iter()
                    .map(|row| (row.get(0), row.get(1), row.get::<_, Option<bool>>(2).unwrap_or(false)))
                    .collect()
            }
            Place::Sqlite(path) => {
                let conn = self.sqlite(path, Access::Read, action)?;
                let fail = |e| self.sqlite_error(action, e);
                let mut statement = conn.prepare(QUERY).map_err(fail)?;
                let rows = statement
                    .query_map([server_name], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get::<_, Option<bool>>(2)?.unwrap_or(false)))
                    })
                    .map_err(fail)?;
                rows.collect::<Result<_, _>>().map_err(fail)?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(localpart, account_type, deactivated)| {
                (
                    localpart,
                    Account {
                        admin: Some(account_type == ADMIN),
                        deactivated,
                        locked: false,
                        unfinished: false,
                        displayname: None,
                    },
                )
            })
            .collect())
    }

    /// Makes one regular account an admin or one admin a regular account, in a transaction that
    /// is committed only if it changed exactly that one row.
    pub async fn set_admin(&self, localpart: &str, server_name: &str, admin: bool) -> Result<(), Error> {
        const UPDATE: &str =
            "UPDATE userapi_accounts SET account_type = $1 WHERE localpart = $2 AND server_name = $3 AND account_type = $4";
        let action = if admin {
            "making the account an admin in {dendrite_database}"
        } else {
            "removing admin rights in {dendrite_database}"
        };
        let (to, from) = if admin { (ADMIN, USER) } else { (USER, ADMIN) };
        let changed = self
            .update_one(action, UPDATE, &[&to, &localpart, &server_name, &from], (to, localpart, server_name, from))
            .await?;
        // Anything else was rolled back (the transaction is dropped uncommitted).
        if changed == 1 {
            Ok(())
        } else {
            Err(Error::Database {
                action: action.to_string(),
                message: format!(
                    "the update would have changed {changed} rows instead of 1, so nothing was changed: the account \
                     changed meanwhile, or is neither a regular user nor an admin (a guest or appservice account)"
                ),
            })
        }
    }

    /// The display name in the account's profile: `Ok(None)` when it has none, an error when it
    /// has no profile (Dendrite makes one with every account).
    pub async fn displayname(&self, localpart: &str, server_name: &str) -> Result<Option<String>, Error> {
        const QUERY: &str = "SELECT display_name FROM userapi_profiles WHERE localpart = $1 AND server_name = $2";
        let action = "reading the display name from {dendrite_database}";
        let row: Option<Option<String>> = match &self.place {
            Place::Postgres { .. } => {
                let mut guard = self.postgres().await?;
                let outcome = tokio::time::timeout(
                    self.timeout,
                    open_client(&guard).query_opt(QUERY, &[&localpart, &server_name]),
                )
                .await;
                self.settle(action, outcome, &mut guard)?.map(|row| row.get(0))
            }
            Place::Sqlite(path) => {
                let conn = self.sqlite(path, Access::Read, action)?;
                let fail = |e| self.sqlite_error(action, e);
                let mut statement = conn.prepare(QUERY).map_err(fail)?;
                let mut rows = statement.query((localpart, server_name)).map_err(fail)?;
                match rows.next().map_err(fail)? {
                    Some(row) => Some(row.get(0).map_err(fail)?),
                    None => None,
                }
            }
        };
        match row {
            // Dendrite writes an empty name for none.
            Some(name) => Ok(name.filter(|name| !name.is_empty())),
            None => Err(Error::Database { action: action.to_string(), message: NO_PROFILE.to_string() }),
        }
    }

    /// Sets the display name in the account's profile, in a transaction committed only if it
    /// changed exactly that one row.
    pub async fn set_displayname(&self, localpart: &str, server_name: &str, name: &str) -> Result<(), Error> {
        const UPDATE: &str = "UPDATE userapi_profiles SET display_name = $1 WHERE localpart = $2 AND server_name = $3";
        let action = "setting the display name in {dendrite_database}";
        let changed =
            self.update_one(action, UPDATE, &[&name, &localpart, &server_name], (name, localpart, server_name)).await?;
        if changed == 1 {
            Ok(())
        } else {
            Err(Error::Database { action: action.to_string(), message: NO_PROFILE.to_string() })
        }
    }

    /// Runs `update` (with the same values for either database) in a transaction that is
    /// committed only if it changed exactly one row; how many rows it would have changed.
    async fn update_one(
        &self,
        action: &str,
        update: &str,
        values: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        sqlite_values: impl rusqlite::Params,
    ) -> Result<u64, Error> {
        match &self.place {
            Place::Postgres { .. } => {
                let mut guard = self.postgres().await?;
                let run = async {
                    // The transaction holds the client; dropped uncommitted, it rolls back.
                    let client = open_client_mut(&mut guard);
                    let transaction = client.transaction().await?;
                    let changed = transaction.execute(update, values).await?;
                    if changed == 1 {
                        transaction.commit().await?;
                    }
                    Ok::<_, tokio_postgres::Error>(changed)
                };
                let outcome = tokio::time::timeout(self.timeout, run).await;
                self.settle(action, outcome, &mut guard)
            }
            Place::Sqlite(path) => {
                let mut conn = self.sqlite(path, Access::Write, action)?;
                let fail = |e| self.sqlite_error(action, e);
                let transaction = conn.transaction().map_err(fail)?;
                let changed = transaction.execute(update, sqlite_values).map_err(fail)? as u64;
                if changed == 1 {
                    transaction.commit().map_err(fail)?;
                }
                Ok(changed)
            }
        }
    }

    /// The PostgreSQL connection, opened on first use and kept for the run.
    async fn postgres(&self) -> Result<MutexGuard<'_, State>, Error> {
        let action = "connecting to {dendrite_database}";
        let Place::Postgres { target, state } = &self.place else { unreachable!("called for PostgreSQL only") };
        let target = (**target).as_ref().map_err(|message| Error::Database {
            action: "checking the connection string in {dendrite_database}".to_string(),
            message: message.clone(),
        })?;
        let mut guard = state.lock().await;
        match &*guard {
            State::Open(_) => return Ok(guard),
            State::Failed(error) => return Err(error.clone()),
            State::NotYet => {}
        }
        let mut config = target.config.clone();
        config.connect_timeout(self.timeout);
        // Bounds the TLS handshake and the login too, which `connect_timeout` does not.
        match tokio::time::timeout(self.timeout, connect(target, &config)).await {
            Ok(Ok(client)) => {
                *guard = State::Open(client);
                Ok(guard)
            }
            Ok(Err(message)) => Err(Error::Database { action: action.to_string(), message }),
            Err(_) => {
                let error = self.timed_out(action);
                *guard = State::Failed(error.clone());
                Err(error)
            }
        }
    }

    /// The outcome of a PostgreSQL call bounded by `timeout`; on a timeout the connection is
    /// given up for the rest of the run.
    fn settle<T>(
        &self,
        action: &str,
        outcome: Result<Result<T, tokio_postgres::Error>, tokio::time::error::Elapsed>,
        state: &mut State,
    ) -> Result<T, Error> {
        match outcome {
            Ok(result) => result.map_err(|e| db_error(action, &pg_text(&e))),
            Err(_) => {
                let error = self.timed_out(action);
                *state = State::Failed(error.clone());
                Err(error)
            }
        }
    }

    fn timed_out(&self, action: &str) -> Error {
        Error::Database {
            action: action.to_string(),
            message: format!(
                "the database server did not answer within {} s (timeout); check that it runs and listens at the \
                 host and port given, or raise timeout",
                self.timeout.as_secs_f64()
            ),
        }
    }

    /// The SQLite file, read-only unless an admin flag is to be changed. A read-only connection
    /// writes nothing (no `-journal` file); a write makes SQLite keep a `-journal` file beside
    /// the database until it commits, as Dendrite's own writes do. Either waits at most `timeout`
    /// for Dendrite's writes to finish.
    fn sqlite(&self, path: &Path, access: Access, action: &str) -> Result<rusqlite::Connection, Error> {
        use rusqlite::OpenFlags;
        // Never created: a wrong path is an error, not a new empty database.
        let flags = match access {
            Access::Read => OpenFlags::SQLITE_OPEN_READ_ONLY,
            Access::Write => OpenFlags::SQLITE_OPEN_READ_WRITE,
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = rusqlite::Connection::open_with_flags(path, flags)
            .map_err(|e| db_error(action, &format!("{}: {e}", path.display())))?;
        conn.busy_timeout(self.timeout).map_err(|e| db_error(action, &e))?;
        Ok(conn)
    }
}

impl AccountsDatabase {
    /// An SQLite error; a lock that outlasted `timeout` is said to be one.
    fn sqlite_error(&self, action: &str, error: rusqlite::Error) -> Error {
        if let rusqlite::Error::SqliteFailure(failure, _) = &error {
            if failure.extended_code == rusqlite::ffi::SQLITE_READONLY_ROLLBACK {
                return Error::Database {
                    action: action.to_string(),
                    message: "a write to the SQLite file was cut short (its -journal file is left beside it), and \
                              only a program that writes to it rolls that back, which a look-up does not: start \
                              Dendrite, then run again"
                        .to_string(),
                };
            }
        }
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => Error::Database {
                action: action.to_string(),
                message: format!(
                    "the SQLite file stayed locked by another program's write (Dendrite's?) for the whole \
                     timeout of {} s; run again, or raise timeout",
                    self.timeout.as_secs_f64()
                ),
            },
            _ => db_error(action, &error),
        }
    }
}

#[derive(Clone, Copy)]
enum Access {
    Read,
    Write,
}

fn open_client(state: &State) -> &tokio_postgres::Client {
    match state {
        State::Open(client) => client,
        _ => unreachable!("connected above"),
    }
}

fn open_client_mut(state: &mut State) -> &mut tokio_postgres::Client {
    match state {
        State::Open(client) => client,
        _ => unreachable!("connected above"),
    }
}

/// Opens the connection (TLS as `target` says) and starts the task that drives it; the task
/// ends when the client is dropped. Errors are tokio-postgres's, which never quote the URL.
async fn connect(target: &Target, config: &tokio_postgres::Config) -> Result<tokio_postgres::Client, String> {
    if target.uses_tls() {
        let tls = Rustls::new(target.verify(), target.root_cert.as_deref())?;
        let (client, connection) = config.connect(tls).await.map_err(|e| tls_hint(target, &e))?;
        tokio::spawn(connection);
        Ok(client)
    } else {
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(|e| pg_text(&e))?;
        tokio::spawn(connection);
        Ok(client)
    }
}

/// tokio-postgres's error with its causes (its `Display` names only the kind: "db error").
/// None of them quotes the connection string.
fn pg_text(error: &tokio_postgres::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// [`pg_text`], with what to do when TLS was the problem.
fn tls_hint(target: &Target, error: &tokio_postgres::Error) -> String {
    let text = pg_text(error);
    if text.contains("server does not support TLS") {
        format!(
            "{text}; the URL asks for TLS (sslmode={}), so turn ssl on in the server's postgresql.conf",
            target.sslmode.name()
        )
    } else if text.contains("certificate") || text.contains("UnknownIssuer") {
        format!("{text}; name the CA that signed the server's certificate with sslrootcert=/path/to/ca.pem in the URL")
    } else {
        text
    }
}

/// A database error, described without the connection string (which holds a password).
fn db_error(action: &str, error: &dyn std::fmt::Display) -> Error {
    Error::Database { action: action.to_string(), message: error.to_string() }
}
