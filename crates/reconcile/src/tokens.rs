//! Registration tokens, declared like accounts: [`plan_token`] is the pure decision (the token
//! as the server holds it, if it does, against the wanted one), [`ensure_token`] finds the token
//! in the server's listing, plans, and carries the plan out unless in check mode. The words of
//! each action are here too ([`TokenAction::words`]).

use homeserver::registration_tokens::{
    format_time, generate, named, Limits, LimitsChange, RegistrationToken, Removal, TokenStore,
};
use homeserver::Secret;
use serde_json::{json, Value};

/// When the wanted token expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Never,
    /// At this time (seconds since 1970), kept so on every run.
    At(i64),
    /// At this time, given relative to the run (`7d`): set when the token is created, and not
    /// compared afterwards (every run would otherwise move it).
    OnCreate(i64),
}

/// The token the task declares.
#[derive(Debug, Clone)]
pub struct WantedToken<'a> {
    /// How the token is named in output; with no `token`, the prefix of the one generated.
    pub name: &'a str,
    /// The token string the operator chose, if any.
    pub token: Option<&'a Secret>,
    pub present: bool,
    /// `None`: left as it is (unlimited on creation); `Some(None)`: no limit.
    pub uses_allowed: Option<Option<u32>>,
    /// `None`: left as it is (never on creation).
    pub expiry: Option<Expiry>,
}

/// What output may say of a token: everything but its string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenState {
    pub uses_allowed: Option<u32>,
    pub expiry: Option<i64>,
    pub completed: u32,
    pub pending: u32,
    pub revoked: bool,
}

impl TokenState {
    pub fn of(token: &RegistrationToken) -> TokenState {
        TokenState {
            uses_allowed: token.uses_allowed,
            expiry: token.expiry,
            completed: token.completed,
            pending: token.pending,
            revoked: token.revoked,
        }
    }

    /// The state as the diff and the result show it.
    pub fn to_json(self) -> Value {
        json!({
            "state": if self.revoked { "revoked" } else { "present" },
            "uses_allowed": self.uses_allowed,
            "expiry_time": self.expiry.map(format_time),
            "completed": self.completed,
            "pending": self.pending,
        })
    }
}

/// One step of a token's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAction {
    Create(Limits),
    /// Take a revoked token back into use (MAS).
    Restore,
    Change(LimitsChange),
    Remove(Removal),
}

impl TokenAction {
    /// "created", "would create", ...: the one place an action is worded.
    pub fn words(self, done: bool) -> &'static str {
        match (self, done) {
            (TokenAction::Create(_), true) => "created",
            (TokenAction::Create(_), false) => "would create",
            (TokenAction::Restore, true) => "took back into use",
            (TokenAction::Restore, false) => "would take back into use",
            (TokenAction::Change(_), true) => "changed the limits of",
            (TokenAction::Change(_), false) => "would change the limits of",
            (TokenAction::Remove(Removal::Delete), true) => "deleted",
            (TokenAction::Remove(Removal::Delete), false) => "would delete",
            (TokenAction::Remove(Removal::Revoke), true) => "revoked",
            (TokenAction::Remove(Removal::Revoke), false) => "would revoke",
        }
    }
}

/// What is to be done with one token, and its state before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPlan {
    pub before: Option<TokenState>,
    pub after: Option<TokenState>,
    pub actions: Vec<TokenAction>,
}

impl TokenPlan {
    /// The diff's before and after (`{"state": "absent"}` for no token).
    pub fn diff(&self) -> (Value, Value) {
        let side = |state: Option<TokenState>| state.map_or_else(|| json!({"state": "absent"}), TokenState::to_json);
        (side(self.before), side(self.after))
    }
}

/// The decision: `observed` (the token as the server holds it) against `wanted`, on a server
/// that removes tokens as `removal` says.
pub fn plan_token(observed: Option<TokenState>, wanted: &WantedToken<'_>, removal: Removal) -> TokenPlan {
    let mut actions = Vec::new();
    let after = match (observed, wanted.present) {
        (None, false) => None,
        (Some(state), false) if state.revoked => Some(state),
        (Some(state), false) => {
            actions.push(TokenAction::Remove(removal));
            match removal {
                Removal::Delete => None,
                Removal::Revoke => Some(TokenState { revoked: true, ..state }),
            }
        }
        (None, true) => {
            let limits = Limits {
                uses_allowed: wanted.uses_allowed.flatten(),
                expiry: match wanted.expiry {
                    Some(Expiry::At(at) | Expiry::OnCreate(at)) => Some(at),
                    Some(Expiry::Never) | None => None,
                },
            };
            actions.push(TokenAction::Create(limits));
            Some(TokenState {
                uses_allowed: limits.uses_allowed,
                expiry: limits.expiry,
                completed: 0,
                pending: 0,
                revoked: false,
            })
        }
        (Some(state), true) => {
            let mut after = state;
            if state.revoked {
                actions.push(TokenAction::Restore);
                after.revoked = false;
            }
            let mut change = LimitsChange::default();
            if let Some(uses) = wanted.uses_allowed.filter(|uses| *uses != state.uses_allowed) {
                change.uses_allowed = Some(uses);
                after.uses_allowed = uses;
            }
            let expiry = match wanted.expiry {
                Some(Expiry::Never) => Some(None),
                Some(Expiry::At(at)) => Some(Some(at)),
                Some(Expiry::OnCreate(_)) | None => None,
            };
            if let Some(expiry) = expiry.filter(|expiry| *expiry != state.expiry) {
                change.expiry = Some(expiry);
                after.expiry = expiry;
            }
            if change != LimitsChange::default() {
                actions.push(TokenAction::Change(change));
            }
            Some(after)
        }
    };
    TokenPlan { before: observed, after, actions }
}

/// Why ensuring a token failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Homeserver(#[from] homeserver::Error),
    /// More than one token of the server carries the name: which one is meant is not known.
    #[error(
        "{count} registration tokens on the server carry the name {name} (made by two runs at once?): delete all but \
         one with the server's admin API, or give the one meant as `token`"
    )]
    Ambiguous { name: String, count: usize },
    /// A token could not be made (no random source).
    #[error("cannot make a token for {name}: {cause}")]
    Generate { name: String, cause: String },
    /// Part of the plan was carried out before a step failed.
    #[error("registration token {name}: {done}, then failed: {cause}")]
    Partial { name: String, done: &'static str, cause: Box<homeserver::Error> },
}

impl TokenError {
    /// The settings the error asks to set or check.
    pub fn settings(&self) -> Vec<homeserver::Setting> {
        match self {
            TokenError::Homeserver(e) => e.settings(),
            TokenError::Partial { cause, .. } => cause.settings(),
            _ => Vec::new(),
        }
    }

    /// The message, its settings named by `name`.
    pub fn render(&self, name: impl Fn(homeserver::Setting) -> String) -> String {
        match self {
            TokenError::Homeserver(e) => e.render(name),
            TokenError::Partial { name: token, done, cause } => {
                format!("registration token {token}: {done}, then failed: {}", cause.render(name))
            }
            other => other.to_string(),
        }
    }
}

/// What ensuring one token did (or would do, in check mode).
#[derive(Debug, Clone)]
pub struct TokenOutcome {
    pub name: String,
    pub plan: TokenPlan,
    pub check_mode: bool,
    /// The token this run generated: given to the caller once, never again.
    pub generated: Option<Secret>,
}

impl TokenOutcome {
    pub fn changed(&self) -> bool {
        !self.plan.actions.is_empty()
    }

    /// "created registration token spring-party", "registration token spring-party unchanged".
    pub fn message(&self) -> String {
        let name = &self.name;
        if self.plan.actions.is_empty() {
            return format!("registration token {name} unchanged");
        }
        let words: Vec<&str> = self.plan.actions.iter().map(|action| action.words(!self.check_mode)).collect();
        format!("{} registration token {name}", words.join(", "))
    }
}

/// The token `wanted` means among `listed` (the server's tokens): the one with its string when
/// given, else the one generated for its name that is not revoked.
pub fn find<'t>(
    listed: &'t [RegistrationToken],
    wanted: &WantedToken<'_>,
) -> Result<Option<&'t RegistrationToken>, TokenError> {
    let found: Vec<&RegistrationToken> = match wanted.token {
        Some(token) => listed.iter().filter(|t| t.token == *token).collect(),
        None => listed.iter().filter(|t| !t.revoked && named(t.token.expose(), wanted.name)).collect(),
    };
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => Err(TokenError::Ambiguous { name: wanted.name.to_string(), count: many.len() }),
    }
}

/// Finds the wanted token among `listed`, plans, and unless `check_mode` carries the plan out.
pub async fn ensure_token<S: TokenStore>(
    store: &S,
    listed: &[RegistrationToken],
    wanted: &WantedToken<'_>,
    check_mode: bool,
) -> Result<TokenOutcome, TokenError> {
    let existing = find(listed, wanted)?;
    // The token acted on is sent to the server, which may echo it in an error: it joins the
    // output mask. The others of the listing are never sent, and are not masked, so that a
    // short one cannot mangle the name or the token this run hands out.
    if let Some(token) = existing {
        drop(Secret::obtained(token.token.expose()));
    }
    let plan = plan_token(existing.map(TokenState::of), wanted, store.token_rules().removal);
    let mut outcome = TokenOutcome { name: wanted.name.to_string(), plan, check_mode, generated: None };
    if check_mode {
        return Ok(outcome);
    }
    let name = wanted.name.to_string();
    let mut done: Option<&'static str> = None;
    for action in outcome.plan.actions.clone() {
        let result = match (action, existing) {
            (TokenAction::Create(limits), _) => {
                let token = match wanted.token {
                    Some(token) => token.clone(),
                    None => {
                        generate(wanted.name).map_err(|cause| TokenError::Generate { name: name.clone(), cause })?
                    }
                };
                let created = store.create_token(&token, limits).await;
                match created {
                    Ok(()) if wanted.token.is_none() => outcome.generated = Some(token),
                    Ok(()) => {}
                    // Not handed out: masked in whatever the failure prints.
                    Err(_) => drop(Secret::obtained(token.expose())),
                }
                created
            }
            (TokenAction::Restore, Some(token)) => store.restore_token(token).await,
            (TokenAction::Change(change), Some(token)) => {
                let token = RegistrationToken { revoked: false, ..token.clone() };
                store.update_token(&token, change).await
            }
            (TokenAction::Remove(_), Some(token)) => store.remove_token(token).await,
            // A plan for a token that exists acts only on an existing one.
            (_, None) => Ok(()),
        };
        match (result, done) {
            (Ok(()), _) => done = Some(action.words(true)),
            (Err(cause), Some(done)) => return Err(TokenError::Partial { name, done, cause: Box::new(cause) }),
            (Err(cause), None) => return Err(TokenError::Homeserver(cause)),
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use homeserver::registration_tokens::TokenRules;
    use homeserver::Error;

    use super::*;

    fn state(uses: Option<u32>, expiry: Option<i64>, revoked: bool) -> TokenState {
        TokenState { uses_allowed: uses, expiry, completed: 1, pending: 0, revoked }
    }

    fn wanted(present: bool, uses: Option<Option<u32>>, expiry: Option<Expiry>) -> WantedToken<'static> {
        WantedToken { name: "party", token: None, present, uses_allowed: uses, expiry }
    }

    const T: i64 = 4_102_444_800;

    /// observed, wanted, removal, actions, the state after.
    type Row = (Option<TokenState>, WantedToken<'static>, Removal, Vec<TokenAction>, Option<TokenState>);

    /// The decision table: observed, wanted, removal → actions and the state after.
    #[test]
    fn plan_table() {
        use Removal::*;
        use TokenAction::*;
        let change = |uses, expiry| Change(LimitsChange { uses_allowed: uses, expiry });
        // One row a line, as a table reads.
        #[rustfmt::skip]
        let rows: Vec<Row> = vec![
            // Missing: created with what is given (unlimited, never when not).
            (None, wanted(true, None, None), Delete, vec![Create(Limits::default())], Some(TokenState { completed: 0, ..state(None, None, false) })),
            (None, wanted(true, Some(Some(5)), Some(Expiry::OnCreate(T))), Delete,
             vec![Create(Limits { uses_allowed: Some(5), expiry: Some(T) })], Some(TokenState { completed: 0, ..state(Some(5), Some(T), false) })),
            (None, wanted(false, None, None), Delete, vec![], None),
            // Present and as wanted, or not managed: nothing.
            (Some(state(Some(5), Some(T), false)), wanted(true, Some(Some(5)), Some(Expiry::At(T))), Delete, vec![], Some(state(Some(5), Some(T), false))),
            (Some(state(Some(5), Some(T), false)), wanted(true, None, None), Delete, vec![], Some(state(Some(5), Some(T), false))),
            // A relative expiry is not compared once the token exists.
            (Some(state(Some(5), Some(T), false)), wanted(true, None, Some(Expiry::OnCreate(T + 60))), Delete, vec![], Some(state(Some(5), Some(T), false))),
            // Changed limits.
            (Some(state(Some(5), None, false)), wanted(true, Some(Some(10)), None), Delete, vec![change(Some(Some(10)), None)], Some(state(Some(10), None, false))),
            (Some(state(Some(5), None, false)), wanted(true, Some(None), None), Delete, vec![change(Some(None), None)], Some(state(None, None, false))),
            (Some(state(None, Some(T), false)), wanted(true, None, Some(Expiry::Never)), Delete, vec![change(None, Some(None))], Some(state(None, None, false))),
            (Some(state(None, Some(T), false)), wanted(true, None, Some(Expiry::At(T + 1))), Delete, vec![change(None, Some(Some(T + 1)))], Some(state(None, Some(T + 1), false))),
            // Absent: deleted, or revoked where the server keeps revoked tokens.
            (Some(state(None, None, false)), wanted(false, None, None), Delete, vec![Remove(Delete)], None),
            (Some(state(None, None, false)), wanted(false, None, None), Revoke, vec![Remove(Revoke)], Some(state(None, None, true))),
            (Some(state(None, None, true)), wanted(false, None, None), Revoke, vec![], Some(state(None, None, true))),
            // A revoked token wanted present: taken back into use, then its limits.
            (Some(state(Some(1), None, true)), wanted(true, Some(Some(2)), None), Revoke, vec![Restore, change(Some(Some(2)), None)], Some(state(Some(2), None, false))),
        ];
        for (i, (observed, wanted, removal, actions, after)) in rows.into_iter().enumerate() {
            let plan = plan_token(observed, &wanted, removal);
            assert_eq!(plan.actions, actions, "row {i}");
            assert_eq!(plan.after, after, "row {i}");
            assert_eq!(plan.before, observed, "row {i}");
        }
    }

    /// A fake server: its tokens, and the calls it was given.
    struct Fake {
        removal: Removal,
        tokens: RefCell<Vec<RegistrationToken>>,
        calls: RefCell<Vec<String>>,
        fail_update: bool,
    }

    impl Fake {
        fn new(removal: Removal, tokens: Vec<RegistrationToken>) -> Fake {
            Fake { removal, tokens: RefCell::new(tokens), calls: RefCell::new(Vec::new()), fail_update: false }
        }

        fn index(&self, token: &RegistrationToken) -> usize {
            self.tokens.borrow().iter().position(|t| t.token == token.token).expect("a token the fake holds")
        }
    }

    impl TokenStore for Fake {
        fn token_rules(&self) -> TokenRules {
            TokenRules {
                server: "fake",
                allowed: "letters",
                allows: |c| c.is_ascii_alphanumeric(),
                removal: self.removal,
                sign_up_ignores_tokens: None,
            }
        }
        async fn list_tokens(&self) -> Result<Vec<RegistrationToken>, Error> {
            Ok(self.tokens.borrow().clone())
        }
        async fn create_token(&self, token: &Secret, limits: Limits) -> Result<(), Error> {
            self.calls.borrow_mut().push("create".into());
            self.tokens.borrow_mut().push(RegistrationToken {
                token: token.clone(),
                uses_allowed: limits.uses_allowed,
                expiry: limits.expiry,
                completed: 0,
                pending: 0,
                revoked: false,
                id: None,
            });
            Ok(())
        }
        async fn update_token(&self, token: &RegistrationToken, change: LimitsChange) -> Result<(), Error> {
            self.calls.borrow_mut().push("update".into());
            if self.fail_update {
                return Err(Error::TimedOut { action: "updating".into(), secs: 1.0 });
            }
            let i = self.index(token);
            let mut tokens = self.tokens.borrow_mut();
            tokens[i].uses_allowed = change.uses_allowed.unwrap_or(tokens[i].uses_allowed);
            tokens[i].expiry = change.expiry.unwrap_or(tokens[i].expiry);
            Ok(())
        }
        async fn remove_token(&self, token: &RegistrationToken) -> Result<(), Error> {
            self.calls.borrow_mut().push("remove".into());
            let i = self.index(token);
            match self.removal {
                Removal::Delete => drop(self.tokens.borrow_mut().remove(i)),
                Removal::Revoke => self.tokens.borrow_mut()[i].revoked = true,
            }
            Ok(())
        }
        async fn restore_token(&self, token: &RegistrationToken) -> Result<(), Error> {
            self.calls.borrow_mut().push("restore".into());
            let i = self.index(token);
            self.tokens.borrow_mut()[i].revoked = false;
            Ok(())
        }
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    /// Check mode predicts exactly what the real run then does, and a second run changes nothing.
    #[test]
    fn check_mode_predicts_the_run_and_a_rerun_changes_nothing() {
        for removal in [Removal::Delete, Removal::Revoke] {
            let fake = Fake::new(removal, Vec::new());
            let steps = [
                wanted(true, Some(Some(3)), Some(Expiry::OnCreate(T))),
                wanted(true, Some(Some(5)), Some(Expiry::At(T))),
                wanted(false, None, None),
            ];
            for step in &steps {
                let listed = run(fake.list_tokens()).unwrap();
                let predicted = run(ensure_token(&fake, &listed, step, true)).unwrap();
                assert!(predicted.generated.is_none());
                assert!(fake.calls.borrow().is_empty(), "check mode wrote");
                let done = run(ensure_token(&fake, &listed, step, false)).unwrap();
                assert_eq!(predicted.plan, done.plan);
                assert!(done.changed());
                fake.calls.borrow_mut().clear();
                let listed = run(fake.list_tokens()).unwrap();
                let again = run(ensure_token(&fake, &listed, step, false)).unwrap();
                assert!(!again.changed(), "{removal:?} {step:?}: {:?}", again.plan);
                assert!(fake.calls.borrow().is_empty());
            }
        }
    }

    #[test]
    fn a_generated_token_is_handed_out_once_and_found_again_by_its_name() {
        let fake = Fake::new(Removal::Delete, Vec::new());
        let created = run(ensure_token(&fake, &[], &wanted(true, None, None), false)).unwrap();
        let token = created.generated.clone().expect("the generated token");
        assert!(named(token.expose(), "party"));
        assert_eq!(created.message(), "created registration token party");
        let listed = run(fake.list_tokens()).unwrap();
        let again = run(ensure_token(&fake, &listed, &wanted(true, None, None), false)).unwrap();
        assert!(again.generated.is_none());
        assert_eq!(again.message(), "registration token party unchanged");
    }

    #[test]
    fn a_given_token_is_found_by_its_string_and_never_handed_back() {
        let given = Secret::new("chosen-by-hand");
        let fake = Fake::new(Removal::Revoke, Vec::new());
        let wanted = WantedToken { token: Some(&given), ..wanted(true, Some(Some(1)), None) };
        let created = run(ensure_token(&fake, &[], &wanted, false)).unwrap();
        assert!(created.changed() && created.generated.is_none());
        let listed = run(fake.list_tokens()).unwrap();
        assert_eq!(listed[0].token, given);
        assert!(!run(ensure_token(&fake, &listed, &wanted, false)).unwrap().changed());
    }

    #[test]
    fn two_tokens_of_one_name_are_refused_and_a_failure_after_a_change_says_so() {
        let token = |s: &str, revoked| RegistrationToken {
            token: Secret::new(s),
            uses_allowed: None,
            expiry: None,
            completed: 0,
            pending: 0,
            revoked,
            id: None,
        };
        let twice = [token("party-0123456789abcdefghij", false), token("party-abcdefghij0123456789", false)];
        let error = find(&twice, &wanted(true, None, None)).unwrap_err();
        assert_eq!(error, TokenError::Ambiguous { name: "party".into(), count: 2 });
        // A revoked one does not count: the name is free for a new token.
        let one_revoked = [token("party-0123456789abcdefghij", true)];
        assert!(find(&one_revoked, &wanted(true, None, None)).unwrap().is_none());

        let mut fake = Fake::new(Removal::Revoke, one_revoked.to_vec());
        fake.fail_update = true;
        let given = Secret::new("party-0123456789abcdefghij");
        let wanted = WantedToken { token: Some(&given), ..wanted(true, Some(Some(2)), None) };
        let listed = run(fake.list_tokens()).unwrap();
        let error = run(ensure_token(&fake, &listed, &wanted, false)).unwrap_err();
        assert!(matches!(error, TokenError::Partial { done: "took back into use", .. }), "{error:?}");
    }
}
