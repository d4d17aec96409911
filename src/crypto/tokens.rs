//! Survey tokens: the links by which a victim rates the provider that handled its case. The
//! victim holds no certificate, so the link itself carries the authority to answer: a JWT
//! (HS256, keyed with a hub secret) naming the case and the provider, with an expiry. That a
//! token is answered once only is the store's business, by its `jti`.
//!
//! Times are parameters: the expiry is checked against the `now` passed in, never against the
//! system clock, which is why the library's own time checks are turned off.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Who issues survey tokens, and for what: a token of the hub made for any other use, keyed
/// with the same secret by mistake, is still not a survey token.
pub const ISSUER: &str = "relais";
pub const AUDIENCE: &str = "relais-survey";
/// The audience of the links by which a beneficiary chooses its provider: a survey token is
/// not a choice token, nor the reverse, though both are keyed with the same secret.
pub const CHOICE_AUDIENCE: &str = "relais-choice";

/// The longest token accepted. A survey token is a few hundred bytes; a longer one is not
/// ours, and is refused before any base64 or JSON of it is decoded.
pub const MAX_TOKEN_LEN: usize = 4 * 1024;

/// The shortest secret accepted: HS256 is only as strong as its key (RFC 7518 §3.2 asks for at
/// least the hash's 256 bits).
pub const MIN_KEY_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a well-formed survey token: {0}")]
    Malformed(String),
    #[error("the survey token's signature is not the hub's")]
    BadSignature,
    #[error("the survey token has expired")]
    Expired,
    #[error("not a survey token of this hub (issuer or audience)")]
    WrongAudience,
    #[error("the survey token is {len} bytes long; at most {limit} are accepted")]
    TooLong { len: usize, limit: usize },
    #[error("the token key is {len} bytes long; at least {min} are needed")]
    WeakKey { len: usize, min: usize },
    #[error("cannot issue the survey token: {0}")]
    Issue(String),
}

/// What a survey link grants: answering the survey of one case about one provider, until
/// `exp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyClaims {
    /// Unique per token; the store records it when the survey is answered, which makes the
    /// token single-use.
    pub jti: String,
    /// The provider's organisation id.
    pub provider: String,
    pub case: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds: refused from that second on.
    pub exp: i64,
}

/// The claims as they travel: `iss` and `aud` are fixed, so they are not the caller's to set.
/// Both are optional here only so that a token without them is refused as not ours
/// ([`TokenError::WrongAudience`]) rather than as unreadable.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    iss: Option<String>,
    aud: Option<String>,
    jti: String,
    provider: String,
    case: String,
    iat: i64,
    exp: i64,
}

/// The part of the JOSE header looked at before the library is: only `alg`.
#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
}

fn check_key(key: &[u8]) -> Result<(), TokenError> {
    if key.len() < MIN_KEY_LEN {
        return Err(TokenError::WeakKey {
            len: key.len(),
            min: MIN_KEY_LEN,
        });
    }
    Ok(())
}

/// The token for `claims`, signed with the hub's survey secret `key`.
pub fn issue_survey_token(key: &[u8], claims: &SurveyClaims) -> Result<String, TokenError> {
    issue(key, AUDIENCE, claims)
}

/// What a choice link grants: choosing, once, a provider from the case's shortlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceClaims {
    /// The link's id: the store records its use.
    pub jti: String,
    pub case: String,
    pub iat: i64,
    pub exp: i64,
}

pub fn issue_choice_token(key: &[u8], claims: &ChoiceClaims) -> Result<String, TokenError> {
    issue(
        key,
        CHOICE_AUDIENCE,
        &SurveyClaims {
            jti: claims.jti.clone(),
            provider: String::new(),
            case: claims.case.clone(),
            iat: claims.iat,
            exp: claims.exp,
        },
    )
}

/// The claims of a choice link signed by the hub with `key`, unexpired as of `now`.
pub fn verify_choice_token(
    key: &[u8],
    token: &str,
    now: OffsetDateTime,
) -> Result<ChoiceClaims, TokenError> {
    let c = verify(key, CHOICE_AUDIENCE, token, now)?;
    Ok(ChoiceClaims {
        jti: c.jti,
        case: c.case,
        iat: c.iat,
        exp: c.exp,
    })
}

fn issue(key: &[u8], audience: &str, claims: &SurveyClaims) -> Result<String, TokenError> {
    check_key(key)?;
    if claims.exp <= claims.iat {
        return Err(TokenError::Issue(
            "it would expire before it is issued".into(),
        ));
    }
    let wire = Wire {
        iss: Some(ISSUER.into()),
        aud: Some(audience.into()),
        jti: claims.jti.clone(),
        provider: claims.provider.clone(),
        case: claims.case.clone(),
        iat: claims.iat,
        exp: claims.exp,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &wire,
        &EncodingKey::from_secret(key),
    )
    .map_err(|e| TokenError::Issue(e.to_string()))?;
    // A token the verifier would refuse must not be sent to a victim.
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong {
            len: token.len(),
            limit: MAX_TOKEN_LEN,
        });
    }
    Ok(token)
}

/// The claims of `token` if the hub signed it with `key` (HS256 and nothing else), for the
/// survey, and it has not expired as of `now`.
pub fn verify_survey_token(
    key: &[u8],
    token: &str,
    now: OffsetDateTime,
) -> Result<SurveyClaims, TokenError> {
    verify(key, AUDIENCE, token, now)
}

fn verify(
    key: &[u8],
    audience: &str,
    token: &str,
    now: OffsetDateTime,
) -> Result<SurveyClaims, TokenError> {
    check_key(key)?;
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong {
            len: token.len(),
            limit: MAX_TOKEN_LEN,
        });
    }
    check_alg(token)?;

    let mut validation = Validation::new(Algorithm::HS256);
    // The library would compare `exp` with the system clock; it is compared with `now` below.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[audience]);
    let wire = jsonwebtoken::decode::<Wire>(token, &DecodingKey::from_secret(key), &validation)
        .map_err(|e| match e.into_kind() {
            ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => TokenError::BadSignature,
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => TokenError::WrongAudience,
            ErrorKind::MissingRequiredClaim(claim) if claim == "iss" || claim == "aud" => {
                TokenError::WrongAudience
            }
            other => TokenError::Malformed(jsonwebtoken::errors::Error::from(other).to_string()),
        })?
        .claims;

    // The library accepts an audience list that merely includes ours; a survey token names
    // exactly one (and `Wire` has a string there, so a list does not even parse).
    if wire.iss.as_deref() != Some(ISSUER) || wire.aud.as_deref() != Some(audience) {
        return Err(TokenError::WrongAudience);
    }
    // RFC 7519 §4.1.4: not accepted on or after `exp`.
    if now.unix_timestamp() >= wire.exp {
        return Err(TokenError::Expired);
    }
    Ok(SurveyClaims {
        jti: wire.jti,
        provider: wire.provider,
        case: wire.case,
        iat: wire.iat,
        exp: wire.exp,
    })
}

/// Refuses any `alg` but HS256 here, whatever algorithms the library knows or will know: a
/// token that says `none`, or names a public-key algorithm so that the secret would be taken
/// for a public key, is refused as unsigned by the hub.
fn check_alg(token: &str) -> Result<(), TokenError> {
    let malformed = |why: &str| TokenError::Malformed(why.into());
    let (header, _) = token
        .split_once('.')
        .ok_or_else(|| malformed("not three dot-separated parts"))?;
    let header = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| malformed("the header is not base64url"))?;
    let header: JoseHeader = serde_json::from_slice(&header)
        .map_err(|_| malformed("the header is not a JOSE header"))?;
    if header.alg != "HS256" {
        return Err(TokenError::BadSignature);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const KEY: [u8; 32] = [7; 32];
    const ISSUED: OffsetDateTime = datetime!(2026-03-01 10:00:00 UTC);
    const EXPIRES: OffsetDateTime = datetime!(2026-03-31 10:00:00 UTC);

    fn claims() -> SurveyClaims {
        SurveyClaims {
            jti: "0b6f1c9e-8d2a-4c3b-9e7f-5a4d3c2b1a09".into(),
            provider: "organisation--5f0c2a7e-1111-4c3b-9e7f-5a4d3c2b1a09".into(),
            case: "case--2026-0042".into(),
            iat: ISSUED.unix_timestamp(),
            exp: EXPIRES.unix_timestamp(),
        }
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn hs256(key: &[u8], message: &str) -> String {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
        b64(ring::hmac::sign(&key, message.as_bytes()).as_ref())
    }

    /// A token built by hand: any header, any payload, signed with HS256 under `key` (or with
    /// the signature given).
    fn craft(header: &str, payload: &serde_json::Value, key: &[u8]) -> String {
        let message = format!(
            "{}.{}",
            b64(header.as_bytes()),
            b64(payload.to_string().as_bytes())
        );
        let signature = hs256(key, &message);
        format!("{message}.{signature}")
    }

    fn payload() -> serde_json::Value {
        serde_json::json!({
            "iss": ISSUER,
            "aud": AUDIENCE,
            "jti": "j",
            "provider": "p",
            "case": "c",
            "iat": ISSUED.unix_timestamp(),
            "exp": EXPIRES.unix_timestamp(),
        })
    }

    #[test]
    fn round_trip() {
        let token = issue_survey_token(&KEY, &claims()).unwrap();
        assert_eq!(token.split('.').count(), 3);
        let now = datetime!(2026-03-10 00:00:00 UTC);
        assert_eq!(verify_survey_token(&KEY, &token, now).unwrap(), claims());
        // The fixed claims are in it.
        let body = URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["iss"], ISSUER);
        assert_eq!(body["aud"], AUDIENCE);
    }

    #[test]
    fn a_hand_made_token_with_the_right_key_is_accepted() {
        // The test's own HS256 agrees with the library's: the refusals below are for the
        // reason each names, not for a crafting mistake.
        let token = craft(r#"{"alg":"HS256","typ":"JWT"}"#, &payload(), &KEY);
        let got = verify_survey_token(&KEY, &token, ISSUED).unwrap();
        assert_eq!(got.case, "c");
    }

    #[test]
    fn expiry_is_checked_against_the_time_given() {
        let token = issue_survey_token(&KEY, &claims()).unwrap();
        // Long expired by the system clock's standard, but not at the time given.
        let before = datetime!(2026-03-31 09:59:59 UTC);
        verify_survey_token(&KEY, &token, before).unwrap();
        assert_eq!(
            verify_survey_token(&KEY, &token, EXPIRES),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify_survey_token(&KEY, &token, datetime!(2027-01-01 00:00:00 UTC)),
            Err(TokenError::Expired)
        );
        // And a token that expired in 2000 is refused even if the clock says 1999.
        let mut old = claims();
        old.iat = datetime!(2000-01-01 00:00:00 UTC).unix_timestamp();
        old.exp = datetime!(2000-01-02 00:00:00 UTC).unix_timestamp();
        let old = issue_survey_token(&KEY, &old).unwrap();
        verify_survey_token(&KEY, &old, datetime!(2000-01-01 12:00:00 UTC)).unwrap();
        assert_eq!(
            verify_survey_token(&KEY, &old, datetime!(2000-01-02 00:00:00 UTC)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn another_key_or_a_changed_payload_is_a_bad_signature() {
        let token = issue_survey_token(&KEY, &claims()).unwrap();
        assert_eq!(
            verify_survey_token(&[8; 32], &token, ISSUED),
            Err(TokenError::BadSignature)
        );
        // Someone else's case, under the original signature.
        let mut forged = payload();
        forged["case"] = "case--2026-0043".into();
        let forged = format!(
            "{}.{}.{}",
            token.split('.').next().unwrap(),
            b64(forged.to_string().as_bytes()),
            token.split('.').nth(2).unwrap()
        );
        assert_eq!(
            verify_survey_token(&KEY, &forged, ISSUED),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn only_hs256_is_accepted() {
        // The classic: no signature at all.
        for header in [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"None"}"#] {
            let unsigned = format!(
                "{}.{}.",
                b64(header.as_bytes()),
                b64(payload().to_string().as_bytes())
            );
            assert_eq!(
                verify_survey_token(&KEY, &unsigned, ISSUED),
                Err(TokenError::BadSignature),
                "{header}"
            );
        }
        // Other algorithms, even keyed with the right secret.
        for alg in ["HS384", "HS512", "RS256", "ES256", "EdDSA", "hs256", ""] {
            let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
            let token = craft(&header, &payload(), &KEY);
            assert_eq!(
                verify_survey_token(&KEY, &token, ISSUED),
                Err(TokenError::BadSignature),
                "{alg}"
            );
        }
        let no_alg = craft(r#"{"typ":"JWT"}"#, &payload(), &KEY);
        assert!(matches!(
            verify_survey_token(&KEY, &no_alg, ISSUED),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn issuer_and_audience_are_required() {
        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        for (claim, value) in [
            ("aud", serde_json::json!("relais-other")),
            ("iss", serde_json::json!("elsewhere")),
            // A list that includes the audience is still not a survey token's audience.
            ("aud", serde_json::json!([AUDIENCE, "relais-other"])),
        ] {
            let mut p = payload();
            p[claim] = value.clone();
            let token = craft(header, &p, &KEY);
            let got = verify_survey_token(&KEY, &token, ISSUED);
            assert!(
                matches!(
                    got,
                    Err(TokenError::WrongAudience | TokenError::Malformed(_))
                ),
                "{claim} = {value}: {got:?}"
            );
            if value.is_string() {
                assert_eq!(got, Err(TokenError::WrongAudience), "{claim} = {value}");
            }
        }
        for claim in ["aud", "iss"] {
            let mut p = payload();
            p.as_object_mut().unwrap().remove(claim);
            let token = craft(header, &p, &KEY);
            assert_eq!(
                verify_survey_token(&KEY, &token, ISSUED),
                Err(TokenError::WrongAudience),
                "{claim} missing"
            );
        }
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let mut no_exp = payload();
        no_exp.as_object_mut().unwrap().remove("exp");
        let mut extra = payload();
        extra["admin"] = true.into();
        let mut text_exp = payload();
        text_exp["exp"] = "tomorrow".into();
        for token in [
            String::new(),
            "abc".into(),
            "a.b".into(),
            "a.b.c".into(),
            "!!!.???.###".into(),
            craft(header, &no_exp, &KEY),
            craft(header, &extra, &KEY),
            craft(header, &text_exp, &KEY),
            craft(header, &serde_json::json!([1, 2]), &KEY),
        ] {
            assert!(
                matches!(
                    verify_survey_token(&KEY, &token, ISSUED),
                    Err(TokenError::Malformed(_))
                ),
                "{token}"
            );
        }
    }

    #[test]
    fn long_tokens_are_refused_unread() {
        let token = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            verify_survey_token(&KEY, &token, ISSUED),
            Err(TokenError::TooLong {
                len: MAX_TOKEN_LEN + 1,
                limit: MAX_TOKEN_LEN
            })
        );
        // Validly signed and otherwise good, but too long: not issued either.
        let mut long = claims();
        long.case = "c".repeat(MAX_TOKEN_LEN);
        assert!(matches!(
            issue_survey_token(&KEY, &long),
            Err(TokenError::TooLong { .. })
        ));
        let mut p = payload();
        p["case"] = "c".repeat(MAX_TOKEN_LEN).into();
        let token = craft(r#"{"alg":"HS256"}"#, &p, &KEY);
        assert!(matches!(
            verify_survey_token(&KEY, &token, ISSUED),
            Err(TokenError::TooLong { .. })
        ));
    }

    #[test]
    fn short_keys_and_backwards_claims_are_refused() {
        assert_eq!(
            issue_survey_token(&[1; 16], &claims()),
            Err(TokenError::WeakKey { len: 16, min: 32 })
        );
        let token = issue_survey_token(&KEY, &claims()).unwrap();
        assert_eq!(
            verify_survey_token(b"", &token, ISSUED),
            Err(TokenError::WeakKey { len: 0, min: 32 })
        );
        let mut backwards = claims();
        backwards.exp = backwards.iat;
        assert!(matches!(
            issue_survey_token(&KEY, &backwards),
            Err(TokenError::Issue(_))
        ));
    }

    #[test]
    fn survey_and_choice_links_are_not_interchangeable() {
        let key = [7u8; 32];
        let now = time::macros::datetime!(2026-12-03 10:00 UTC);
        let choice = issue_choice_token(
            &key,
            &ChoiceClaims {
                jti: "link-1".into(),
                case: "case--1".into(),
                iat: now.unix_timestamp(),
                exp: now.unix_timestamp() + 3600,
            },
        )
        .unwrap();
        assert_eq!(
            verify_choice_token(&key, &choice, now).unwrap().case,
            "case--1"
        );
        assert_eq!(
            verify_survey_token(&key, &choice, now),
            Err(TokenError::WrongAudience)
        );
        let survey = issue_survey_token(
            &key,
            &SurveyClaims {
                jti: "s".into(),
                provider: "p".into(),
                case: "case--1".into(),
                iat: now.unix_timestamp(),
                exp: now.unix_timestamp() + 3600,
            },
        )
        .unwrap();
        assert!(matches!(
            verify_choice_token(&key, &survey, now),
            Err(TokenError::WrongAudience)
        ));
    }
}
