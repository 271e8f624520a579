//! Issued authorization codes and tokens, in memory.
//!
//! Every code starts a "grant": the tokens issued from it, and the tokens issued by refreshing (or, for Facebook,
//! extending) those, share the grant's id, so revoking a grant (a reused code, a revoked refresh token) removes
//! them all at once. Revoked access tokens are remembered, so that an API can tell "revoked" from "never issued"
//! (the Graph API answers error subcode 460 for the first).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// RFC 6749 recommends at most 10 minutes; Stripe's codes live 5.
pub(crate) const CODE_TTL: Duration = Duration::from_secs(300);
/// Used codes are remembered this much longer than they live, to catch (and punish) late replays.
const USED_CODE_MEMORY: Duration = Duration::from_secs(3600);

pub(crate) struct CodeGrant {
    pub client_id: String,
    /// The redirect URI sent to `/oauth/authorize`, if one was (RFC 6749 4.1.3 then requires it again).
    pub redirect_uri: Option<String>,
    pub scope: String,
    /// PKCE S256 challenge.
    pub challenge: Option<String>,
}

struct StoredCode {
    grant: CodeGrant,
    expires_at: Instant,
    grant_id: u64,
    redeemed: bool,
}

struct AccessToken {
    grant_id: u64,
    expires_at: Option<Instant>,
    /// What the token may do (Google's APIs refuse tokens without their scope).
    scope: String,
}

struct RefreshToken {
    grant_id: u64,
    client_id: String,
    scope: String,
}

#[derive(Default)]
struct Tables {
    codes: HashMap<String, StoredCode>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    /// Access tokens that were revoked (not those that merely expired).
    revoked: HashSet<String>,
    next_grant: u64,
}

impl Tables {
    fn revoke_access(&mut self, keep: impl Fn(&AccessToken) -> bool) {
        let revoked: Vec<String> = self
            .access
            .iter()
            .filter(|(_, token)| !keep(token))
            .map(|(key, _)| key.clone())
            .collect();
        for key in revoked {
            self.access.remove(&key);
            self.revoked.insert(key);
        }
    }

    fn revoke_grant(&mut self, grant_id: u64) {
        self.revoke_access(|token| token.grant_id != grant_id);
        self.refresh.retain(|_, token| token.grant_id != grant_id);
    }

    fn forget_stale_codes(&mut self, now: Instant) {
        self.codes
            .retain(|_, code| code.expires_at + USED_CODE_MEMORY > now);
    }
}

#[derive(Default)]
pub(crate) struct TokenStore {
    tables: Mutex<Tables>,
}

/// Why a code or refresh token was refused (all are `invalid_grant` on the wire).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum GrantError {
    Unknown,
    Expired,
    /// The code was already exchanged; the tokens issued from it are now revoked.
    Reused,
    WrongClient,
    RedirectUriMismatch,
    VerifierMissing,
    VerifierMismatch,
    VerifierUnexpected,
    ScopeTooBroad,
}

impl GrantError {
    pub(crate) fn description(&self) -> &'static str {
        match self {
            GrantError::Unknown => "Authorization code does not exist",
            GrantError::Expired => "Authorization code expired",
            GrantError::Reused => {
                "Authorization code already used; the tokens issued from it have been revoked"
            }
            GrantError::WrongClient => "The grant was issued to another client",
            GrantError::RedirectUriMismatch => {
                "redirect_uri does not match the one used in the authorization request"
            }
            GrantError::VerifierMissing => "code_verifier is required (a code_challenge was sent)",
            GrantError::VerifierMismatch => "code_verifier does not match the code_challenge",
            GrantError::VerifierUnexpected => {
                "code_verifier sent but the authorization request had no code_challenge"
            }
            GrantError::ScopeTooBroad => "The requested scope exceeds the scope of the grant",
        }
    }
}

/// Why an access token may not call `/v1`, `/v1beta` or `/v25.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenState {
    Expired,
    /// Issued, then revoked (a reused code, a revoked grant, `revoke_all`).
    Revoked,
    Unknown,
}

/// What a successful exchange grants.
pub(crate) struct Granted {
    pub scope: String,
}

/// RFC 7636 4.1: 43..128 characters from the unreserved set.
pub(crate) fn valid_pkce_string(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// BASE64URL(SHA256(verifier)), RFC 7636 4.2.
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Compares secrets without an early exit on the first differing byte.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl TokenStore {
    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave the maps half-updated in a harmful way.
        self.tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn issue_code(&self, code: String, grant: CodeGrant, now: Instant) {
        let mut tables = self.tables();
        tables.forget_stale_codes(now);
        tables.next_grant += 1;
        let grant_id = tables.next_grant;
        tables.codes.insert(
            code,
            StoredCode {
                grant,
                expires_at: now + CODE_TTL,
                grant_id,
                redeemed: false,
            },
        );
    }

    /// Exchanges a code (RFC 6749 4.1.3 + RFC 7636 4.6) and stores the tokens it yields: an access token and,
    /// unless `None` (Facebook issues none), a refresh token. A failed PKCE or redirect check leaves the code
    /// usable; a second exchange revokes everything the first one issued.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn redeem_code(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        tokens: (String, Option<String>),
        ttl: Option<Duration>,
        now: Instant,
    ) -> Result<Granted, GrantError> {
        let mut tables = self.tables();
        let stored = tables.codes.get(code).ok_or(GrantError::Unknown)?;
        if stored.redeemed {
            let grant_id = stored.grant_id;
            tables.revoke_grant(grant_id);
            return Err(GrantError::Reused);
        }
        if stored.expires_at <= now {
            return Err(GrantError::Expired);
        }
        if !constant_time_eq(&stored.grant.client_id, client_id) {
            return Err(GrantError::WrongClient);
        }
        if let Some(expected) = &stored.grant.redirect_uri {
            if redirect_uri != Some(expected.as_str()) {
                return Err(GrantError::RedirectUriMismatch);
            }
        }
        match (&stored.grant.challenge, verifier) {
            (Some(_), None) => return Err(GrantError::VerifierMissing),
            (Some(challenge), Some(verifier)) => {
                if !valid_pkce_string(verifier) || !constant_time_eq(&s256(verifier), challenge) {
                    return Err(GrantError::VerifierMismatch);
                }
            }
            (None, Some(_)) => return Err(GrantError::VerifierUnexpected),
            (None, None) => {}
        }
        let grant_id = stored.grant_id;
        let scope = stored.grant.scope.clone();
        let client = stored.grant.client_id.clone();
        if let Some(stored) = tables.codes.get_mut(code) {
            stored.redeemed = true;
        }
        let (access, refresh) = tokens;
        tables.access.insert(
            access,
            AccessToken {
                grant_id,
                expires_at: ttl.map(|ttl| now + ttl),
                scope: scope.clone(),
            },
        );
        if let Some(refresh) = refresh {
            tables.refresh.insert(
                refresh,
                RefreshToken {
                    grant_id,
                    client_id: client,
                    scope: scope.clone(),
                },
            );
        }
        Ok(Granted { scope })
    }

    /// Facebook's `fb_exchange_token`: a new access token of the same grant and scope, living `ttl` from `now`,
    /// for a live one (which stays live).
    pub(crate) fn extend(
        &self,
        token: &str,
        new_token: String,
        ttl: Duration,
        now: Instant,
    ) -> Result<Granted, TokenState> {
        let mut tables = self.tables();
        let stored = match tables.access.get(token) {
            Some(stored) if stored.expires_at.is_some_and(|at| at <= now) => {
                return Err(TokenState::Expired)
            }
            Some(stored) => stored,
            None if tables.revoked.contains(token) => return Err(TokenState::Revoked),
            None => return Err(TokenState::Unknown),
        };
        let (grant_id, scope) = (stored.grant_id, stored.scope.clone());
        tables.access.insert(
            new_token,
            AccessToken {
                grant_id,
                expires_at: Some(now + ttl),
                scope: scope.clone(),
            },
        );
        Ok(Granted { scope })
    }

    /// RFC 6749 6: a new access token, and a new refresh token replacing the old one (rotation).
    pub(crate) fn refresh(
        &self,
        refresh_token: &str,
        client_id: &str,
        requested_scope: Option<&str>,
        tokens: (String, String),
        ttl: Option<Duration>,
        now: Instant,
    ) -> Result<Granted, GrantError> {
        let mut tables = self.tables();
        let stored = tables
            .refresh
            .get(refresh_token)
            .ok_or(GrantError::Unknown)?;
        if !constant_time_eq(&stored.client_id, client_id) {
            return Err(GrantError::WrongClient);
        }
        let scope = match requested_scope {
            None => stored.scope.clone(),
            Some(requested) if scope_within(requested, &stored.scope) => requested.to_owned(),
            Some(_) => return Err(GrantError::ScopeTooBroad),
        };
        let grant_id = stored.grant_id;
        let client = stored.client_id.clone();
        tables.refresh.remove(refresh_token);
        let (access, refresh) = tokens;
        tables.access.insert(
            access,
            AccessToken {
                grant_id,
                expires_at: ttl.map(|ttl| now + ttl),
                scope: scope.clone(),
            },
        );
        tables.refresh.insert(
            refresh,
            RefreshToken {
                grant_id,
                client_id: client,
                scope: scope.clone(),
            },
        );
        Ok(Granted { scope })
    }

    /// The scope of a live access token, or why it is not live.
    pub(crate) fn access_token_scope(
        &self,
        token: &str,
        now: Instant,
    ) -> Result<String, TokenState> {
        let tables = self.tables();
        match tables.access.get(token) {
            None if tables.revoked.contains(token) => Err(TokenState::Revoked),
            None => Err(TokenState::Unknown),
            Some(stored) if stored.expires_at.is_some_and(|at| at <= now) => {
                Err(TokenState::Expired)
            }
            Some(stored) => Ok(stored.scope.clone()),
        }
    }

    /// RFC 7009: an access token goes alone; a refresh token takes its whole grant with it.
    pub(crate) fn revoke_token(&self, token: &str) {
        let mut tables = self.tables();
        if tables.access.remove(token).is_some() {
            tables.revoked.insert(token.to_owned());
            return;
        }
        if let Some(refresh) = tables.refresh.remove(token) {
            tables.revoke_grant(refresh.grant_id);
        }
    }

    pub(crate) fn revoke_all(&self) {
        let mut tables = self.tables();
        tables.revoke_access(|_| false);
        tables.refresh.clear();
    }
}

/// Every scope of the space-separated `requested` list is in `granted`, or is `read_only` where `granted` has
/// `read_write`.
pub(crate) fn scope_within(requested: &str, granted: &str) -> bool {
    let granted: Vec<&str> = granted.split_whitespace().collect();
    let mut requested = requested.split_whitespace().peekable();
    requested.peek().is_some()
        && requested.all(|scope| {
            granted.contains(&scope) || (scope == "read_only" && granted.contains(&"read_write"))
        })
}

/// Whether the space-separated scope list contains `scope`.
pub(crate) fn has_scope(scopes: &str, scope: &str) -> bool {
    scopes.split_whitespace().any(|granted| granted == scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn grant(challenge: Option<&str>) -> CodeGrant {
        CodeGrant {
            client_id: "client".into(),
            redirect_uri: Some("https://app/cb".into()),
            scope: "read_only".into(),
            challenge: challenge.map(str::to_owned),
        }
    }

    fn tokens(n: u32) -> (String, Option<String>) {
        (format!("at{n}"), Some(format!("rt{n}")))
    }

    fn pair(n: u32) -> (String, String) {
        (format!("at{n}"), format!("rt{n}"))
    }

    #[test]
    fn scopes_are_space_separated_sets() {
        let analytics = "https://www.googleapis.com/auth/analytics.readonly";
        assert!(scope_within("read_only", "read_write"));
        assert!(!scope_within("read_write", "read_only"));
        assert!(scope_within(analytics, &format!("read_only {analytics}")));
        assert!(scope_within(
            &format!("{analytics} read_only"),
            &format!("read_write {analytics}")
        ));
        assert!(!scope_within(analytics, "read_write"));
        assert!(!scope_within(" ", "read_write"));
        assert!(has_scope(&format!("read_only {analytics}"), analytics));
        assert!(!has_scope("read_only", analytics));
    }

    #[test]
    fn rfc7636_appendix_b_example() {
        assert_eq!(
            s256(VERIFIER),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(valid_pkce_string(VERIFIER));
        assert!(!valid_pkce_string("short"));
    }

    #[test]
    fn code_is_single_use_and_reuse_revokes() {
        let store = TokenStore::default();
        let now = Instant::now();
        store.issue_code("c1".into(), grant(Some(&s256(VERIFIER))), now);
        let redeem = |verifier: Option<&str>, n| {
            store.redeem_code(
                "c1",
                "client",
                Some("https://app/cb"),
                verifier,
                tokens(n),
                None,
                now,
            )
        };
        assert_eq!(redeem(None, 0).err(), Some(GrantError::VerifierMissing));
        assert_eq!(
            redeem(Some("x".repeat(43).as_str()), 0).err(),
            Some(GrantError::VerifierMismatch)
        );
        assert!(redeem(Some(VERIFIER), 1).is_ok());
        assert_eq!(
            store.access_token_scope("at1", now),
            Ok("read_only".to_owned())
        );
        assert_eq!(redeem(Some(VERIFIER), 2).err(), Some(GrantError::Reused));
        assert_eq!(
            store.access_token_scope("at1", now),
            Err(TokenState::Revoked)
        );
        assert_eq!(
            store.access_token_scope("at2", now),
            Err(TokenState::Unknown)
        );
    }

    #[test]
    fn codes_expire_and_bind_client_and_redirect() {
        let store = TokenStore::default();
        let now = Instant::now();
        store.issue_code("c".into(), grant(None), now);
        let later = now + CODE_TTL;
        let at = |client, redirect, when| {
            store
                .redeem_code("c", client, redirect, None, tokens(1), None, when)
                .err()
        };
        assert_eq!(
            at("client", Some("https://app/cb"), later),
            Some(GrantError::Expired)
        );
        assert_eq!(
            at("other", Some("https://app/cb"), now),
            Some(GrantError::WrongClient)
        );
        assert_eq!(
            at("client", None, now),
            Some(GrantError::RedirectUriMismatch)
        );
        assert_eq!(at("client", Some("https://app/cb"), now), None);
    }

    #[test]
    fn refresh_rotates_and_expiry_is_enforced() {
        let store = TokenStore::default();
        let now = Instant::now();
        store.issue_code("c".into(), grant(None), now);
        let ttl = Some(Duration::from_secs(60));
        store
            .redeem_code(
                "c",
                "client",
                Some("https://app/cb"),
                None,
                tokens(1),
                ttl,
                now,
            )
            .map(|_| ())
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            store.access_token_scope("at1", now + Duration::from_secs(61)),
            Err(TokenState::Expired)
        );
        assert!(store
            .refresh("rt1", "client", None, pair(2), ttl, now)
            .is_ok());
        assert_eq!(
            store
                .refresh("rt1", "client", None, pair(3), ttl, now)
                .err(),
            Some(GrantError::Unknown)
        );
        assert_eq!(
            store
                .refresh("rt2", "client", Some("read_write"), pair(3), ttl, now)
                .err(),
            Some(GrantError::ScopeTooBroad)
        );
        store.revoke_token("rt2");
        assert_eq!(
            store.access_token_scope("at2", now),
            Err(TokenState::Revoked)
        );
        assert_eq!(
            store.access_token_scope("at1", now),
            Err(TokenState::Revoked)
        );
    }

    #[test]
    fn facebook_grants_have_no_refresh_token_and_extend_live_tokens() {
        let store = TokenStore::default();
        let now = Instant::now();
        store.issue_code("c".into(), grant(None), now);
        let short = Duration::from_secs(60);
        assert!(store
            .redeem_code(
                "c",
                "client",
                Some("https://app/cb"),
                None,
                ("short".into(), None),
                Some(short),
                now,
            )
            .is_ok());
        let long = Duration::from_secs(3600);
        let extended = store.extend("short", "long".into(), long, now);
        assert_eq!(extended.map(|g| g.scope), Ok("read_only".to_owned()));
        let later = now + Duration::from_secs(61);
        assert_eq!(
            store.access_token_scope("short", later),
            Err(TokenState::Expired)
        );
        assert!(store.access_token_scope("long", later).is_ok());
        assert_eq!(
            store.extend("short", "x".into(), long, later).err(),
            Some(TokenState::Expired)
        );
        assert_eq!(
            store.extend("nope", "y".into(), long, now).err(),
            Some(TokenState::Unknown)
        );
        store.revoke_all();
        assert_eq!(
            store.access_token_scope("long", now),
            Err(TokenState::Revoked)
        );
        assert_eq!(
            store.extend("long", "z".into(), long, now).err(),
            Some(TokenState::Revoked)
        );
    }
}
