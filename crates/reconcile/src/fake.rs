//! A homeserver in memory, for the tests of the engine and of the list driver.
//!
//! It lives here, behind `#[cfg(test)]`, rather than in `tests/support/`: its tests sit next to
//! the code they test (`engine.rs`, `many.rs`) and may reach what is crate-private
//! (`ensure_seen`), everything builds into the one unit-test binary (one link, not one per test
//! file, on small build machines), and none of it is ever compiled into the library.
//!
//! What it offers: accounts by localpart; failures scripted per call and per user; every call
//! recorded in order (so a test can say "nothing was written"); the most calls in flight at
//! once (each call yields to the runtime at least once, so concurrent ones do overlap);
//! "another run created it meanwhile" (a create that finds the account made just before it and
//! answers `AlreadyExists`); MAS's half-done creation (created, password refused, locked and
//! unfinished); and the knobs of the trait (what is missing, what check mode cannot foresee,
//! passwords refused, listing offered or not, admin flag visible or not).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use homeserver::{
    Account, Backend, Error, Listed, Login, Lookup, NewAccount, Operation, Secret, Setting, UserId, UserIdRules,
    UserType,
};

use crate::plan::{AccountState, UpdatePassword, Wanted};

pub(crate) const SERVER: &str = "example.com";

/// `@localpart:example.com`.
pub(crate) fn user(localpart: &str) -> UserId {
    UserId::parse(localpart, SERVER, &UserIdRules::SYNAPSE).expect("a valid test user")
}

/// A user wanted present with this password, flag and password rule, and nothing else asked.
pub(crate) fn want(password: &Secret, admin: Option<bool>, update_password: UpdatePassword) -> Wanted<'_> {
    Wanted {
        password: Some(password),
        state: AccountState::Present,
        admin,
        update_password,
        displayname: None,
        user_type: None,
        email: None,
    }
}

/// A refusal from the server, as a scripted failure.
pub(crate) fn refused(action: &str) -> Error {
    Error::Refused {
        action: action.to_string(),
        status: 500,
        errcode: Some("M_UNKNOWN".into()),
        message: "scripted failure".into(),
        hint: None,
        about: &[],
    }
}

/// A call the engine made to the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Call {
    List,
    LookUp,
    LogIn,
    Create,
    SetAdmin,
    SetPassword,
    HasEmail,
    AddEmail,
    SetLocked,
    Deactivate,
    Reactivate,
    Displayname,
    SetDisplayname,
}

impl Call {
    /// Whether the call changes the server.
    pub(crate) fn writes(self) -> bool {
        matches!(
            self,
            Call::Create
                | Call::SetAdmin
                | Call::SetPassword
                | Call::AddEmail
                | Call::SetDisplayname
                | Call::SetLocked
                | Call::Deactivate
                | Call::Reactivate
        )
    }
}

/// An account as the fake server keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Stored {
    /// `None`: it has no usable password (a half-done creation).
    pub password: Option<String>,
    pub admin: bool,
    pub deactivated: bool,
    pub locked: bool,
    pub unfinished: bool,
    pub displayname: Option<String>,
    pub user_type: Option<UserType>,
    pub emails: Vec<String>,
    /// Deactivated with `erase`.
    pub erased: bool,
}

impl Stored {
    pub(crate) fn new(password: &str, admin: bool) -> Stored {
        Stored { password: Some(password.to_string()), admin, ..Stored::default() }
    }
}

/// The fake server. Built with the chained setters, then handed to `ensure`/`ensure_many`.
pub(crate) struct Fake {
    accounts: RefCell<HashMap<String, Stored>>,
    calls: RefCell<Vec<(Call, String)>>,
    /// (call, user or any user, error): every matching call fails, before it changes anything.
    failures: Vec<(Call, Option<String>, Error)>,
    /// Accounts another run creates just before our create of them (which then finds them).
    races: RefCell<HashMap<String, Stored>>,
    /// Accounts the look-up and the listing do not show (a stale replica): a race that repeats.
    hidden: HashSet<String>,
    /// Users whose creation stops half way, as MAS's does when it refuses the password.
    half_done: HashSet<String>,
    /// Extra yields per call for a user: a slow answer, to make calls finish out of order.
    slow: HashMap<String, usize>,
    missing: Vec<(Operation, Setting)>,
    unsupported: Vec<(Operation, &'static str)>,
    /// Operations that need the account's own password (Dendrite's deactivation).
    own_password: Vec<Operation>,
    unforeseeable: Vec<(Operation, &'static str)>,
    lists: bool,
    /// Accounts an application service registered (the listing does not say; a look-up does).
    appservices: HashSet<String>,
    /// Look-ups and listings show the display name (Synapse's admin API does).
    names_shown: bool,
    admin_unseen: bool,
    password_problem: Option<String>,
    passwords_refused: Option<String>,
    in_flight: Cell<usize>,
    max_in_flight: Cell<usize>,
    expected_logins: Cell<usize>,
}

impl Fake {
    /// A server that can do everything (email included), looks users up one by one, and
    /// shows the admin flag.
    pub(crate) fn new() -> Fake {
        Fake {
            accounts: RefCell::default(),
            calls: RefCell::default(),
            failures: Vec::new(),
            races: RefCell::default(),
            hidden: HashSet::new(),
            half_done: HashSet::new(),
            slow: HashMap::new(),
            missing: Vec::new(),
            unsupported: Vec::new(),
            own_password: Vec::new(),
            unforeseeable: Vec::new(),
            lists: false,
            appservices: HashSet::new(),
            names_shown: false,
            admin_unseen: false,
            password_problem: None,
            passwords_refused: None,
            in_flight: Cell::new(0),
            max_in_flight: Cell::new(0),
            expected_logins: Cell::new(0),
        }
    }

    pub(crate) fn with(self, localpart: &str, account: Stored) -> Fake {
        self.accounts.borrow_mut().insert(localpart.to_string(), account);
        self
    }

    /// `missing_for(operation)` names `parameter`.
    pub(crate) fn without(mut self, operation: Operation, setting: Setting) -> Fake {
        self.missing.push((operation, setting));
        self
    }

    /// `unsupported(operation)` says `why`: this server cannot do it at all.
    pub(crate) fn cannot(mut self, operation: Operation, why: &'static str) -> Fake {
        self.unsupported.push((operation, why));
        self
    }

    /// `operation` needs the account's own password, as Dendrite's deactivation does.
    pub(crate) fn with_own_password_for(mut self, operation: Operation) -> Fake {
        self.own_password.push(operation);
        self
    }

    /// `call` fails with `error` for `localpart` (`None`: for everyone).
    pub(crate) fn failing(mut self, call: Call, localpart: Option<&str>, error: Error) -> Fake {
        self.failures.push((call, localpart.map(str::to_string), error));
        self
    }

    /// Another run creates `account` between our look-up and our create.
    pub(crate) fn racing(self, localpart: &str, account: Stored) -> Fake {
        self.races.borrow_mut().insert(localpart.to_string(), account);
        self
    }

    /// `account` exists, but look-ups and listings do not show it.
    pub(crate) fn hiding(mut self, localpart: &str, account: Stored) -> Fake {
        self.hidden.insert(localpart.to_string());
        self.with(localpart, account)
    }

    pub(crate) fn half_done(mut self, localpart: &str) -> Fake {
        self.half_done.insert(localpart.to_string());
        self
    }

    pub(crate) fn slow(mut self, localpart: &str, yields: usize) -> Fake {
        self.slow.insert(localpart.to_string(), yields);
        self
    }

    pub(crate) fn caveat(mut self, operation: Operation, text: &'static str) -> Fake {
        self.unforeseeable.push((operation, text));
        self
    }

    /// `list_accounts` answers with every account.
    pub(crate) fn listing(mut self) -> Fake {
        self.lists = true;
        self
    }

    /// `localpart` was registered by an application service.
    pub(crate) fn appservice(mut self, localpart: &str) -> Fake {
        self.appservices.insert(localpart.to_string());
        self
    }

    /// Look-ups and listings show the display name, so that it need not be read on its own.
    pub(crate) fn showing_names(mut self) -> Fake {
        self.names_shown = true;
        self
    }

    /// Look-ups and listings cannot see the admin flag, and neither can a login (Dendrite
    /// without its database).
    pub(crate) fn admin_unseen(mut self) -> Fake {
        self.admin_unseen = true;
        self
    }

    pub(crate) fn refusing_password(mut self, problem: &str) -> Fake {
        self.password_problem = Some(problem.to_string());
        self
    }

    pub(crate) fn refusing_passwords(mut self, why: &str) -> Fake {
        self.passwords_refused = Some(why.to_string());
        self
    }

    // What the tests read back.

    pub(crate) fn account(&self, localpart: &str) -> Option<Stored> {
        self.accounts.borrow().get(localpart).cloned()
    }

    pub(crate) fn calls(&self) -> Vec<(Call, String)> {
        self.calls.borrow().clone()
    }

    pub(crate) fn count(&self, call: Call) -> usize {
        self.calls.borrow().iter().filter(|(c, _)| *c == call).count()
    }

    /// The calls that changed (or tried to change) the server.
    pub(crate) fn writes(&self) -> Vec<(Call, String)> {
        self.calls.borrow().iter().filter(|(c, _)| c.writes()).cloned().collect()
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.max_in_flight.get()
    }

    pub(crate) fn expected_logins(&self) -> usize {
        self.expected_logins.get()
    }

    /// Records the call, holds it in flight over at least one yield, then fails it if scripted.
    async fn enter(&self, call: Call, localpart: &str) -> Result<InFlight<'_>, Error> {
        self.calls.borrow_mut().push((call, localpart.to_string()));
        let flight = InFlight::new(self);
        for _ in 0..1 + self.slow.get(localpart).copied().unwrap_or(0) {
            tokio::task::yield_now().await;
        }
        let scripted =
            self.failures.iter().find(|(c, who, _)| *c == call && (who.is_none() || who.as_deref() == Some(localpart)));
        match scripted {
            Some((_, _, error)) => Err(error.clone()),
            None => Ok(flight),
        }
    }

    fn seen(&self, stored: &Stored) -> Account {
        Account {
            admin: (!self.admin_unseen).then_some(stored.admin),
            deactivated: stored.deactivated,
            locked: stored.locked,
            unfinished: stored.unfinished,
            displayname: self.names_shown.then(|| stored.displayname.clone()),
        }
    }

    fn change(&self, user: &UserId, action: &str, change: impl FnOnce(&mut Stored)) -> Result<(), Error> {
        match self.accounts.borrow_mut().get_mut(user.localpart()) {
            Some(stored) => {
                change(stored);
                Ok(())
            }
            None => Err(Error::Refused {
                action: format!("{action} {user}"),
                status: 404,
                errcode: Some("M_NOT_FOUND".into()),
                message: "no such user".into(),
                hint: None,
                about: &[],
            }),
        }
    }
}

/// One call in flight, counted until dropped.
struct InFlight<'a>(&'a Fake);

impl<'a> InFlight<'a> {
    fn new(fake: &'a Fake) -> InFlight<'a> {
        let now = fake.in_flight.get() + 1;
        fake.in_flight.set(now);
        fake.max_in_flight.set(fake.max_in_flight.get().max(now));
        InFlight(fake)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.set(self.0.in_flight.get() - 1);
    }
}

impl Backend for Fake {
    fn server_name(&self) -> &str {
        SERVER
    }

    fn rules(&self) -> UserIdRules {
        UserIdRules::SYNAPSE
    }

    fn password_problem(&self, _password: &Secret) -> Option<String> {
        self.password_problem.clone()
    }

    fn passwords_refused(&self) -> Option<String> {
        self.passwords_refused.clone()
    }

    fn missing_for(&self, operation: Operation) -> Option<Setting> {
        self.missing.iter().find(|(op, _)| *op == operation).map(|(_, parameter)| *parameter)
    }

    fn unsupported(&self, operation: Operation) -> Option<&'static str> {
        self.unsupported.iter().find(|(op, _)| *op == operation).map(|(_, why)| *why)
    }

    fn needs_own_password(&self, operation: Operation) -> bool {
        self.own_password.contains(&operation)
    }

    fn unforeseeable(&self, operation: Operation) -> Option<&'static str> {
        self.unforeseeable.iter().find(|(op, _)| *op == operation).map(|(_, text)| *text)
    }

    fn expect_logins(&self, count: usize) {
        self.expected_logins.set(self.expected_logins.get() + count);
    }

    async fn list_accounts(&self, _wanted: usize) -> Result<Option<HashMap<String, Account>>, Error> {
        let _flight = self.enter(Call::List, "").await?;
        if !self.lists {
            return Ok(None);
        }
        let accounts = self.accounts.borrow();
        let shown = accounts.iter().filter(|(localpart, _)| !self.hidden.contains(*localpart));
        Ok(Some(shown.map(|(localpart, stored)| (localpart.clone(), self.seen(stored))).collect()))
    }

    async fn list_everyone(&self) -> Result<Option<Vec<Listed>>, Error> {
        let _flight = self.enter(Call::List, "").await?;
        if !self.lists {
            return Ok(None);
        }
        let mut everyone: Vec<Listed> = self
            .accounts
            .borrow()
            .iter()
            .map(|(localpart, stored)| Listed {
                localpart: localpart.clone(),
                account: self.seen(stored),
                guest: false,
                appservice: None,
            })
            .collect();
        everyone.sort_by(|a, b| a.localpart.cmp(&b.localpart));
        Ok(Some(everyone))
    }

    async fn appservice(&self, user: &UserId) -> Result<Option<bool>, Error> {
        let _flight = self.enter(Call::LookUp, user.localpart()).await?;
        Ok(Some(self.appservices.contains(user.localpart())))
    }

    async fn look_up(&self, user: &UserId) -> Result<Lookup, Error> {
        let _flight = self.enter(Call::LookUp, user.localpart()).await?;
        if self.hidden.contains(user.localpart()) {
            return Ok(Lookup::Missing);
        }
        Ok(match self.accounts.borrow().get(user.localpart()) {
            Some(stored) => Lookup::Found(self.seen(stored)),
            None => Lookup::Missing,
        })
    }

    async fn log_in(&self, user: &UserId, password: &Secret) -> Result<Option<Login>, Error> {
        let _flight = self.enter(Call::LogIn, user.localpart()).await?;
        let accounts = self.accounts.borrow();
        let login = accounts.get(user.localpart()).filter(|stored| {
            !stored.deactivated && !stored.locked && stored.password.as_deref() == Some(password.expose())
        });
        Ok(login.map(|stored| Login { admin: (!self.admin_unseen).then_some(stored.admin) }))
    }

    async fn create(&self, user: &UserId, account: &NewAccount<'_>) -> Result<(), Error> {
        let _flight = self.enter(Call::Create, user.localpart()).await?;
        let localpart = user.localpart().to_string();
        let already = Error::AlreadyExists { user_id: user.to_string() };
        if let Some(theirs) = self.races.borrow_mut().remove(&localpart) {
            self.accounts.borrow_mut().insert(localpart, theirs);
            return Err(already);
        }
        let mut accounts = self.accounts.borrow_mut();
        if accounts.contains_key(&localpart) {
            return Err(already);
        }
        if self.half_done.contains(&localpart) {
            let left = Stored { password: None, locked: true, unfinished: true, ..Stored::default() };
            accounts.insert(localpart, left);
            return Err(Error::HalfDone {
                user_id: user.to_string(),
                cause: "setting its password: refused; it is locked, without a usable password".into(),
            });
        }
        let stored = Stored {
            password: Some(account.password.expose().to_string()),
            admin: account.admin,
            displayname: account.displayname.map(str::to_string),
            user_type: account.user_type,
            ..Stored::default()
        };
        accounts.insert(localpart, stored);
        Ok(())
    }

    async fn set_admin(&self, user: &UserId, admin: bool) -> Result<(), Error> {
        let _flight = self.enter(Call::SetAdmin, user.localpart()).await?;
        self.change(user, "setting the admin flag of", |stored| stored.admin = admin)
    }

    async fn set_password(&self, user: &UserId, password: &Secret) -> Result<(), Error> {
        let _flight = self.enter(Call::SetPassword, user.localpart()).await?;
        self.change(user, "setting the password of", |stored| {
            stored.password = Some(password.expose().to_string());
            // As MAS's backend does: setting the password finishes an unfinished account.
            if stored.unfinished {
                stored.unfinished = false;
                stored.locked = false;
            }
        })
    }

    async fn has_email(&self, user: &UserId, email: &str) -> Result<bool, Error> {
        let _flight = self.enter(Call::HasEmail, user.localpart()).await?;
        Ok(self.accounts.borrow().get(user.localpart()).is_some_and(|s| s.emails.iter().any(|e| e == email)))
    }

    async fn add_email(&self, user: &UserId, email: &str) -> Result<(), Error> {
        let _flight = self.enter(Call::AddEmail, user.localpart()).await?;
        self.change(user, "adding an email address to", |stored| stored.emails.push(email.to_string()))
    }

    async fn set_locked(&self, user: &UserId, locked: bool) -> Result<(), Error> {
        let _flight = self.enter(Call::SetLocked, user.localpart()).await?;
        self.change(user, "locking or unlocking", |stored| {
            stored.locked = locked;
            stored.unfinished = false;
        })
    }

    async fn deactivate(&self, user: &UserId, erase: bool, password: Option<&Secret>) -> Result<(), Error> {
        let _flight = self.enter(Call::Deactivate, user.localpart()).await?;
        let own = self.own_password.contains(&Operation::Deactivate);
        let right = |stored: &Stored| stored.password.as_deref() == password.map(Secret::expose);
        if own && !self.accounts.borrow().get(user.localpart()).is_some_and(right) {
            return Err(refused("deactivating with a password that does not log in"));
        }
        self.change(user, "deactivating", |stored| {
            stored.deactivated = true;
            stored.erased |= erase;
        })
    }

    async fn reactivate(&self, user: &UserId, password: &Secret) -> Result<(), Error> {
        let _flight = self.enter(Call::Reactivate, user.localpart()).await?;
        self.change(user, "reactivating", |stored| {
            stored.deactivated = false;
            stored.password = Some(password.expose().to_string());
        })
    }

    async fn displayname(&self, user: &UserId) -> Result<Option<String>, Error> {
        let _flight = self.enter(Call::Displayname, user.localpart()).await?;
        Ok(self.accounts.borrow().get(user.localpart()).and_then(|stored| stored.displayname.clone()))
    }

    async fn set_displayname(&self, user: &UserId, name: &str) -> Result<(), Error> {
        let _flight = self.enter(Call::SetDisplayname, user.localpart()).await?;
        self.change(user, "setting the display name of", |stored| stored.displayname = Some(name.to_string()))
    }
}
