//! Observe, plan, apply: one account through a backend.

use homeserver::{Backend, Lookup, NewAccount, Operation, Secret, Setting, UserId};

use crate::plan::{plan, AccountState, Action, Observed, Plan, PlanError, UpdatePassword, Wanted};

/// Why ensuring an account failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Homeserver(#[from] homeserver::Error),
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Part of the plan was carried out before a step failed: the account changed all the same.
    /// `done` holds what was done (a creation whose password or flag then failed counts).
    #[error("{}", partial_message(done, cause))]
    Partial { done: Box<Outcome>, cause: Box<homeserver::Error> },
}

impl Error {
    /// The settings this error asks to set or check, for a front end to say where each is set.
    pub fn settings(&self) -> Vec<Setting> {
        match self {
            Error::Homeserver(e) => e.settings(),
            Error::Partial { cause, .. } => cause.settings(),
            Error::Plan(PlanError::Needs { setting, .. }) => vec![*setting],
            Error::Plan(PlanError::CannotPredict { .. }) => vec![Setting::AdminAccessToken],
            Error::Plan(PlanError::Unfinished { .. }) => vec![Setting::UpdatePassword],
            Error::Plan(_) => Vec::new(),
        }
    }

    /// The message, each setting it names named by `name` (the module's `mas_url`, the tool's
    /// `--mas-url`); `Display` is this with the settings' own names.
    pub fn render(&self, name: impl Fn(Setting) -> String) -> String {
        match self {
            Error::Homeserver(e) => e.render(name),
            Error::Plan(PlanError::Needs { what, user, setting }) => {
                format!("{what} {user} needs `{}`", name(*setting))
            }
            Error::Plan(PlanError::Unfinished { user }) => crate::plan::unfinished(user, &name),
            Error::Plan(PlanError::CannotPredict { user }) => crate::plan::cannot_predict(user, &name),
            Error::Plan(e) => e.to_string(),
            Error::Partial { done, cause } => match **cause {
                homeserver::Error::HalfDone { .. } => cause.render(name),
                _ => format!("{}, then failed: {}", done.message(), cause.render(name)),
            },
        }
    }

    /// What was changed before the failure, if anything.
    pub fn done(&self) -> Option<&Outcome> {
        match self {
            Error::Partial { done, .. } => Some(done),
            _ => None,
        }
    }
}

fn partial_message(done: &Outcome, cause: &homeserver::Error) -> String {
    match cause {
        // It says itself what was done.
        homeserver::Error::HalfDone { .. } => cause.to_string(),
        _ => format!("{}, then failed: {cause}", done.message()),
    }
}

/// What was done (or, in check mode, would be done) for one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub user_id: UserId,
    pub plan: Plan,
    pub check_mode: bool,
    /// In check mode: what the server may still refuse that check mode cannot foresee.
    pub caveats: Vec<&'static str>,
}

impl Outcome {
    pub fn changed(&self) -> bool {
        self.plan.changes()
    }

    pub fn created(&self) -> bool {
        self.plan.actions.iter().any(|a| matches!(a, Action::Create { .. } | Action::CreateUnlessExists { .. }))
    }

    pub fn password_changed(&self) -> bool {
        self.plan.password_changes == Some(true)
    }

    /// One sentence on what happened (in check mode: what would happen).
    pub fn message(&self) -> String {
        let user = &self.user_id;
        if self.plan.actions.is_empty() {
            return match self.plan.note {
                Some(note) => note.sentence(user),
                None => format!("{user} is already as wanted"),
            };
        }
        let parts: Vec<String> =
            self.plan.actions.iter().map(|action| action.sentence(user, !self.check_mode)).collect();
        let sentence = parts.join(" and ");
        if !self.check_mode {
            return sentence;
        }
        if self.caveats.is_empty() {
            format!("would {sentence}")
        } else {
            format!("would {sentence} ({})", self.caveats.join("; "))
        }
    }
}

/// Makes the account `user` what `wanted` says, through `backend`. In check mode nothing is
/// written, and the outcome says what a real run would do.
pub async fn ensure<B: Backend>(
    backend: &B,
    user: &UserId,
    wanted: &Wanted<'_>,
    check_mode: bool,
) -> Result<Outcome, Error> {
    ensure_seen(backend, user, wanted, None, check_mode).await
}

/// [`ensure`], with the look-up already done when `seen` is given (from a listing of all users).
pub(crate) async fn ensure_seen<B: Backend>(
    backend: &B,
    user: &UserId,
    wanted: &Wanted<'_>,
    seen: Option<Lookup>,
    check_mode: bool,
) -> Result<Outcome, Error> {
    if let Some(problem) = wanted.password.and_then(|password| backend.password_problem(password)) {
        return Err(PlanError::Password { user: user.to_string(), problem }.into());
    }
    // A user type this server cannot give: refused before any request, whether or not the
    // account exists, so that the same task does not pass on one run and fail on another (a
    // state other than present never creates, so it takes none).
    if let (Some(user_type), AccountState::Present) = (wanted.user_type, wanted.state) {
        unsupported(backend, Operation::CreateWithUserType, || {
            format!("creating {user} as a {} user", user_type.name())
        })?;
    }
    // A password that will be checked or may be set, on a server that takes none (passwords
    // turned off): refused before any request about the user.
    let password_problem = || {
        backend.passwords_refused().map(|why| PlanError::Password {
            user: user.to_string(),
            problem: format!("cannot be set or checked: {why}"),
        })
    };
    if wanted.update_password == UpdatePassword::Always && wanted.state == AccountState::Present {
        if let Some(problem) = password_problem() {
            return Err(problem.into());
        }
    }
    let mut seen = seen;
    let mut raced = false;
    loop {
        let observed = observe(backend, user, wanted, seen.take()).await?;
        let plan = plan(user, &observed, wanted, |op| backend.missing_for(op), check_mode)?;
        if plan.actions.iter().any(|a| sets_password(*a)) {
            if let Some(problem) = password_problem() {
                return Err(problem.into());
            }
        }
        can_do(backend, user, wanted, &observed, &plan)?;
        if check_mode {
            let mut caveats: Vec<&'static str> =
                plan.actions.iter().filter_map(|action| backend.unforeseeable(operation_of(*action))).collect();
            caveats.dedup();
            return Ok(Outcome { user_id: user.clone(), plan, check_mode, caveats });
        }
        match apply_all(backend, user, wanted, &plan).await {
            // Someone else created the user between our look-up and our registration (another run
            // for the same user): look again, once, and reconcile with what is there now.
            Err(Error::Homeserver(homeserver::Error::AlreadyExists { .. })) if !raced => raced = true,
            result => return result.map(|()| Outcome { user_id: user.clone(), plan, check_mode, caveats: Vec::new() }),
        }
    }
}

/// The backend operation an action is.
fn operation_of(action: Action) -> Operation {
    match action {
        Action::Create { .. } | Action::CreateUnlessExists { .. } => Operation::Create,
        Action::SetAdmin(_) => Operation::SetAdmin,
        Action::SetPassword => Operation::SetPassword,
        Action::AddEmail => Operation::AddEmail,
        Action::SetDisplayname => Operation::SetDisplayname,
        Action::Lock => Operation::Lock,
        Action::Unlock => Operation::Unlock,
        Action::Deactivate { .. } => Operation::Deactivate,
        Action::Reactivate => Operation::Reactivate,
    }
}

/// Whether the action sets the account's password.
fn sets_password(action: Action) -> bool {
    matches!(
        action,
        Action::Create { .. } | Action::CreateUnlessExists { .. } | Action::SetPassword | Action::Reactivate
    )
}

/// What this server cannot do at all, as the error that says so (`action`: what was asked).
fn unsupported<B: Backend>(
    backend: &B,
    operation: Operation,
    action: impl FnOnce() -> String,
) -> Result<(), homeserver::Error> {
    match backend.unsupported(operation) {
        Some(why) => Err(homeserver::Error::Unsupported { action: action(), why }),
        None => Ok(()),
    }
}

/// Refuses, before any change, a plan this server cannot carry out at all (Dendrite cannot
/// lock) or not without the password it lacks.
fn can_do<B: Backend>(
    backend: &B,
    user: &UserId,
    wanted: &Wanted<'_>,
    observed: &Observed,
    plan: &Plan,
) -> Result<(), Error> {
    for action in &plan.actions {
        let mut operations = vec![operation_of(*action)];
        if *action == (Action::Deactivate { erase: true }) {
            operations.push(Operation::Erase);
        }
        let what = action.wording().verb.0;
        for operation in operations {
            unsupported(backend, operation, || format!("cannot {what} {user}"))?;
            let own = backend.needs_own_password(operation);
            if (own || sets_password(*action)) && wanted.password.is_none() {
                return Err(PlanError::NeedsPassword { what, user: user.to_string() }.into());
            }
            if own && observed.password_matches == Some(false) {
                return Err(PlanError::Password {
                    user: user.to_string(),
                    problem: format!(
                        "does not log in, and this server can {what} an account only with its own password"
                    ),
                }
                .into());
            }
        }
    }
    Ok(())
}

/// The wanted password, which `can_do` made sure is there for any action that needs it.
fn password<'a>(wanted: &Wanted<'a>, user: &UserId, what: &'static str) -> Result<&'a Secret, Error> {
    wanted.password.ok_or_else(|| PlanError::NeedsPassword { what, user: user.to_string() }.into())
}

/// Carries the plan out in order. A failure after a change (or in the middle of a creation)
/// is [`Error::Partial`], with what was done: the account changed all the same.
async fn apply_all<B: Backend>(backend: &B, user: &UserId, wanted: &Wanted<'_>, plan: &Plan) -> Result<(), Error> {
    for (index, action) in plan.actions.iter().enumerate() {
        let cause = match apply(backend, user, wanted, *action).await {
            Ok(()) => continue,
            Err(Error::Homeserver(cause)) => cause,
            Err(other) => return Err(other),
        };
        let half_done = matches!(cause, homeserver::Error::HalfDone { .. });
        if index == 0 && !half_done {
            return Err(Error::Homeserver(cause));
        }
        let done = if half_done { index + 1 } else { index };
        let mut partial = plan.clone();
        partial.actions.truncate(done);
        if half_done || *action == Action::SetPassword {
            // Created, but its password (or flag) could not be set; or setting the password is
            // the step that failed: either way, the password is not the wanted one.
            partial.password_changes = Some(false);
        }
        if half_done {
            partial.after.admin = Some(false);
        }
        let outcome = Outcome { user_id: user.clone(), plan: partial, check_mode: false, caveats: Vec::new() };
        return Err(Error::Partial { done: Box::new(outcome), cause: Box::new(cause) });
    }
    Ok(())
}

/// Finds out what the plan needs: existence and admin flag from a look-up where the backend can,
/// else from a login with the wanted password; the password itself only when it may be changed.
async fn observe<B: Backend>(
    backend: &B,
    user: &UserId,
    wanted: &Wanted<'_>,
    seen: Option<Lookup>,
) -> Result<Observed, Error> {
    let mut observed = Observed::default();
    // The display name, where the look-up shows it.
    let mut shown_name = None;
    let lookup = match seen {
        Some(lookup) => lookup,
        None if backend.missing_for(Operation::LookUp).is_none() => backend.look_up(user).await?,
        None => Lookup::Unknown,
    };
    match lookup {
        Lookup::Missing => observed.exists = Some(false),
        Lookup::Found(account) => {
            observed.exists = Some(true);
            observed.admin = account.admin;
            observed.deactivated = account.deactivated;
            observed.locked = account.locked;
            observed.unfinished = account.unfinished;
            shown_name = account.displayname;
        }
        Lookup::Unknown => {}
    }
    // An unfinished account has no password to check; a locked or deactivated one cannot log in.
    if observed.unfinished {
        observed.password_matches = Some(false);
    }
    let usable = !observed.deactivated && !observed.locked;
    let needs_login = match (observed.exists, wanted.state) {
        (None, _) => true,
        (Some(true), AccountState::Present) => {
            usable
                && (wanted.update_password == UpdatePassword::Always
                    || (observed.admin.is_none() && wanted.admin.is_some()))
        }
        // A server that deactivates only with the account's own password: is it that one?
        (Some(true), AccountState::Deactivated { .. }) => {
            !observed.deactivated && backend.needs_own_password(Operation::Deactivate)
        }
        _ => false,
    };
    if let (true, Some(password)) = (needs_login, wanted.password) {
        match backend.log_in(user, password).await? {
            Some(login) => {
                observed.exists = Some(true);
                observed.admin = observed.admin.or(login.admin);
                observed.password_matches = Some(true);
            }
            None if observed.exists == Some(true) => observed.password_matches = Some(false),
            None => {}
        }
    }
    // Email and display name matter only to an account that is to be present.
    if observed.exists != Some(true) || wanted.state != AccountState::Present {
        return Ok(observed);
    }
    if let Some(email) = wanted.email {
        if backend.missing_for(Operation::AddEmail).is_none() {
            observed.has_email = Some(backend.has_email(user, email).await?);
        }
    }
    if let Some(name) = wanted.displayname {
        unsupported(backend, Operation::SetDisplayname, || format!("keeping the display name of {user} in step"))?;
        if backend.missing_for(Operation::SetDisplayname).is_none() {
            let current = match shown_name {
                Some(current) => current,
                None => backend.displayname(user).await?,
            };
            observed.displayname_matches = Some(current.as_deref() == Some(name));
        }
    }
    Ok(observed)
}

async fn apply<B: Backend>(backend: &B, user: &UserId, wanted: &Wanted<'_>, action: Action) -> Result<(), Error> {
    let what = action.wording().verb.0;
    let new = |admin| -> Result<NewAccount<'_>, Error> {
        Ok(NewAccount {
            password: password(wanted, user, what)?,
            admin,
            displayname: wanted.displayname,
            user_type: wanted.user_type,
        })
    };
    match action {
        Action::Create { admin } => backend.create(user, &new(admin)?).await?,
        Action::CreateUnlessExists { admin } => match backend.create(user, &new(admin)?).await {
            Err(homeserver::Error::AlreadyExists { .. }) => {
                return Err(Error::Homeserver(homeserver::Error::NeedsSetting {
                    action: format!(
                        "{user} exists, but the password does not log in; checking or changing its password or admin flag"
                    ),
                    setting: Setting::AdminAccessToken,
                }))
            }
            other => other?,
        },
        Action::SetAdmin(admin) => backend.set_admin(user, admin).await?,
        Action::SetPassword => backend.set_password(user, password(wanted, user, what)?).await?,
        Action::AddEmail => backend.add_email(user, wanted.email.unwrap_or_default()).await?,
        Action::SetDisplayname => backend.set_displayname(user, wanted.displayname.unwrap_or_default()).await?,
        Action::Lock => backend.set_locked(user, true).await?,
        Action::Unlock => backend.set_locked(user, false).await?,
        Action::Deactivate { erase } => backend.deactivate(user, erase, wanted.password).await?,
        Action::Reactivate => backend.reactivate(user, password(wanted, user, what)?).await?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use homeserver::{Operation, Secret, UserType};

    use super::*;
    use crate::fake::{refused, user, want, Call, Fake, Stored};
    use crate::plan::{AccountState, Standing, State};
    use UpdatePassword::{Always, OnCreate};

    const PASSWORD: &str = "wanted-pw";
    const EMAIL: &str = "john@example.org";

    async fn run(fake: &Fake, wanted: &Wanted<'_>, check_mode: bool) -> Result<Outcome, Error> {
        ensure(fake, &user("john"), wanted, check_mode).await
    }

    fn calls(list: &[Call]) -> Vec<(Call, String)> {
        list.iter().map(|call| (*call, "john".to_string())).collect()
    }

    fn needs(err: &Error) -> Setting {
        match err {
            Error::Plan(PlanError::Needs { setting, .. }) => *setting,
            other => panic!("expected a missing parameter, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_missing_user_is_created_with_the_wanted_flag() {
        let password = Secret::new(PASSWORD);
        for (admin, as_admin) in [(None, false), (Some(false), false), (Some(true), true)] {
            for update in [OnCreate, Always] {
                let fake = Fake::new();
                let wanted = Wanted { displayname: Some("John"), ..want(&password, admin, update) };
                let outcome = run(&fake, &wanted, false).await.unwrap();
                assert_eq!(outcome.plan.actions, vec![Action::Create { admin: as_admin }]);
                assert!(outcome.changed() && outcome.created() && outcome.password_changed());
                assert_eq!(outcome.plan.before, State { exists: Some(false), admin: None, standing: None });
                assert_eq!(
                    outcome.plan.after,
                    State { exists: Some(true), admin: Some(as_admin), standing: Some(Standing::Active) }
                );
                let made = Stored { displayname: Some("John".into()), ..Stored::new(PASSWORD, as_admin) };
                assert_eq!(fake.account("john"), Some(made));
                // The look-up said it is missing: no login, whatever update_password says.
                assert_eq!(fake.calls(), calls(&[Call::LookUp, Call::Create]));
                let how = if as_admin { " as an admin" } else { "" };
                assert_eq!(outcome.message(), format!("created @john:example.com{how}"));
            }
        }
    }

    #[tokio::test]
    async fn an_existing_user_is_promoted_or_demoted_without_a_login() {
        let password = Secret::new(PASSWORD);
        for (have, admin, message) in [
            (false, true, "promoted @john:example.com to admin"),
            (true, false, "demoted @john:example.com from admin"),
        ] {
            let fake = Fake::new().with("john", Stored::new("old-pw", have));
            let outcome = run(&fake, &want(&password, Some(admin), OnCreate), false).await.unwrap();
            assert_eq!(outcome.plan.actions, vec![Action::SetAdmin(admin)]);
            assert!(outcome.changed() && !outcome.created() && !outcome.password_changed());
            assert_eq!(outcome.plan.password_changes, None);
            assert_eq!(fake.account("john"), Some(Stored::new("old-pw", admin)));
            assert_eq!(fake.calls(), calls(&[Call::LookUp, Call::SetAdmin]));
            assert_eq!(outcome.message(), message);
        }
    }

    #[tokio::test]
    async fn a_wrong_password_is_set_with_always_and_left_alone_on_create() {
        let password = Secret::new(PASSWORD);
        let fake = Fake::new().with("john", Stored::new("old-pw", false));
        let outcome = run(&fake, &want(&password, None, Always), false).await.unwrap();
        assert_eq!(outcome.plan.actions, vec![Action::SetPassword]);
        assert!(outcome.changed() && outcome.password_changed() && !outcome.created());
        assert_eq!(outcome.plan.diff().1["password"], "changed");
        assert_eq!(outcome.message(), "changed the password of @john:example.com");
        assert_eq!(fake.calls(), calls(&[Call::LookUp, Call::LogIn, Call::SetPassword]));
        assert_eq!(fake.account("john"), Some(Stored::new(PASSWORD, false)));

        // on_create: not even checked.
        let fake = Fake::new().with("john", Stored::new("old-pw", false));
        let outcome = run(&fake, &want(&password, None, OnCreate), false).await.unwrap();
        assert_eq!(outcome.plan.actions, vec![]);
        assert_eq!(outcome.plan.password_changes, None);
        assert_eq!(fake.calls(), calls(&[Call::LookUp]));
        assert_eq!(fake.account("john"), Some(Stored::new("old-pw", false)));
    }

    #[tokio::test]
    async fn flag_and_password_change_together() {
        let password = Secret::new(PASSWORD);
        let fake = Fake::new().with("john", Stored::new("old-pw", false));
        let outcome = run(&fake, &want(&password, Some(true), Always), false).await.unwrap();
        assert_eq!(outcome.plan.actions, vec![Action::SetAdmin(true), Action::SetPassword]);
        assert_eq!(
            outcome.message(),
            "promoted @john:example.com to admin and changed the password of @john:example.com"
        );
        assert_eq!(fake.account("john"), Some(Stored::new(PASSWORD, true)));
    }

    #[tokio::test]
    async fn an_account_as_wanted_is_left_alone() {
        let password = Secret::new(PASSWORD);
        for admin in [None, Some(true)] {
            let fake = Fake::new().with("john", Stored::new(PASSWORD, true));
            let outcome = run(&fake, &want(&password, admin, Always), false).await.unwrap();
            assert_eq!(outcome.plan.actions, vec![]);
            assert!(!outcome.changed() && !outcome.password_changed());
            assert_eq!(outcome.plan.password_changes, Some(false));
            assert_eq!(outcome.plan.diff().1["password"], "unchanged");
            assert_eq!(outcome.message(), "@john:example.com is already as wanted");
            assert_eq!(fake.calls(), calls(&[Call::LookUp, Call::LogIn]));
        }
    }

    #[tokio::test]
    async fn an_email_address_is_added_where_the_backend_can() {
        let password = Secret::new(PASSWORD);
        let wanted = Wanted { email: Some(EMAIL), ..want(&password, None, OnCreate) };

        // Existing without it: asked, then added; a second run finds it.
        let fake = Fake::new().with("john", Stored::new(PASSWORD, false));
        let outcome = run(&fake, &wanted, false).await.unwrap();
        assert_eq!(outcome.plan.actions, vec![Action::AddEmail]);
        assert_eq!(outcome.plan.diff().1["email"], "added");
        assert_eq!(fake.calls(), calls(&[Call::LookUp, Call::HasEmail, Call::AddEmail]));
        assert_eq!(fake.account("john").unwrap().emails, vec![EMAIL.to_string()]);
        let again = run(&fake, &wanted, false).await.unwrap();
        assert_eq!(again.plan.actions, vec![]);
        assert_eq!(fake.count(Call::AddEmail), 1);

        // Missing: created, then given it (nothing to ask first).
        let fake = Fake::new();
        let outcome = run(&fake, &wanted, false).await.unwrap();
        assert_eq!(outcome.plan.actions, vec![Action::Create { admin: false }, Action::AddEmail]);
        assert_eq!(fake.calls(), calls(&[Call::LookUp, Call::Create, Call::AddEmail]));
        assert_eq!(fake.account("john").unwrap().emails, vec![EMAIL.to_string()]);

        // A backend that cannot: refused before anything is changed, and never asked.
        for existing in [false, true] {
            let mut fake = Fake::new().without(Operation::AddEmail, Setting::MasBackend);
            if existing {
                fake = fake.with("john", Stored::new(PASSWORD, false));
            }
            let err = run(&fake, &wanted, false).await.unwrap_err();
            assert_eq!(needs(&err), Setting::MasBackend);
            assert_eq!(fake.calls(), calls(&[Call::LookUp]));
        }
    }

    #[tokio::test]
    async fn check_mode_observes_and_plans_as_the_real_run_and_changes_nothing() {
        let password = Secret::new(PASSWORD);
        type Case = (fn() -> Fake, Option<bool>, UpdatePassword, Option<&'static str>);
        let cases: Vec<Case> = vec![
            (Fake::new, Some(true), OnCreate, None),
            (Fake::new, None, Always, Some(EMAIL)),
            (|| Fake::new().with("john", Stored::new(PASSWORD, false)), Some(true), OnCreate, None),
            (|| Fake::new().with("john", Stored::new(PASSWORD, true)), Some(false), Always, None),
            (|| Fake::new().with("john", Stored::new("old-pw", true)), Some(true), Always, None),
            (|| Fake::new().with("john", Stored::new("old-pw", true)), Some(false), Always, Some(EMAIL)),
            (|| Fake::new().with("john", Stored::new("old-pw", true)), None, OnCreate, None),
            (|| Fake::new().with("john", Stored::new(PASSWORD, true)), Some(true), Always, None),
            // Seen through a login only.
            (
                || {
                    Fake::new()
                        .without(Operation::LookUp, Setting::AdminAccessToken)
                        .with("john", Stored::new(PASSWORD, true))
                },
                Some(true),
                Always,
                None,
            ),
        ];
        for (i, (build, admin, update, email)) in cases.into_iter().enumerate() {
            let wanted = Wanted { email, ..want(&password, admin, update) };
            let checked = build();
            let check = run(&checked, &wanted, true).await.unwrap();
            assert!(checked.writes().is_empty(), "case {i}: {:?}", checked.writes());
            assert_eq!(checked.account("john"), build().account("john"), "case {i}");

            let real = build();
            let done = run(&real, &wanted, false).await.unwrap();
            assert_eq!(check.plan, done.plan, "case {i}");
            assert_eq!(
                (check.changed(), check.created(), check.password_changed()),
                (done.changed(), done.created(), done.password_changed()),
                "case {i}"
            );
            assert!(check.check_mode && !done.check_mode, "case {i}");
            // The same questions were asked; the real run only added its changes.
            let reads: Vec<_> = real.calls().into_iter().filter(|(call, _)| !call.writes()).collect();
            assert_eq!(checked.calls(), reads, "case {i}");
            if done.changed() {
                assert!(check.message().starts_with("would "), "case {i}: {}", check.message());
            } else {
                assert_eq!(check.message(), done.message(), "case {i}");
            }
        }
    }

    #[tokio::test]
    async fn check_mode_names_what_it_cannot_foresee() {
        let password = Secret::new(PASSWORD);
        let build = || {
            Fake::new()
                .caveat(Operation::Create, "the server may refuse the name")
                .caveat(Operation::SetAdmin, "the flag may be refused")
        };
        let wanted = want(&password, Some(true), OnCreate);
        let check = run(&build(), &wanted, true).await.unwrap();
        assert_eq!(check.caveats, vec!["the server may refuse the name"]);
        assert_eq!(check.message(), "would create @john:example.com as an admin (the server may refuse the name)");
        // A real run has no caveats; nothing to do, nothing to warn about.
        assert_eq!(run(&build(), &wanted, false).await.unwrap().caveats, Vec::<&str>::new());
        let fake = build().with("john", Stored::new(PASSWORD, true));
        assert_eq!(run(&fake, &wanted, true).await.unwrap().caveats, Vec::<&str>::new());
    }

    #[tokio::test]
    async fn check_mode_without_look_ups_does_not_guess_whether_a_user_exists() {
        let password = Secret::new(PASSWORD);
        for existing in [false, true] {
            let mut fake = Fake::new().without(Operation::LookUp, Setting::AdminAccessToken);
            if existing {
                fake = fake.with("john", Stored::new("other-pw", false));
            }
            let err = run(&fake, &want(&password, None, OnCreate), true).await.unwrap_err();
            assert!(matches!(err, Error::Plan(PlanError::CannotPredict { .. })), "{err}");
            assert_eq!(fake.calls(), calls(&[Call::LogIn]));
        }
    }

    #[tokio::test]
    async fn a_user_created_meanwhile_is_reconciled_as_found_not_created() {
        let password = Secret::new(PASSWORD);
        for update in [OnCreate, Always] {
            // Another run creates john (no admin, its own password) between our look-up and our
            // registration, which the server then refuses.
            let fake = Fake::new().racing("john", Stored::new("theirs", false));
            let outcome = run(&fake, &want(&password, Some(true), update), false).await.unwrap();
            assert!(!outcome.created(), "{outcome:?}");
            assert_eq!(
                outcome.plan.before,
                State { exists: Some(true), admin: Some(false), standing: Some(Standing::Active) }
            );
            let (expected, seen, password_now) = match update {
                OnCreate => (vec![Action::SetAdmin(true)], vec![Call::LookUp, Call::Create, Call::LookUp], "theirs"),
                Always => (
                    vec![Action::SetAdmin(true), Action::SetPassword],
                    vec![Call::LookUp, Call::Create, Call::LookUp, Call::LogIn],
                    PASSWORD,
                ),
            };
            assert_eq!(outcome.plan.actions, expected);
            let reads: Vec<_> = fake.calls().into_iter().filter(|(c, _)| !c.writes() || *c == Call::Create).collect();
            assert_eq!(reads, calls(&seen));
            assert_eq!(fake.account("john"), Some(Stored::new(password_now, true)));
        }

        // Made just as wanted by the other run: nothing left to do, and not "created".
        let fake = Fake::new().racing("john", Stored::new(PASSWORD, true));
        let outcome = run(&fake, &want(&password, Some(true), Always), false).await.unwrap();
        assert!(!outcome.changed() && !outcome.created());
        assert_eq!(outcome.message(), "@john:example.com is already as wanted");
    }

    #[tokio::test]
    async fn a_refused_creation_is_looked_at_again_only_once() {
        // A look-up that keeps missing an account that exists: the second refusal is the answer.
        let password = Secret::new(PASSWORD);
        let fake = Fake::new().hiding("john", Stored::new("theirs", false));
        let err = run(&fake, &want(&password, None, OnCreate), false).await.unwrap_err();
        assert_eq!(err, Error::Homeserver(homeserver::Error::AlreadyExists { user_id: "@john:example.com".into() }));
        assert_eq!(fake.calls(), calls(&[Call::LookUp, Call::Create, Call::LookUp, Call::Create]));
    }

    #[tokio::test]
    async fn without_look_ups_a_login_tells_what_exists() {
        let password = Secret::new(PASSWORD);
        let secret_only = || {
            Fake::new()
                .without(Operation::LookUp, Setting::AdminAccessToken)
                .without(Operation::SetAdmin, Setting::AdminAccessToken)
                .without(Operation::SetPassword, Setting::AdminAccessToken)
        };

        // The password logs in: it exists, and the session says it is an admin.
        let fake = secret_only().with("john", Stored::new(PASSWORD, true));
        let outcome = run(&fake, &want(&password, Some(true), Always), false).await.unwrap();
        assert_eq!(outcome.plan.actions, vec![]);
        assert_eq!(
            outcome.plan.before,
            State { exists: Some(true), admin: Some(true), standing: Some(Standing::Active) }
        );
        assert_eq!(fake.calls(), calls(&[Call::LogIn]));

        // The login fails and the user is missing: created.
        let fake = secret_only();
        let outcome = run(&fake, &want(&password, Some(false), OnCreate), false).await.unwrap();
        assert_eq!(outcome.plan.actions, vec![Action::CreateUnlessExists { admin: false }]);
        assert!(outcome.created());
        assert_eq!(fake.calls(), calls(&[Call::LogIn, Call::Create]));
        assert_eq!(fake.account("john"), Some(Stored::new(PASSWORD, false)));

        // The login fails and the user exists: the refusal to create it names what would tell
        // (no second look: nothing else could be learnt).
        let fake = secret_only().with("john", Stored::new("other-pw", false));
        let err = run(&fake, &want(&password, None, OnCreate), false).await.unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Homeserver(homeserver::Error::NeedsSetting { setting: Setting::AdminAccessToken, .. })
            ),
            "{err:?}"
        );
        assert_eq!(fake.calls(), calls(&[Call::LogIn, Call::Create]));
        assert_eq!(fake.account("john"), Some(Stored::new("other-pw", false)));
    }

    #[tokio::test]
    async fn a_plan_the_backend_cannot_finish_is_refused_before_any_change() {
        let password = Secret::new(PASSWORD);
        type Case = (fn() -> Fake, Option<bool>, UpdatePassword, Option<&'static str>, Setting);
        let cases: Vec<Case> = vec![
            (
                || Fake::new().without(Operation::Create, Setting::RegistrationSharedSecret),
                Some(true),
                OnCreate,
                None,
                Setting::RegistrationSharedSecret,
            ),
            (
                || {
                    Fake::new()
                        .without(Operation::SetAdmin, Setting::AdminAccessToken)
                        .with("john", Stored::new("pw", false))
                },
                Some(true),
                OnCreate,
                None,
                Setting::AdminAccessToken,
            ),
            // The second step is the one that cannot be done: the first is not done either.
            (
                || {
                    Fake::new()
                        .without(Operation::SetPassword, Setting::AdminAccessToken)
                        .with("john", Stored::new("pw", true))
                },
                Some(false),
                Always,
                None,
                Setting::AdminAccessToken,
            ),
            // Create, then an email address it cannot add: not even created.
            (
                || Fake::new().without(Operation::AddEmail, Setting::MasBackend),
                Some(true),
                OnCreate,
                Some(EMAIL),
                Setting::MasBackend,
            ),
            (
                || Fake::new().without(Operation::AddEmail, Setting::MasBackend).with("john", Stored::new("pw", true)),
                Some(false),
                Always,
                Some(EMAIL),
                Setting::MasBackend,
            ),
            // Dendrite without its database: the flag cannot be seen, so it cannot be compared.
            (
                || {
                    Fake::new()
                        .admin_unseen()
                        .without(Operation::SetAdmin, Setting::DendriteDatabase)
                        .with("john", Stored::new(PASSWORD, false))
                },
                Some(true),
                OnCreate,
                None,
                Setting::DendriteDatabase,
            ),
        ];
        for (i, (build, admin, update, email, parameter)) in cases.into_iter().enumerate() {
            let wanted = Wanted { email, ..want(&password, admin, update) };
            for check_mode in [false, true] {
                let fake = build();
                let err = run(&fake, &wanted, check_mode).await.unwrap_err();
                assert_eq!(needs(&err), parameter, "case {i}, check mode {check_mode}: {err}");
                assert_eq!(fake.writes(), vec![], "case {i}, check mode {check_mode}");
                assert_eq!(fake.account("john"), build().account("john"), "case {i}");
            }
        }
    }

    #[tokio::test]
    async fn a_password_the_server_would_refuse_stops_the_run_before_any_change() {
        let password = Secret::new(PASSWORD);
        let john = || Stored::new(PASSWORD, false);

        // Refused as it is (too short, say): before any request.
        let fake = Fake::new().refusing_password("is too short").with("john", john());
        let err = run(&fake, &want(&password, None, OnCreate), false).await.unwrap_err();
        assert!(matches!(&err, Error::Plan(PlanError::Password { problem, .. }) if problem == "is too short"), "{err}");
        assert_eq!(fake.calls(), vec![]);

        // Passwords turned off: one to check (always) is refused before any request...
        let off = || Fake::new().refusing_passwords("passwords are turned off");
        for check_mode in [false, true] {
            let fake = off().with("john", john());
            let err = run(&fake, &want(&password, None, Always), check_mode).await.unwrap_err();
            assert!(err.to_string().contains("cannot be set or checked: passwords are turned off"), "{err}");
            assert_eq!(fake.calls(), vec![]);

            // ...one to set on a creation after the look-up, before the creation...
            let fake = off();
            let err = run(&fake, &want(&password, None, OnCreate), check_mode).await.unwrap_err();
            assert!(matches!(err, Error::Plan(PlanError::Password { .. })), "{err}");
            assert_eq!(fake.calls(), calls(&[Call::LookUp]));
        }
        // ...and an account that needs no password is still reconciled.
        let fake = off().with("john", john());
        let outcome = run(&fake, &want(&password, Some(true), OnCreate), false).await.unwrap();
        assert_eq!(outcome.plan.actions, vec![Action::SetAdmin(true)]);
    }

    fn stored_as(standing: &str) -> Option<Stored> {
        let active = Stored::new(PASSWORD, false);
        match standing {
            "missing" => None,
            "present" => Some(active),
            "locked" => Some(Stored { locked: true, ..active }),
            "deactivated" => Some(Stored { deactivated: true, password: Some("old-pw".into()), ..active }),
            _ => unreachable!(),
        }
    }

    #[tokio::test]
    async fn every_state_from_every_state_checked_then_done_then_unchanged() {
        let password = Secret::new(PASSWORD);
        let states = [
            AccountState::Present,
            AccountState::Locked,
            AccountState::Deactivated { erase: false },
            AccountState::Deactivated { erase: true },
        ];
        for from in ["missing", "present", "locked", "deactivated"] {
            for state in states {
                for update in [OnCreate, Always] {
                    let case = format!("{from} -> {state:?}, {update:?}");
                    let build = || stored_as(from).map_or(Fake::new(), |stored| Fake::new().with("john", stored));
                    let wanted = Wanted { state, ..want(&password, None, update) };
                    let checked = build();
                    let check = run(&checked, &wanted, true).await.unwrap();
                    assert_eq!(checked.writes(), vec![], "{case}");
                    let fake = build();
                    let done = run(&fake, &wanted, false).await.unwrap();
                    assert_eq!(check.plan, done.plan, "{case}");
                    let account = fake.account("john");
                    match (state, from) {
                        (_, "missing") if state != AccountState::Present => {
                            assert_eq!(account, None, "{case}");
                            assert!(!done.changed(), "{case}");
                            let verb = if state == AccountState::Locked { "lock" } else { "deactivate" };
                            assert_eq!(done.message(), format!("@john:example.com is missing: nothing to {verb}"));
                        }
                        (AccountState::Present, _) => {
                            let account = account.unwrap();
                            assert!(!account.locked && !account.deactivated, "{case}: {account:?}");
                            assert_eq!(account.password.as_deref(), Some(PASSWORD), "{case}");
                        }
                        (AccountState::Locked, "deactivated") => {
                            assert!(account.unwrap().deactivated, "{case}");
                            assert!(!done.changed());
                            assert!(done.message().contains("left deactivated"), "{}", done.message());
                        }
                        (AccountState::Locked, _) => assert!(account.unwrap().locked, "{case}"),
                        (AccountState::Deactivated { erase }, _) => {
                            let account = account.unwrap();
                            assert!(account.deactivated, "{case}");
                            // Erased only when deactivated by this run.
                            assert_eq!(account.erased, erase && from != "deactivated", "{case}");
                        }
                    }
                    assert_eq!(done.changed(), !fake.writes().is_empty(), "{case}");
                    let again = run(&fake, &wanted, false).await.unwrap();
                    assert!(!again.changed(), "{case}: {:?}", again.plan);
                }
            }
        }
    }

    #[tokio::test]
    async fn reactivating_and_unlocking_are_said_and_counted() {
        let password = Secret::new(PASSWORD);
        let fake = Fake::new().with("john", stored_as("deactivated").unwrap());
        let outcome = run(&fake, &want(&password, Some(true), OnCreate), false).await.unwrap();
        assert_eq!(outcome.plan.actions, vec![Action::Reactivate, Action::SetAdmin(true)]);
        assert!(outcome.password_changed());
        assert_eq!(
            outcome.message(),
            "reactivated @john:example.com with the password and promoted @john:example.com to admin"
        );
        let fake = Fake::new().with("john", stored_as("locked").unwrap());
        let check = run(&fake, &want(&password, None, Always), true).await.unwrap();
        assert_eq!(check.message(), "would unlock @john:example.com and change the password of @john:example.com");
        // Locked, it could not log in: no login was tried.
        assert_eq!(fake.calls(), calls(&[Call::LookUp]));
    }

    #[tokio::test]
    async fn what_a_server_cannot_do_is_refused_before_any_change() {
        let password = Secret::new(PASSWORD);
        let dendrite = || {
            Fake::new()
                .cannot(Operation::Lock, "no locking here")
                .cannot(Operation::Unlock, "no locking here")
                .cannot(Operation::Erase, "no erasing here")
                .cannot(Operation::Reactivate, "no reactivating here")
                .with_own_password_for(Operation::Deactivate)
        };
        let cases: Vec<(&str, AccountState, Option<&Secret>, &str)> = vec![
            ("present", AccountState::Locked, Some(&password), "no locking here"),
            ("present", AccountState::Deactivated { erase: true }, Some(&password), "no erasing here"),
            ("deactivated", AccountState::Present, Some(&password), "no reactivating here"),
            ("present", AccountState::Deactivated { erase: false }, None, "needs its password"),
        ];
        let wrong_unused = Secret::new("unused");
        for (from, state, password, says) in cases {
            for check_mode in [false, true] {
                let fake = dendrite().with("john", stored_as(from).unwrap());
                let wanted = Wanted { state, password, ..want(&wrong_unused, None, OnCreate) };
                let err = run(&fake, &wanted, check_mode).await.unwrap_err();
                assert!(err.to_string().contains(says), "{from} -> {state:?}: {err}");
                assert_eq!(fake.writes(), vec![], "{from} -> {state:?}");
            }
        }
        // Its own password, wrong: found out by a login, refused before the deactivation.
        let wrong = Secret::new("not-johns");
        for check_mode in [false, true] {
            let fake = dendrite().with("john", stored_as("present").unwrap());
            let wanted = Wanted { state: AccountState::Deactivated { erase: false }, ..want(&wrong, None, OnCreate) };
            let err = run(&fake, &wanted, check_mode).await.unwrap_err();
            assert!(err.to_string().contains("only with its own password"), "{err}");
            assert_eq!(fake.calls(), calls(&[Call::LookUp, Call::LogIn]));
        }
        // The right one: deactivated.
        let fake = dendrite().with("john", stored_as("present").unwrap());
        let wanted = Wanted { state: AccountState::Deactivated { erase: false }, ..want(&password, None, OnCreate) };
        let outcome = run(&fake, &wanted, false).await.unwrap();
        assert_eq!(outcome.message(), "deactivated @john:example.com");
        assert!(fake.account("john").unwrap().deactivated);
    }

    #[tokio::test]
    async fn a_half_done_creation_fails_as_partial_and_always_finishes_it() {
        let password = Secret::new(PASSWORD);
        let fake = Fake::new().half_done("john");

        // Created, then its password refused: failed, with the creation as done.
        let err = run(&fake, &want(&password, Some(true), OnCreate), false).await.unwrap_err();
        assert!(
            matches!(&err, Error::Partial { cause, .. } if matches!(**cause, homeserver::Error::HalfDone { .. })),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("@john:example.com was created, but finishing it failed"), "{err}");
        let done = err.done().unwrap();
        assert_eq!(done.plan.actions, vec![Action::Create { admin: true }]);
        assert!(done.changed() && done.created() && !done.password_changed());
        assert_eq!(done.plan.after.admin, Some(false));
        let left = fake.account("john").unwrap();
        assert!(left.locked && left.unfinished && left.password.is_none(), "{left:?}");

        // on_create cannot finish it: said so, nothing tried.
        for check_mode in [false, true] {
            let err = run(&fake, &want(&password, Some(true), OnCreate), check_mode).await.unwrap_err();
            assert!(matches!(err, Error::Plan(PlanError::Unfinished { .. })), "{err}");
        }
        assert_eq!(fake.writes().len(), 1);

        // always: planned without a login (it has no password to try), and done.
        let before = fake.calls().len();
        let check = run(&fake, &want(&password, Some(true), Always), true).await.unwrap();
        assert_eq!(check.plan.actions, vec![Action::SetAdmin(true), Action::SetPassword]);
        assert_eq!(fake.calls()[before..], calls(&[Call::LookUp]));
        let outcome = run(&fake, &want(&password, Some(true), Always), false).await.unwrap();
        assert_eq!(outcome.plan, check.plan);
        assert_eq!(fake.account("john"), Some(Stored::new(PASSWORD, true)));

        // Finished: as wanted from now on.
        let again = run(&fake, &want(&password, Some(true), Always), false).await.unwrap();
        assert!(!again.changed());
    }

    #[tokio::test]
    async fn a_failure_after_a_change_reports_what_was_done() {
        let password = Secret::new(PASSWORD);

        // Demoted, then the password refused.
        let fake = Fake::new().with("john", Stored::new("old-pw", true)).failing(
            Call::SetPassword,
            Some("john"),
            refused("setting the password of @john:example.com"),
        );
        let err = run(&fake, &want(&password, Some(false), Always), false).await.unwrap_err();
        assert!(
            err.to_string().starts_with("demoted @john:example.com from admin, then failed: setting the password"),
            "{err}"
        );
        let done = err.done().unwrap();
        assert_eq!(done.plan.actions, vec![Action::SetAdmin(false)]);
        assert_eq!(done.plan.after, State { exists: Some(true), admin: Some(false), standing: Some(Standing::Active) });
        assert!(done.changed() && !done.created());
        assert!(!done.password_changed(), "the password was not changed: {done:?}");
        assert_eq!(fake.account("john"), Some(Stored::new("old-pw", false)));

        // Created, then the email address refused: the password was set with the account.
        let fake = Fake::new().failing(Call::AddEmail, None, refused("adding an email address"));
        let wanted = Wanted { email: Some(EMAIL), ..want(&password, None, OnCreate) };
        let err = run(&fake, &wanted, false).await.unwrap_err();
        let done = err.done().unwrap();
        assert_eq!(done.plan.actions, vec![Action::Create { admin: false }]);
        assert!(done.created() && done.password_changed());
        assert_eq!(fake.account("john"), Some(Stored::new(PASSWORD, false)));
    }

    #[tokio::test]
    async fn a_failure_before_any_change_is_a_plain_failure() {
        let password = Secret::new(PASSWORD);
        for (failing, existing, asked) in [
            (Call::LookUp, true, vec![Call::LookUp]),
            (Call::LogIn, true, vec![Call::LookUp, Call::LogIn]),
            (Call::Create, false, vec![Call::LookUp, Call::Create]),
            (Call::SetAdmin, true, vec![Call::LookUp, Call::LogIn, Call::SetAdmin]),
        ] {
            let mut fake = Fake::new().failing(failing, Some("john"), refused("asking"));
            if existing {
                fake = fake.with("john", Stored::new("old-pw", false));
            }
            let err = run(&fake, &want(&password, Some(true), Always), false).await.unwrap_err();
            assert_eq!(err, Error::Homeserver(refused("asking")), "{failing:?}");
            assert_eq!(err.done(), None);
            assert_eq!(fake.calls(), calls(&asked), "{failing:?}");
        }
        // Failures are per user: another user is not affected.
        let fake = Fake::new().failing(Call::Create, Some("jane"), refused("asking"));
        assert!(run(&fake, &want(&password, None, OnCreate), false).await.is_ok());
    }

    #[tokio::test]
    async fn an_existing_users_display_name_is_made_the_wanted_one() {
        let password = Secret::new(PASSWORD);
        let wanted = Wanted { displayname: Some("John Smith"), ..want(&password, None, OnCreate) };
        let named = |name: Option<&str>| Stored { displayname: name.map(str::to_string), ..Stored::new("pw", false) };
        for before in [None, Some("john"), Some("John smith")] {
            let fake = Fake::new().with("john", named(before));

            // Check mode reads the name, predicts the change and writes nothing.
            let check = run(&fake, &wanted, true).await.unwrap();
            assert_eq!(check.plan.actions, vec![Action::SetDisplayname]);
            assert_eq!(check.message(), "would set the display name of @john:example.com");
            assert_eq!(fake.writes(), vec![]);
            assert_eq!(fake.account("john"), Some(named(before)));

            let outcome = run(&fake, &wanted, false).await.unwrap();
            assert_eq!(outcome.plan, check.plan, "check mode predicts the real run");
            assert!(outcome.changed() && !outcome.created() && !outcome.password_changed());
            assert_eq!(outcome.message(), "set the display name of @john:example.com");
            assert_eq!(outcome.plan.diff().1["displayname"], "changed");
            assert_eq!(fake.account("john"), Some(named(Some("John Smith"))));
            assert_eq!(
                fake.calls(),
                calls(&[Call::LookUp, Call::Displayname, Call::LookUp, Call::Displayname, Call::SetDisplayname])
            );

            // As wanted now: no change, and the diff says nothing of the name.
            let again = run(&fake, &wanted, false).await.unwrap();
            assert!(!again.changed(), "{again:?}");
            assert_eq!(again.plan.diff().1.get("displayname"), None);
        }
        // Not asked for a name: not read.
        let fake = Fake::new().with("john", named(Some("Someone")));
        assert!(!run(&fake, &want(&password, None, OnCreate), false).await.unwrap().changed());
        assert_eq!(fake.count(Call::Displayname), 0);

        // A look-up that shows the name (Synapse's): no request of its own to read it.
        let fake = Fake::new().showing_names().with("john", named(Some("john")));
        assert_eq!(run(&fake, &wanted, true).await.unwrap().plan.actions, vec![Action::SetDisplayname]);
        assert_eq!(run(&fake, &wanted, false).await.unwrap().plan.actions, vec![Action::SetDisplayname]);
        assert!(!run(&fake, &wanted, false).await.unwrap().changed());
        assert_eq!(fake.calls(), calls(&[Call::LookUp, Call::LookUp, Call::SetDisplayname, Call::LookUp]));
        // So does a listing of many users.
        let fake = Fake::new().showing_names().listing().with("john", named(Some("john")));
        let items = [crate::Item { user: user("john"), wanted: wanted.clone() }];
        let results = crate::ensure_many(&fake, &items, 1, false, |_| ()).await;
        assert_eq!(results[0].as_ref().unwrap().plan.actions, vec![Action::SetDisplayname]);
        assert_eq!(fake.calls(), vec![(Call::List, String::new()), (Call::SetDisplayname, "john".to_string())]);
    }

    #[tokio::test]
    async fn the_display_name_follows_the_state() {
        let password = Secret::new(PASSWORD);
        let named = |state| Wanted { state, displayname: Some("John"), ..want(&password, None, OnCreate) };
        let old_name = |stored: Stored| Stored { displayname: Some("old".to_string()), ..stored };

        // Present again: unlocked or reactivated, then named.
        for (from, first) in [("locked", Action::Unlock), ("deactivated", Action::Reactivate)] {
            let fake = Fake::new().with("john", old_name(stored_as(from).unwrap()));
            let check = run(&fake, &named(AccountState::Present), true).await.unwrap();
            assert_eq!(check.plan.actions, vec![first, Action::SetDisplayname], "{from}");
            assert_eq!(fake.writes(), vec![]);
            let outcome = run(&fake, &named(AccountState::Present), false).await.unwrap();
            assert_eq!(outcome.plan, check.plan, "{from}: check mode predicts the real run");
            let stored = fake.account("john").unwrap();
            assert!(!stored.locked && !stored.deactivated, "{from}: {stored:?}");
            assert_eq!(stored.displayname.as_deref(), Some("John"));
            assert!(!run(&fake, &named(AccountState::Present), false).await.unwrap().changed());
        }

        // Locked or deactivated: the name is neither read nor set, even where it cannot be.
        for state in [AccountState::Locked, AccountState::Deactivated { erase: false }] {
            let fake = Fake::new()
                .cannot(Operation::SetDisplayname, "no names here")
                .with("john", old_name(stored_as("present").unwrap()));
            let outcome = run(&fake, &named(state), false).await.unwrap();
            assert_eq!(outcome.plan.actions.len(), 1, "{state:?}");
            assert_eq!(fake.count(Call::Displayname) + fake.count(Call::SetDisplayname), 0);
            assert_eq!(fake.account("john").unwrap().displayname.as_deref(), Some("old"));
        }
    }

    #[tokio::test]
    async fn a_display_name_the_backend_cannot_keep_stops_the_run_before_any_change() {
        let password = Secret::new(PASSWORD);
        let wanted = Wanted { displayname: Some("John"), admin: Some(true), ..want(&password, None, OnCreate) };
        let existing = || Stored::new("pw", false);
        for check_mode in [false, true] {
            // Missing a setting (Synapse without a token, Dendrite without its database).
            let fake =
                Fake::new().without(Operation::SetDisplayname, Setting::DendriteDatabase).with("john", existing());
            let err = run(&fake, &wanted, check_mode).await.unwrap_err();
            assert_eq!(needs(&err), Setting::DendriteDatabase);
            assert_eq!(fake.calls(), calls(&[Call::LookUp]));

            // Not possible at all (MAS): said why, naming the parameter.
            let fake = Fake::new().cannot(Operation::SetDisplayname, "no names here; leave out {displayname}");
            let fake = fake.with("john", existing());
            let err = run(&fake, &wanted, check_mode).await.unwrap_err();
            assert_eq!(err.settings(), vec![Setting::Displayname]);
            assert_eq!(
                err.render(|s| format!("--{}", s.key())),
                "keeping the display name of @john:example.com in step: no names here; leave out --displayname"
            );
            assert_eq!(fake.calls(), calls(&[Call::LookUp]));
            assert_eq!(fake.account("john"), Some(existing()));
        }
        // A new user is still created with it.
        let fake = Fake::new()
            .without(Operation::SetDisplayname, Setting::DendriteDatabase)
            .cannot(Operation::SetDisplayname, "no names here");
        let outcome = run(&fake, &wanted, false).await.unwrap();
        assert_eq!(outcome.plan.actions, vec![Action::Create { admin: true }]);
        assert_eq!(fake.account("john").unwrap().displayname.as_deref(), Some("John"));
    }

    #[tokio::test]
    async fn a_user_type_is_given_on_creation_only_and_refused_where_there_is_none() {
        let password = Secret::new(PASSWORD);
        let wanted = Wanted { user_type: Some(UserType::Bot), ..want(&password, None, OnCreate) };

        let fake = Fake::new();
        let outcome = run(&fake, &wanted, false).await.unwrap();
        assert_eq!(outcome.plan.actions, vec![Action::Create { admin: false }]);
        assert_eq!(fake.account("john").unwrap().user_type, Some(UserType::Bot));

        // An existing user's type is left alone: no change, nothing written.
        let fake = Fake::new().with("john", Stored::new("pw", false));
        let outcome =
            run(&fake, &Wanted { user_type: Some(UserType::Support), ..wanted.clone() }, false).await.unwrap();
        assert!(!outcome.changed());
        assert_eq!(fake.writes(), vec![]);
        assert_eq!(fake.account("john").unwrap().user_type, None);

        // A server without user types: refused before any request, existing user or not.
        for existing in [false, true] {
            for check_mode in [false, true] {
                let mut fake = Fake::new().cannot(Operation::CreateWithUserType, "none here; leave out {user_type}");
                if existing {
                    fake = fake.with("john", Stored::new("pw", false));
                }
                let err = run(&fake, &wanted, check_mode).await.unwrap_err();
                assert_eq!(err.to_string(), "creating @john:example.com as a bot user: none here; leave out user_type");
                assert_eq!(err.settings(), vec![Setting::UserType]);
                assert_eq!(fake.calls(), vec![]);
            }
        }
        // A state that creates nothing takes no type: locking is not refused for it.
        let fake =
            Fake::new().cannot(Operation::CreateWithUserType, "none here").with("john", Stored::new("pw", false));
        let locked = Wanted { state: AccountState::Locked, ..wanted.clone() };
        assert_eq!(run(&fake, &locked, false).await.unwrap().plan.actions, vec![Action::Lock]);
        let fake = Fake::new().cannot(Operation::CreateWithUserType, "none here");
        let outcome = run(&fake, &locked, false).await.unwrap();
        assert_eq!(outcome.message(), "@john:example.com is missing: nothing to lock");
        assert_eq!(fake.account("john"), None);
    }
}
