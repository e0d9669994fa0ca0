//! Dendrite's account table, read and changed directly: Dendrite has no API that changes the
//! admin flag of an existing account, and its own documentation prescribes this update.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::backend::Account;
use crate::Error;

/// `account_type` values of `userapi_accounts` (Dendrite's `userapi/api/api.go`).
const USER: i16 = 1;
const ADMIN: i16 = 3;

/// How long an update waits for Dendrite's own writes to the SQLite file.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the user API's account database is.
#[derive(Debug)]
pub enum AccountsDatabase {
    Postgres { url: String, client: Mutex<Option<tokio_postgres::Client>> },
    Sqlite(PathBuf),
}

impl AccountsDatabase {
    /// A PostgreSQL connection string (`postgres://` or `postgresql://`), or the path of the
    /// SQLite file (`file:` prefix allowed, as in Dendrite's configuration).
    pub fn parse(setting: &str) -> AccountsDatabase {
        if setting.starts_with("postgres://") || setting.starts_with("postgresql://") {
            AccountsDatabase::Postgres { url: setting.to_string(), client: Mutex::new(None) }
        } else {
            AccountsDatabase::Sqlite(PathBuf::from(setting.strip_prefix("file:").unwrap_or(setting)))
        }
    }

    /// The account `localpart` on `server_name`, if it exists.
    pub async fn account(&self, localpart: &str, server_name: &str) -> Result<Option<Account>, Error> {
        const QUERY: &str =
            "SELECT account_type, is_deactivated FROM userapi_accounts WHERE localpart = $1 AND server_name = $2";
        let action = "reading the account from dendrite_database";
        let row = match self {
            AccountsDatabase::Postgres { .. } => {
                let mut guard = self.postgres(action).await?;
                let client = guard.as_mut().expect("connected above");
                client
                    .query_opt(QUERY, &[&localpart, &server_name])
                    .await
                    .map_err(|e| db_error(action, &e))?
                    .map(|row| (row.get::<_, i16>(0), row.get::<_, Option<bool>>(1).unwrap_or(false)))
            }
            AccountsDatabase::Sqlite(path) => {
                let conn = sqlite(path, action)?;
                let mut statement = conn.prepare(QUERY).map_err(|e| db_error(action, &e))?;
                let mut rows = statement.query((localpart, server_name)).map_err(|e| db_error(action, &e))?;
                match rows.next().map_err(|e| db_error(action, &e))? {
                    Some(row) => Some((
                        row.get::<_, i16>(0).map_err(|e| db_error(action, &e))?,
                        row.get::<_, Option<bool>>(1).map_err(|e| db_error(action, &e))?.unwrap_or(false),
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
        }))
    }

    /// Every account on `server_name`, by localpart.
    pub async fn accounts(&self, server_name: &str) -> Result<HashMap<String, Account>, Error> {
        const QUERY: &str =
            "SELECT localpart, account_type, is_deactivated FROM userapi_accounts WHERE server_name = $1";
        let action = "listing the accounts in dendrite_database";
        let rows: Vec<(String, i16, bool)> = match self {
            AccountsDatabase::Postgres { .. } => {
                let mut guard = self.postgres(action).await?;
                let client = guard.as_mut().expect("connected above");
                client
                    .query(QUERY, &[&server_name])
                    .await
                    .map_err(|e| db_error(action, &e))?
                    .iter()
                    .map(|row| (row.get(0), row.get(1), row.get::<_, Option<bool>>(2).unwrap_or(false)))
                    .collect()
            }
            AccountsDatabase::Sqlite(path) => {
                let conn = sqlite(path, action)?;
                let mut statement = conn.prepare(QUERY).map_err(|e| db_error(action, &e))?;
                let rows = statement
                    .query_map([server_name], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get::<_, Option<bool>>(2)?.unwrap_or(false)))
                    })
                    .map_err(|e| db_error(action, &e))?;
                rows.collect::<Result<_, _>>().map_err(|e| db_error(action, &e))?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(localpart, account_type, deactivated)| {
                (
                    localpart,
                    Account { admin: Some(account_type == ADMIN), deactivated, locked: false, unfinished: false },
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
            "making the account an admin in dendrite_database"
        } else {
            "removing admin rights in dendrite_database"
        };
        let (to, from) = if admin { (ADMIN, USER) } else { (USER, ADMIN) };
        let changed = match self {
            AccountsDatabase::Postgres { .. } => {
                let mut guard = self.postgres(action).await?;
                let client = guard.as_mut().expect("connected above");
                let transaction = client.transaction().await.map_err(|e| db_error(action, &e))?;
                let changed = transaction
                    .execute(UPDATE, &[&to, &localpart, &server_name, &from])
                    .await
                    .map_err(|e| db_error(action, &e))?;
                if changed == 1 {
                    transaction.commit().await.map_err(|e| db_error(action, &e))?;
                }
                changed
            }
            AccountsDatabase::Sqlite(path) => {
                let mut conn = sqlite(path, action)?;
                let transaction = conn.transaction().map_err(|e| db_error(action, &e))?;
                let changed = transaction
                    .execute(UPDATE, (to, localpart, server_name, from))
                    .map_err(|e| db_error(action, &e))? as u64;
                if changed == 1 {
                    transaction.commit().map_err(|e| db_error(action, &e))?;
                }
                changed
            }
        };
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

    /// The PostgreSQL connection, opened on first use and kept for the run.
    async fn postgres(
        &self,
        action: &str,
    ) -> Result<tokio::sync::MutexGuard<'_, Option<tokio_postgres::Client>>, Error> {
        let AccountsDatabase::Postgres { url, client } = self else { unreachable!("called for PostgreSQL only") };
        let mut guard = client.lock().await;
        if guard.is_none() {
            let (connected, connection) =
                tokio_postgres::connect(url, tokio_postgres::NoTls).await.map_err(|e| db_error(action, &e))?;
            // The connection drives the socket; it ends when the client is dropped.
            tokio::spawn(connection);
            *guard = Some(connected);
        }
        Ok(guard)
    }
}

fn sqlite(path: &std::path::Path, action: &str) -> Result<rusqlite::Connection, Error> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| db_error(action, &format!("{}: {e}", path.display())))?;
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT).map_err(|e| db_error(action, &e))?;
    Ok(conn)
}

/// A database error, described without the connection string (which holds a password).
fn db_error(action: &str, error: &dyn std::fmt::Display) -> Error {
    Error::Database { action: action.to_string(), message: error.to_string() }
}
