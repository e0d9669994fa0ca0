//! The decision table: observed account and wanted account in, actions out.

use homeserver::{Operation, Secret, Setting, UserId, UserType};
use serde_json::{json, Value};

/// When an existing user's password is made the wanted one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdatePassword {
    /// Only when creating the user.
    OnCreate,
    /// Whenever it differs.
    Always,
}

/// The state an account should be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountState {
    /// It exists and can log in: created when missing, unlocked when locked, reactivated when
    /// deactivated.
    #[default]
    Present,
    /// It exists but cannot log in; a missing account is not created for that.
    Locked,
    /// Deactivated (with `erase`, erased too where the server can); a missing account is not
    /// created for that.
    Deactivated { erase: bool },
}

/// The account as it should be.
#[derive(Debug, Clone)]
pub struct Wanted<'a> {
    /// `None` where the state needs none (locked, deactivated); an action that needs one is then
    /// refused before any change.
    pub password: Option<&'a Secret>,
    pub state: AccountState,
    /// `None`: leave an existing account's flag alone; create a new one without admin rights.
    pub admin: Option<bool>,
    pub update_password: UpdatePassword,
    /// The display name the account should have (a new one is created with it).
    pub displayname: Option<&'a str>,
    /// The type a new account is created with; an existing account's is left as it is.
    pub user_type: Option<UserType>,
    /// An email address the account should have (added as verified).
    pub email: Option<&'a str>,
}

/// What is known of the account before any change. `None` is "could not be found out".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Observed {
    pub exists: Option<bool>,
    pub admin: Option<bool>,
    pub deactivated: bool,
    /// Locked (MAS): it exists but cannot log in until unlocked.
    pub locked: bool,
    pub password_matches: Option<bool>,
    /// Left by a creation that did not finish (created, its password refused): locked, without a
    /// usable password, until a run with `update_password: always` sets it (and unlocks it).
    pub unfinished: bool,
    /// Whether the account has the wanted email address; `None` when not asked.
    pub has_email: Option<bool>,
    /// Whether the account's display name is the wanted one; `None` when not asked.
    pub displayname_matches: Option<bool>,
}

/// One change to make on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create {
        admin: bool,
    },
    /// Create, for a backend that cannot tell beforehand whether the user exists: the server's
    /// refusal because it does is then a failure, since nothing else about the account can be
    /// checked.
    CreateUnlessExists {
        admin: bool,
    },
    SetAdmin(bool),
    SetPassword,
    AddEmail,
    SetDisplayname,
    Lock,
    Unlock,
    Deactivate {
        erase: bool,
    },
    /// Reactivates a deactivated account and sets its password.
    Reactivate,
}

/// Why nothing is done about an account that is not exactly as asked, said in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// Asked to be locked or deactivated, and missing: never created just to be disabled.
    Missing(AccountState),
    /// Asked to be locked, and deactivated: it cannot log in either way, and locking it would
    /// need it reactivated first.
    DeactivatedNotLocked,
}

/// How an existing account stands, for the diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Active,
    Locked,
    Deactivated,
}

impl Standing {
    fn of(observed: &Observed) -> Standing {
        if observed.deactivated {
            Standing::Deactivated
        } else if observed.locked {
            Standing::Locked
        } else {
            Standing::Active
        }
    }

    /// As the diff and the module's result say it.
    pub fn word(self) -> &'static str {
        match self {
            Standing::Active => "present",
            Standing::Locked => "locked",
            Standing::Deactivated => "deactivated",
        }
    }
}

/// The account as seen before or after: what a diff shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State {
    pub exists: Option<bool>,
    pub admin: Option<bool>,
    /// `None` when it does not exist, or that is not known.
    pub standing: Option<Standing>,
}

/// What to do, and what the account will look like once done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub before: State,
    pub after: State,
    /// Whether the password will be set; `None` when that is not known.
    pub password_changes: Option<bool>,
    /// Why nothing is done although the account is not exactly as asked.
    pub note: Option<Note>,
}

/// Why there is no honest plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{what} {user} needs `{setting}`")]
    Needs { what: &'static str, user: String, setting: Setting },
    #[error("{what} {user} needs its password")]
    NeedsPassword { what: &'static str, user: String },
    #[error("{}", unfinished(user, &own_name))]
    Unfinished { user: String },
    #[error("the password of {user} {problem}")]
    Password { user: String, problem: String },
    #[error("could not find out {what} of {user}")]
    NotObserved { what: &'static str, user: String },
    #[error("{}", cannot_predict(user, &own_name))]
    CannotPredict { user: String },
}

/// A setting named as it is written (`update_password`): the module's way, and `Display`'s.
fn own_name(setting: Setting) -> String {
    setting.to_string()
}

pub(crate) fn unfinished(user: &str, name: &impl Fn(Setting) -> String) -> String {
    format!(
        "{user} was left unfinished by an earlier run: created, but its password was refused, so it has none and is \
         locked; run again with {} (and a password MAS accepts) to set it and unlock the account",
        homeserver::assignment(name, Setting::UpdatePassword, "always")
    )
}

pub(crate) fn cannot_predict(user: &str, name: &impl Fn(Setting) -> String) -> String {
    let token = name(Setting::AdminAccessToken);
    format!(
        "cannot tell in check mode whether {user} exists: the password does not log in and `{token}` is not set; set \
         {token} to check without changing anything"
    )
}

impl Plan {
    pub fn changes(&self) -> bool {
        !self.actions.is_empty()
    }

    /// `{before, after}` for Ansible's diff: existence and admin flag, the state where either
    /// side is locked or deactivated, and whether the password changes where that is known.
    /// Never a value of a secret.
    pub fn diff(&self) -> (Value, Value) {
        let mut before = json!({"exists": self.before.exists, "admin": self.before.admin});
        let mut after = json!({"exists": self.after.exists, "admin": self.after.admin});
        let disabled = |state: &State| matches!(state.standing, Some(Standing::Locked | Standing::Deactivated));
        if disabled(&self.before) || disabled(&self.after) {
            before["state"] = self.before.standing.map(Standing::word).into();
            after["state"] = self.after.standing.map(Standing::word).into();
        }
        if let Some(changes) = self.password_changes {
            after["password"] = if changes { "changed" } else { "unchanged" }.into();
        }
        if self.actions.contains(&Action::AddEmail) {
            after["email"] = "added".into();
        }
        if self.actions.contains(&Action::SetDisplayname) {
            after["displayname"] = "changed".into();
        }
        (before, after)
    }
}

/// Decides what to do. `missing_for` gives the setting a backend lacks for an operation, so a
/// plan it could not finish is refused before anything is changed.
pub fn plan(
    user: &UserId,
    observed: &Observed,
    wanted: &Wanted<'_>,
    missing_for: impl Fn(Operation) -> Option<Setting>,
    check_mode: bool,
) -> Result<Plan, PlanError> {
    let require = |operation: Operation, what: &'static str| match missing_for(operation) {
        Some(setting) => Err(PlanError::Needs { what, user: user.to_string(), setting }),
        None => Ok(()),
    };
    let not_observed = |operation: Operation, what: &'static str| match missing_for(operation) {
        Some(setting) => PlanError::Needs { what: "checking", user: user.to_string(), setting },
        None => PlanError::NotObserved { what, user: user.to_string() },
    };
    let standing = (observed.exists == Some(true)).then(|| Standing::of(observed));
    let before = State { exists: observed.exists, admin: observed.admin, standing };
    let new_admin = wanted.admin.unwrap_or(false);
    let unchanged = |note| Plan { actions: Vec::new(), before, after: before, password_changes: None, note };
    // Locked or deactivated: only the state is made so; the other settings are left as they are.
    let disable = match wanted.state {
        AccountState::Present => None,
        AccountState::Locked => Some((Operation::Lock, "locking", Action::Lock)),
        AccountState::Deactivated { erase } => {
            if erase && observed.exists == Some(true) && !observed.deactivated {
                require(Operation::Erase, "erasing")?;
            }
            Some((Operation::Deactivate, "deactivating", Action::Deactivate { erase }))
        }
    };
    if let Some((operation, what, action)) = disable {
        return match (observed.exists, Standing::of(observed)) {
            (Some(false), _) => Ok(unchanged(Some(Note::Missing(wanted.state)))),
            (None, _) => Err(not_observed(operation, "whether it exists")),
            (Some(true), Standing::Deactivated) if action == Action::Lock => {
                Ok(unchanged(Some(Note::DeactivatedNotLocked)))
            }
            (Some(true), Standing::Deactivated) => Ok(unchanged(None)),
            (Some(true), Standing::Locked) if action == Action::Lock => Ok(unchanged(None)),
            (Some(true), _) => {
                require(operation, what)?;
                let standing = if action == Action::Lock { Standing::Locked } else { Standing::Deactivated };
                let after = State { standing: Some(standing), ..before };
                Ok(Plan { actions: vec![action], before, after, password_changes: None, note: None })
            }
        };
    }
    match observed.exists {
        // Missing, or unknown (then the server's refusal because it exists is a failure).
        Some(false) | None => {
            if observed.exists.is_none() && check_mode {
                return Err(PlanError::CannotPredict { user: user.to_string() });
            }
            require(Operation::Create, "creating")?;
            let create = if observed.exists.is_none() {
                Action::CreateUnlessExists { admin: new_admin }
            } else {
                Action::Create { admin: new_admin }
            };
            let mut actions = vec![create];
            if wanted.email.is_some() {
                require(Operation::AddEmail, "adding an email address to")?;
                actions.push(Action::AddEmail);
            }
            Ok(Plan {
                actions,
                before,
                after: State { exists: Some(true), admin: Some(new_admin), standing: Some(Standing::Active) },
                password_changes: Some(true),
                note: None,
            })
        }
        Some(true) => {
            let mut actions = Vec::new();
            // Reactivating sets the password (a deactivated account has no usable one); a locked
            // account cannot log in to have its password checked, so `always` sets it.
            let mut password_set = false;
            if observed.deactivated {
                require(Operation::Reactivate, "reactivating")?;
                actions.push(Action::Reactivate);
                password_set = true;
            } else if observed.unfinished && wanted.update_password == UpdatePassword::OnCreate {
                return Err(PlanError::Unfinished { user: user.to_string() });
            }
            if observed.locked && !observed.unfinished {
                require(Operation::Unlock, "unlocking")?;
                actions.push(Action::Unlock);
            }
            let mut admin = observed.admin;
            if let Some(want) = wanted.admin {
                match observed.admin {
                    Some(have) if have == want => {}
                    Some(_) => {
                        require(Operation::SetAdmin, if want { "promoting" } else { "demoting" })?;
                        actions.push(Action::SetAdmin(want));
                        admin = Some(want);
                    }
                    None => return Err(not_observed(Operation::SetAdmin, "the admin flag")),
                }
            }
            let locked_out = observed.locked && !observed.unfinished && !observed.deactivated;
            let password_changes = match wanted.update_password {
                _ if password_set => Some(true),
                UpdatePassword::OnCreate => None,
                UpdatePassword::Always => match (observed.password_matches, locked_out) {
                    (Some(true), _) => Some(false),
                    (Some(false), _) | (None, true) => {
                        require(Operation::SetPassword, "changing the password of")?;
                        actions.push(Action::SetPassword);
                        Some(true)
                    }
                    (None, false) => return Err(not_observed(Operation::LookUp, "whether the password is right")),
                },
            };
            if wanted.email.is_some() {
                match observed.has_email {
                    Some(true) => {}
                    Some(false) => {
                        require(Operation::AddEmail, "adding an email address to")?;
                        actions.push(Action::AddEmail);
                    }
                    None => return Err(not_observed(Operation::AddEmail, "the email addresses")),
                }
            }
            if wanted.displayname.is_some() {
                match observed.displayname_matches {
                    Some(true) => {}
                    Some(false) => {
                        require(Operation::SetDisplayname, "setting the display name of")?;
                        actions.push(Action::SetDisplayname);
                    }
                    None => {
                        require(Operation::SetDisplayname, "checking the display name of")?;
                        return Err(PlanError::NotObserved { what: "the display name", user: user.to_string() });
                    }
                }
            }
            let after = State { exists: Some(true), admin, standing: Some(Standing::Active) };
            Ok(Plan { actions, before, after, password_changes, note: None })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use homeserver::UserIdRules;

    /// What a backend was given: both secrets, only the shared secret, or only the admin token.
    #[derive(Clone, Copy, Debug)]
    enum Given {
        Both,
        SecretOnly,
        TokenOnly,
    }

    fn missing(given: Given) -> impl Fn(Operation) -> Option<Setting> {
        move |op| match (given, op) {
            (
                Given::SecretOnly,
                Operation::LookUp
                | Operation::SetAdmin
                | Operation::SetPassword
                | Operation::Lock
                | Operation::Unlock
                | Operation::Deactivate
                | Operation::Erase
                | Operation::Reactivate,
            ) => Some(Setting::AdminAccessToken),
            (Given::TokenOnly, Operation::Create) => Some(Setting::RegistrationSharedSecret),
            _ => None,
        }
    }

    fn john() -> UserId {
        UserId::parse("john", "example.com", &UserIdRules::SYNAPSE).unwrap()
    }

    fn run(
        observed: Observed,
        admin: Option<bool>,
        update_password: UpdatePassword,
        given: Given,
        check_mode: bool,
    ) -> Result<Plan, PlanError> {
        let password = Secret::new("pw");
        let wanted = crate::fake::want(&password, admin, update_password);
        plan(&john(), &observed, &wanted, missing(given), check_mode)
    }

    fn found(admin: bool, password_matches: Option<bool>) -> Observed {
        Observed { exists: Some(true), admin: Some(admin), password_matches, ..Observed::default() }
    }

    const MISSING: Observed = Observed {
        exists: Some(false),
        admin: None,
        deactivated: false,
        locked: false,
        password_matches: None,
        unfinished: false,
        has_email: None,
        displayname_matches: None,
    };
    const UNKNOWN: Observed = Observed { exists: None, ..MISSING };
    use UpdatePassword::{Always, OnCreate};

    #[test]
    fn the_table() {
        type Row = (Observed, Option<bool>, UpdatePassword, Given, Result<Vec<Action>, Setting>);
        let rows: Vec<Row> = vec![
            // Missing users are created with the wanted flag (no flag: not an admin).
            (MISSING, Some(true), OnCreate, Given::Both, Ok(vec![Action::Create { admin: true }])),
            (MISSING, Some(false), Always, Given::Both, Ok(vec![Action::Create { admin: false }])),
            (MISSING, None, OnCreate, Given::Both, Ok(vec![Action::Create { admin: false }])),
            (MISSING, Some(true), OnCreate, Given::TokenOnly, Err(Setting::RegistrationSharedSecret)),
            // Existing and as wanted: nothing.
            (found(true, None), Some(true), OnCreate, Given::Both, Ok(vec![])),
            (found(false, None), Some(false), OnCreate, Given::Both, Ok(vec![])),
            (found(true, None), None, OnCreate, Given::Both, Ok(vec![])),
            (found(false, Some(true)), Some(false), Always, Given::Both, Ok(vec![])),
            (found(true, Some(true)), Some(true), Always, Given::SecretOnly, Ok(vec![])),
            // Promote, demote, password.
            (found(false, None), Some(true), OnCreate, Given::Both, Ok(vec![Action::SetAdmin(true)])),
            (found(true, None), Some(false), OnCreate, Given::TokenOnly, Ok(vec![Action::SetAdmin(false)])),
            (found(true, Some(false)), Some(true), Always, Given::Both, Ok(vec![Action::SetPassword])),
            (
                found(true, Some(false)),
                Some(false),
                Always,
                Given::Both,
                Ok(vec![Action::SetAdmin(false), Action::SetPassword]),
            ),
            // Without the admin token (the account was seen through a login).
            (found(false, Some(true)), Some(true), OnCreate, Given::SecretOnly, Err(Setting::AdminAccessToken)),
            (found(true, Some(true)), Some(false), OnCreate, Given::SecretOnly, Err(Setting::AdminAccessToken)),
            // Unknown existence: create, and let the server refuse if it exists.
            (UNKNOWN, Some(true), OnCreate, Given::SecretOnly, Ok(vec![Action::CreateUnlessExists { admin: true }])),
            (UNKNOWN, None, Always, Given::SecretOnly, Ok(vec![Action::CreateUnlessExists { admin: false }])),
        ];
        for (i, (observed, admin, update, given, expected)) in rows.into_iter().enumerate() {
            let got = run(observed, admin, update, given, false);
            match (&got, &expected) {
                (Ok(plan), Ok(actions)) => assert_eq!(&plan.actions, actions, "row {i}"),
                (Err(PlanError::Needs { setting, .. }), Err(p)) => assert_eq!(setting, p, "row {i}"),
                _ => panic!("row {i}: got {got:?}, expected {expected:?}"),
            }
            // Check mode predicts the same plan (it only may refuse to guess).
            let checked = run(observed, admin, update, given, true);
            match (&got, checked) {
                (_, Err(PlanError::CannotPredict { .. })) => assert_eq!(observed.exists, None, "row {i}"),
                (Ok(real), Ok(check)) => assert_eq!(real, &check, "row {i}"),
                (Err(real), Err(check)) => assert_eq!(real, &check, "row {i}"),
                (real, check) => panic!("row {i}: real {real:?}, check {check:?}"),
            }
        }
    }

    #[test]
    fn an_unseen_admin_flag_needs_what_would_change_it() {
        // Dendrite without its database: the account exists, its flag is unknown.
        let observed = Observed { exists: Some(true), ..MISSING };
        let password = Secret::new("pw");
        let wanted = Wanted {
            password: Some(&password),
            state: AccountState::Present,
            admin: Some(true),
            update_password: OnCreate,
            displayname: None,
            user_type: None,
            email: None,
        };
        let missing = |op| (op == Operation::SetAdmin).then_some(Setting::DendriteDatabase);
        let err = plan(&john(), &observed, &wanted, missing, false).unwrap_err();
        assert_eq!(
            err,
            PlanError::Needs { what: "checking", user: "@john:example.com".into(), setting: Setting::DendriteDatabase }
        );
        // Nothing wanted of the flag: nothing to check.
        let wanted = Wanted { admin: None, ..wanted };
        assert_eq!(plan(&john(), &observed, &wanted, missing, false).unwrap().actions, vec![]);
    }

    #[test]
    fn check_mode_refuses_to_guess_existence() {
        let err = run(UNKNOWN, Some(true), OnCreate, Given::SecretOnly, true).unwrap_err();
        assert!(err.to_string().contains("admin_access_token"), "{err}");
    }

    fn wanting(state: AccountState, update_password: UpdatePassword, password: Option<&Secret>) -> Wanted<'_> {
        Wanted { password, state, admin: None, update_password, displayname: None, user_type: None, email: None }
    }

    const PRESENT: AccountState = AccountState::Present;
    const LOCKED: AccountState = AccountState::Locked;
    const DEACTIVATED: AccountState = AccountState::Deactivated { erase: false };
    const ERASED: AccountState = AccountState::Deactivated { erase: true };

    #[test]
    fn the_state_table() {
        let active = found(false, Some(true));
        let locked = Observed { locked: true, ..found(false, None) };
        let deactivated = Observed { deactivated: true, ..found(false, None) };
        let create = Action::Create { admin: false };
        let (deactivate, erase) = (Action::Deactivate { erase: false }, Action::Deactivate { erase: true });
        let missing_note = |state| Some(Note::Missing(state));
        type Row = (Observed, AccountState, UpdatePassword, Vec<Action>, Option<Note>, Option<Standing>);
        let rows: Vec<Row> = vec![
            // From missing: created only to be present; never to be disabled.
            (MISSING, PRESENT, OnCreate, vec![create], None, Some(Standing::Active)),
            (MISSING, LOCKED, OnCreate, vec![], missing_note(LOCKED), None),
            (MISSING, DEACTIVATED, Always, vec![], missing_note(DEACTIVATED), None),
            (MISSING, ERASED, OnCreate, vec![], missing_note(ERASED), None),
            // From present.
            (active, PRESENT, OnCreate, vec![], None, Some(Standing::Active)),
            (active, PRESENT, Always, vec![], None, Some(Standing::Active)),
            (active, LOCKED, OnCreate, vec![Action::Lock], None, Some(Standing::Locked)),
            (active, DEACTIVATED, OnCreate, vec![deactivate], None, Some(Standing::Deactivated)),
            (active, ERASED, Always, vec![erase], None, Some(Standing::Deactivated)),
            // From locked: present unlocks (and with always sets the password it cannot check).
            (locked, PRESENT, OnCreate, vec![Action::Unlock], None, Some(Standing::Active)),
            (locked, PRESENT, Always, vec![Action::Unlock, Action::SetPassword], None, Some(Standing::Active)),
            (locked, LOCKED, Always, vec![], None, Some(Standing::Locked)),
            (locked, DEACTIVATED, OnCreate, vec![deactivate], None, Some(Standing::Deactivated)),
            (locked, ERASED, OnCreate, vec![erase], None, Some(Standing::Deactivated)),
            // From deactivated: present reactivates with the password; nothing else undoes it.
            (deactivated, PRESENT, OnCreate, vec![Action::Reactivate], None, Some(Standing::Active)),
            (deactivated, PRESENT, Always, vec![Action::Reactivate], None, Some(Standing::Active)),
            (deactivated, LOCKED, OnCreate, vec![], Some(Note::DeactivatedNotLocked), Some(Standing::Deactivated)),
            (deactivated, DEACTIVATED, OnCreate, vec![], None, Some(Standing::Deactivated)),
            (deactivated, ERASED, OnCreate, vec![], None, Some(Standing::Deactivated)),
        ];
        let password = Secret::new("pw");
        for (i, (observed, state, update, actions, note, standing)) in rows.into_iter().enumerate() {
            for password in [Some(&password), None] {
                let wanted = wanting(state, update, password);
                let got = plan(&john(), &observed, &wanted, missing(Given::Both), false).unwrap();
                assert_eq!(got.actions, actions, "row {i}");
                assert_eq!(got.note, note, "row {i}");
                assert_eq!(got.after.standing, standing, "row {i}");
                assert_eq!(got.before.standing, observed.exists.and_then(|e| e.then(|| Standing::of(&observed))));
                let password_set = actions.iter().any(|a| matches!(a, Action::Create { .. } | Action::Reactivate));
                if password_set {
                    assert_eq!(got.password_changes, Some(true), "row {i}");
                }
                // Check mode predicts exactly.
                let checked = plan(&john(), &observed, &wanted, missing(Given::Both), true).unwrap();
                assert_eq!(checked, got, "row {i}");
            }
        }
    }

    #[test]
    fn disabling_needs_what_changes_the_state() {
        let active = found(false, Some(true));
        for state in [LOCKED, DEACTIVATED, ERASED] {
            for check_mode in [false, true] {
                // Without the admin token: neither the look-up nor the change.
                let err =
                    plan(&john(), &active, &wanting(state, OnCreate, None), missing(Given::SecretOnly), check_mode)
                        .unwrap_err();
                assert!(matches!(err, PlanError::Needs { setting: Setting::AdminAccessToken, .. }), "{state:?}: {err}");
                let err =
                    plan(&john(), &UNKNOWN, &wanting(state, OnCreate, None), missing(Given::SecretOnly), check_mode)
                        .unwrap_err();
                assert!(matches!(err, PlanError::Needs { what: "checking", .. }), "{state:?}: {err}");
            }
        }
        // Erasing is its own operation: a backend may deactivate without erasing.
        let no_erase = |op| (op == Operation::Erase).then_some(Setting::MasBackend);
        let err = plan(&john(), &active, &wanting(ERASED, OnCreate, None), no_erase, false).unwrap_err();
        assert!(matches!(err, PlanError::Needs { what: "erasing", .. }), "{err}");
        let plan = plan(&john(), &active, &wanting(DEACTIVATED, OnCreate, None), no_erase, false).unwrap();
        assert_eq!(plan.actions, vec![Action::Deactivate { erase: false }]);
    }

    #[test]
    fn the_diff_shows_the_state_when_it_is_not_plain_present() {
        let password = Secret::new("pw");
        let active = found(true, Some(true));
        let lock = plan(&john(), &active, &wanting(LOCKED, OnCreate, None), missing(Given::Both), false).unwrap();
        assert_eq!(
            lock.diff(),
            (
                json!({"exists": true, "admin": true, "state": "present"}),
                json!({"exists": true, "admin": true, "state": "locked"})
            )
        );
        let deactivated = Observed { deactivated: true, ..active };
        let wanted = wanting(PRESENT, OnCreate, Some(&password));
        let back = plan(&john(), &deactivated, &wanted, missing(Given::Both), false).unwrap();
        assert_eq!(
            back.diff(),
            (
                json!({"exists": true, "admin": true, "state": "deactivated"}),
                json!({"exists": true, "admin": true, "state": "present", "password": "changed"})
            )
        );
        let text = format!("{:?}", back.diff());
        assert!(!text.contains("\"pw\""), "{text}");
    }

    #[test]
    fn an_unfinished_account_is_not_passed_as_unchanged() {
        // The password-less, locked account a refused creation leaves: on_create names the fix,
        // always sets the password (the backend unlocks it), and a wanted flag is set too.
        let observed = Observed { locked: true, unfinished: true, ..found(false, Some(false)) };
        for check_mode in [false, true] {
            let err = run(observed, None, OnCreate, Given::Both, check_mode).unwrap_err();
            assert!(matches!(err, PlanError::Unfinished { .. }), "{err}");
            assert!(err.to_string().contains("update_password: always"), "{err}");
            let plan = run(observed, None, Always, Given::Both, check_mode).unwrap();
            assert_eq!(plan.actions, vec![Action::SetPassword]);
            let plan = run(observed, Some(true), Always, Given::Both, check_mode).unwrap();
            assert_eq!(plan.actions, vec![Action::SetAdmin(true), Action::SetPassword]);
        }
    }

    #[test]
    fn after_state_is_the_wanted_one() {
        for observed in [MISSING, found(false, Some(false)), found(true, Some(true))] {
            for admin in [Some(true), Some(false)] {
                let plan = run(observed, Some(admin.unwrap()), Always, Given::Both, false).unwrap();
                assert_eq!(plan.after, State { exists: Some(true), admin, standing: Some(Standing::Active) });
                assert_eq!(plan.before.exists, observed.exists);
            }
        }
    }

    #[test]
    fn diff_names_states_never_values() {
        let plan = run(found(true, Some(false)), Some(false), Always, Given::Both, false).unwrap();
        let (before, after) = plan.diff();
        assert_eq!(before, json!({"exists": true, "admin": true}));
        assert_eq!(after, json!({"exists": true, "admin": false, "password": "changed"}));
    }

    #[test]
    fn the_display_name_table() {
        // (account seen, wanted state, what the backend lacks, check mode's and the real run's answer)
        type Row = (Observed, AccountState, Option<Setting>, Result<Vec<Action>, Setting>);
        let with = |matches| Observed { displayname_matches: matches, ..found(false, None) };
        let locked = Observed { locked: true, ..with(Some(false)) };
        let deactivated = Observed { deactivated: true, ..with(Some(false)) };
        let rows: Vec<Row> = vec![
            // Created with the name, whatever else is seen.
            (MISSING, PRESENT, None, Ok(vec![Action::Create { admin: false }])),
            (MISSING, PRESENT, Some(Setting::AdminAccessToken), Ok(vec![Action::Create { admin: false }])),
            // Matches: nothing; differs: set.
            (with(Some(true)), PRESENT, None, Ok(vec![])),
            (with(Some(false)), PRESENT, None, Ok(vec![Action::SetDisplayname])),
            // Not seen: what would show it is named, before any change.
            (with(None), PRESENT, Some(Setting::AdminAccessToken), Err(Setting::AdminAccessToken)),
            (with(None), PRESENT, Some(Setting::DendriteDatabase), Err(Setting::DendriteDatabase)),
            // Made present again, then named.
            (locked, PRESENT, None, Ok(vec![Action::Unlock, Action::SetDisplayname])),
            (deactivated, PRESENT, None, Ok(vec![Action::Reactivate, Action::SetDisplayname])),
            // Locked or deactivated: the name is left alone, and need not be seen.
            (with(Some(false)), LOCKED, None, Ok(vec![Action::Lock])),
            (with(None), LOCKED, Some(Setting::AdminAccessToken), Ok(vec![Action::Lock])),
            (with(Some(false)), DEACTIVATED, None, Ok(vec![Action::Deactivate { erase: false }])),
            (locked, LOCKED, None, Ok(vec![])),
            (MISSING, DEACTIVATED, None, Ok(vec![])),
        ];
        let password = Secret::new("pw");
        let named = |state| Wanted { displayname: Some("John"), ..wanting(state, OnCreate, Some(&password)) };
        for (i, (observed, state, lacks, expected)) in rows.into_iter().enumerate() {
            let wanted = named(state);
            let missing = |op| if op == Operation::SetDisplayname { lacks } else { None };
            let real = plan(&john(), &observed, &wanted, missing, false);
            let check = plan(&john(), &observed, &wanted, missing, true);
            assert_eq!(real, check, "row {i}: check mode predicts the real run");
            match (real, expected) {
                (Ok(plan), Ok(actions)) => assert_eq!(plan.actions, actions, "row {i}"),
                (Err(PlanError::Needs { setting, what, .. }), Err(wanted)) => {
                    assert_eq!((setting, what), (wanted, "checking the display name of"), "row {i}")
                }
                (got, expected) => panic!("row {i}: got {got:?}, expected {expected:?}"),
            }
        }
        // Unseen with nothing missing: said so, never passed as unchanged.
        let wanted = named(PRESENT);
        let err = plan(&john(), &with(None), &wanted, |_| None, false).unwrap_err();
        assert_eq!(err.to_string(), "could not find out the display name of @john:example.com");
        // Its diff says the name changes, and nothing else.
        let plan = plan(&john(), &with(Some(false)), &wanted, |_| None, false).unwrap();
        assert_eq!(plan.diff().1, json!({"exists": true, "admin": false, "displayname": "changed"}));
    }
}
