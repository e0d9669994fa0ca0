//! Observe, plan, apply: one account through a backend.

use homeserver::{Backend, Lookup, NewAccount, Operation, Setting, UserId};

use crate::plan::{plan, Action, Observed, Plan, PlanError, UpdatePassword, Wanted};

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
            return format!("{user} is already as wanted");
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
    if let Some(problem) = backend.password_problem(wanted.password) {
        return Err(PlanError::Password { user: user.to_string(), problem }.into());
    }
    // A password that will be checked or may be set, on a server that takes none (passwords
    // turned off): refused before any request about the user.
    let password_problem = || {
        backend.passwords_refused().map(|why| PlanError::Password {
            user: user.to_string(),
            problem: format!("cannot be set or checked: {why}"),
        })
    };
    if wanted.update_password == UpdatePassword::Always {
        if let Some(problem) = password_problem() {
            return Err(problem.into());
        }
    }
    let mut seen = seen;
    let mut raced = false;
    loop {
        let observed = observe(backend, user, wanted, seen.take()).await?;
        let plan = plan(user, &observed, wanted, |op| backend.missing_for(op), check_mode)?;
        let sets_password = plan
            .actions
            .iter()
            .any(|a| matches!(a, Action::Create { .. } | Action::CreateUnlessExists { .. } | Action::SetPassword));
        if sets_password {
            if let Some(problem) = password_problem() {
                return Err(problem.into());
            }
        }
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
    }
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
        if half_done {
            // Created, but its password (or flag) could not be set.
            partial.password_changes = Some(false);
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
        }
        Lookup::Unknown => {}
    }
    // An unfinished account has no password to check; a locked or deactivated one cannot log in.
    if observed.unfinished {
        observed.password_matches = Some(false);
    }
    let needs_login = match observed.exists {
        None => true,
        Some(true) => {
            !observed.deactivated
                && !observed.locked
                && (wanted.update_password == UpdatePassword::Always
                    || (observed.admin.is_none() && wanted.admin.is_some()))
        }
        Some(false) => false,
    };
    if needs_login {
        match backend.log_in(user, wanted.password).await? {
            Some(login) => {
                observed.exists = Some(true);
                observed.admin = observed.admin.or(login.admin);
                observed.password_matches = Some(true);
            }
            None if observed.exists == Some(true) => observed.password_matches = Some(false),
            None => {}
        }
    }
    if let (Some(email), Some(true)) = (wanted.email, observed.exists) {
        if backend.missing_for(Operation::AddEmail).is_none() {
            observed.has_email = Some(backend.has_email(user, email).await?);
        }
    }
    Ok(observed)
}

async fn apply<B: Backend>(backend: &B, user: &UserId, wanted: &Wanted<'_>, action: Action) -> Result<(), Error> {
    let new = |admin| NewAccount { password: wanted.password, admin, displayname: wanted.displayname };
    match action {
        Action::Create { admin } => backend.create(user, &new(admin)).await?,
        Action::CreateUnlessExists { admin } => match backend.create(user, &new(admin)).await {
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
        Action::SetPassword => backend.set_password(user, wanted.password).await?,
        Action::AddEmail => backend.add_email(user, wanted.email.unwrap_or_default()).await?,
    }
    Ok(())
}
