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

/// The account as it should be.
#[derive(Debug, Clone)]
pub struct Wanted<'a> {
    pub password: &'a Secret,
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
}

/// The account as seen before or after: what a diff shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State {
    pub exists: Option<bool>,
    pub admin: Option<bool>,
}

/// What to do, and what the account will look like once done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub before: State,
    pub after: State,
    /// Whether the password will be set; `None` when that is not known.
    pub password_changes: Option<bool>,
}

/// Why there is no honest plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{what} {user} needs `{setting}`")]
    Needs { what: &'static str, user: String, setting: Setting },
    #[error(
        "{user} exists but is deactivated; reactivate it on the server first (this tool does not reactivate accounts)"
    )]
    Deactivated { user: String },
    #[error(
        "{user} is locked in MAS: it cannot log in, so this tool leaves it alone; unlock it (mas-cli manage unlock-user {localpart}, or the Admin API's POST /api/admin/v1/users/{{id}}/unlock) and run again, or take it out of the list"
    )]
    Locked { user: String, localpart: String },
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

    /// `{before, after}` for Ansible's diff: existence and admin flag, and whether the password
    /// changes where that is known. Never a value of a secret.
    pub fn diff(&self) -> (Value, Value) {
        let before = json!({"exists": self.before.exists, "admin": self.before.admin});
        let mut after = json!({"exists": self.after.exists, "admin": self.after.admin});
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
    let before = State { exists: observed.exists, admin: observed.admin };
    let new_admin = wanted.admin.unwrap_or(false);
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
                after: State { exists: Some(true), admin: Some(new_admin) },
                password_changes: Some(true),
            })
        }
        Some(true) => {
            if observed.deactivated {
                return Err(PlanError::Deactivated { user: user.to_string() });
            }
            if observed.unfinished && wanted.update_password == UpdatePassword::OnCreate {
                return Err(PlanError::Unfinished { user: user.to_string() });
            }
            if observed.locked && !observed.unfinished {
                return Err(PlanError::Locked { user: user.to_string(), localpart: user.localpart().to_string() });
            }
            let mut actions = Vec::new();
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
            let password_changes = match wanted.update_password {
                UpdatePassword::OnCreate => None,
                UpdatePassword::Always => match observed.password_matches {
                    Some(true) => Some(false),
                    Some(false) => {
                        require(Operation::SetPassword, "changing the password of")?;
                        actions.push(Action::SetPassword);
                        Some(true)
                    }
                    None => return Err(not_observed(Operation::LookUp, "whether the password is right")),
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
            Ok(Plan { actions, before, after: State { exists: Some(true), admin }, password_changes })
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
            (Given::SecretOnly, Operation::LookUp | Operation::SetAdmin | Operation::SetPassword) => {
                Some(Setting::AdminAccessToken)
            }
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
        let wanted =
            Wanted { password: &password, admin, update_password, displayname: None, user_type: None, email: None };
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
            password: &password,
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

    #[test]
    fn deactivated_accounts_are_not_touched() {
        let observed = Observed { deactivated: true, ..found(false, None) };
        let err = run(observed, Some(true), OnCreate, Given::Both, false).unwrap_err();
        assert!(matches!(err, PlanError::Deactivated { .. }));
    }

    #[test]
    fn locked_accounts_are_named_in_check_mode_too() {
        let observed = Observed { locked: true, ..found(false, None) };
        for check_mode in [false, true] {
            for update in [OnCreate, Always] {
                let err = run(observed, None, update, Given::Both, check_mode).unwrap_err();
                assert!(matches!(err, PlanError::Locked { .. }), "{err}");
                assert!(err.to_string().contains("unlock-user john"), "{err}");
            }
        }
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
                assert_eq!(plan.after, State { exists: Some(true), admin });
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
        // (display name seen, what the backend lacks, check mode's and the real run's answer)
        type Row = (Observed, Option<Setting>, Result<Vec<Action>, Setting>);
        let with = |matches| Observed { displayname_matches: matches, ..found(false, None) };
        let rows: Vec<Row> = vec![
            // Created with the name, whatever else is seen.
            (MISSING, None, Ok(vec![Action::Create { admin: false }])),
            (MISSING, Some(Setting::AdminAccessToken), Ok(vec![Action::Create { admin: false }])),
            // Matches: nothing; differs: set.
            (with(Some(true)), None, Ok(vec![])),
            (with(Some(false)), None, Ok(vec![Action::SetDisplayname])),
            // Not seen: what would show it is named, before any change.
            (with(None), Some(Setting::AdminAccessToken), Err(Setting::AdminAccessToken)),
            (with(None), Some(Setting::DendriteDatabase), Err(Setting::DendriteDatabase)),
        ];
        let password = Secret::new("pw");
        for (i, (observed, lacks, expected)) in rows.into_iter().enumerate() {
            let wanted = Wanted {
                password: &password,
                admin: None,
                update_password: OnCreate,
                displayname: Some("John"),
                user_type: None,
                email: None,
            };
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
        let wanted = Wanted {
            password: &password,
            admin: None,
            update_password: OnCreate,
            displayname: Some("John"),
            user_type: None,
            email: None,
        };
        let err = plan(&john(), &with(None), &wanted, |_| None, false).unwrap_err();
        assert_eq!(err.to_string(), "could not find out the display name of @john:example.com");
        // Its diff says the name changes, and nothing else.
        let plan = plan(&john(), &with(Some(false)), &wanted, |_| None, false).unwrap();
        assert_eq!(plan.diff().1, json!({"exists": true, "admin": false, "displayname": "changed"}));
    }
}
