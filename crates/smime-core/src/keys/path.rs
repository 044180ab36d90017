//! Certification path validation for S/MIME, the parts of RFC 5280 §6.1 that mail needs: a
//! chain is built from the leaf through a pool of certificates (the message's, the keys
//! directory's) to a trust anchor, and checked link by link.
//!
//! Implemented, by section: signatures of every link (§6.1.3 (a)(1); RSA PKCS#1 v1.5 with
//! SHA-256/384/512; SHA-1 refused), validity at the time asked (§6.1.3 (a)(2), anchors
//! included, as OpenSSL does; ECDSA P-256/P-384 with SHA-256/384 too), issuer/subject chaining (§6.1.3 (a)(4), with the key
//! identifiers of §4.2.1.1 to pick among same-named issuers), basicConstraints cA and
//! pathLenConstraint (§6.1.4 (k), (l), (m)), keyUsage keyCertSign of issuers (§6.1.4 (n)),
//! name constraints on rfc822Name (§4.2.1.10, §6.1.4 (g); the leaf's subjectAltName
//! addresses and subject emailAddress, as §4.2.1.10 asks), and extendedKeyUsage of issuers
//! (not RFC 5280: the CA/Browser Forum's S/MIME rule, that an issuing CA with an EKU lists
//! emailProtection). Not implemented: certificate policies (§6.1.3 (d)-(f)), revocation,
//! name constraints on other name forms. The leaf's own usages and address are
//! `certcheck`'s.
//!
//! Why our own: `rustls-webpki` refuses any certificate under an e-mail name constraint and
//! matches no e-mail addresses; `certval` conflicts with our `rsa`; the others are on der 0.7
//! (see shared/reference/stack.md).

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ID_KP_EMAIL_PROTECTION, SHA_1_WITH_RSA_ENCRYPTION,
    SHA_256_WITH_RSA_ENCRYPTION, SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
use der::Encode;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    NameConstraints, SubjectKeyIdentifier,
};

use sha2::Digest;
use signature::hazmat::PrehashVerifier;

use super::certcheck::{self, EcVerifyingKey};
use crate::limits::MAX_PATH_LENGTH;

/// `anyExtendedKeyUsage` (RFC 5280 §4.2.1.12).
const ANY_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

/// Why no valid path leads from a certificate to a trust anchor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathProblem {
    /// No certificate in the pool or among the anchors issued this one.
    #[error("no trusted issuer of \"{subject}\" is known (it names \"{issuer}\")")]
    NoIssuer {
        /// The certificate whose issuer is missing.
        subject: String,
        /// The issuer it names.
        issuer: String,
    },
    /// An issuer's signature over a certificate does not verify.
    #[error("the signature on \"{subject}\" does not verify with its issuer's key")]
    BadSignature {
        /// The certificate.
        subject: String,
    },
    /// A signature algorithm we do not verify (or refuse: SHA-1).
    #[error("\"{subject}\" is signed with {algorithm}, which is not accepted")]
    UnsupportedSignature {
        /// The certificate.
        subject: String,
        /// The algorithm.
        algorithm: String,
    },
    /// A certificate of the chain is outside its validity period.
    #[error("\"{subject}\" in the chain is not valid at that time ({why})")]
    Validity {
        /// The certificate.
        subject: String,
        /// Expired on ... / not valid before ...
        why: String,
    },
    /// An issuer that is not a CA, may not sign certificates, or has too long a path below.
    #[error("\"{subject}\" may not issue this certificate: {why}")]
    NotAnIssuer {
        /// The issuing certificate.
        subject: String,
        /// What it lacks.
        why: &'static str,
    },
    /// An address of the leaf is outside a CA's name constraints.
    #[error("the address {address} is outside the name constraints of \"{ca}\"")]
    NameConstraint {
        /// The address.
        address: String,
        /// The constraining CA.
        ca: String,
    },
    /// The chain would be longer than [`MAX_PATH_LENGTH`] certificates.
    #[error("the chain is longer than {MAX_PATH_LENGTH} certificates")]
    TooLong,
}

/// A chain from `leaf` to one of `anchors` through `pool`, valid at `at`: the leaf first,
/// the anchor last.
///
/// # Errors
/// [`PathProblem`]: of the paths tried, the problem found on the longest one.
pub(crate) fn validate(
    leaf: &Certificate,
    pool: &[Certificate],
    anchors: &[Certificate],
    at: SystemTime,
) -> Result<Vec<Certificate>, PathProblem> {
    let mut chain = vec![leaf.clone()];
    build(&mut chain, pool, anchors, at)?;
    Ok(chain)
}

/// Extends `chain` (ending in a certificate not yet vouched for) up to an anchor.
fn build(
    chain: &mut Vec<Certificate>,
    pool: &[Certificate],
    anchors: &[Certificate],
    at: SystemTime,
) -> Result<(), PathProblem> {
    let last = chain.last().cloned().ok_or(PathProblem::TooLong)?;
    // The certificate itself may be an anchor (a directly trusted leaf or intermediate).
    if anchors.iter().any(|a| same_key_and_name(a, &last)) {
        return check_path(chain, at);
    }
    if chain.len() >= MAX_PATH_LENGTH {
        return Err(PathProblem::TooLong);
    }
    let mut problem = PathProblem::NoIssuer {
        subject: name(&last),
        issuer: last.tbs_certificate().issuer().to_string(),
    };
    let candidates = anchors
        .iter()
        .map(|c| (c, true))
        .chain(pool.iter().map(|c| (c, false)))
        .filter(|(c, _)| may_have_issued(c, &last) && !chain.contains(c))
        .collect::<Vec<_>>();
    for (issuer, is_anchor) in candidates {
        if let Err(p) = verify_signature(&last, issuer) {
            problem = p;
            continue;
        }
        chain.push(issuer.clone());
        let outcome = if is_anchor {
            check_path(chain, at)
        } else {
            build(chain, pool, anchors, at)
        };
        match outcome {
            Ok(()) => return Ok(()),
            Err(p) => {
                problem = p;
                chain.pop();
            }
        }
    }
    Err(problem)
}

/// The checks of a complete path (leaf first, anchor last).
fn check_path(chain: &[Certificate], at: SystemTime) -> Result<(), PathProblem> {
    for cert in chain {
        certcheck::check_dates(cert, at).map_err(|p| PathProblem::Validity {
            subject: name(cert),
            why: p.to_string(),
        })?;
    }
    let addresses = chain.first().map(certcheck::addresses).unwrap_or_default();
    // Every issuer: index 1 and up. `below` counts the intermediates under it (for pathLen).
    for (i, ca) in chain.iter().enumerate().skip(1) {
        let is_anchor = i == chain.len() - 1;
        let not_issuer = |why| PathProblem::NotAnIssuer {
            subject: name(ca),
            why,
        };
        let tbs = ca.tbs_certificate();
        match tbs.get_extension::<BasicConstraints>() {
            Ok(Some((_, bc))) => {
                if !bc.ca {
                    return Err(not_issuer("it is not a CA (basicConstraints cA is false)"));
                }
                let below = i.saturating_sub(1);
                if let Some(len) = bc.path_len_constraint
                    && below > usize::from(len)
                {
                    return Err(not_issuer(
                        "its pathLenConstraint allows fewer CAs below it",
                    ));
                }
            }
            // A v1 anchor (old roots) has no extensions at all: RFC 5280 §6.2 takes it as
            // given. Anything else without basicConstraints is no CA.
            Ok(None) if is_anchor => {}
            Ok(None) => return Err(not_issuer("it is not a CA (no basicConstraints)")),
            Err(_) => return Err(not_issuer("its basicConstraints cannot be read")),
        }
        if let Ok(Some((_, KeyUsage(ku)))) = tbs.get_extension::<KeyUsage>()
            && !ku.contains(KeyUsages::KeyCertSign)
        {
            return Err(not_issuer("its keyUsage lacks keyCertSign"));
        }
        if !is_anchor
            && let Ok(Some((_, ExtendedKeyUsage(ekus)))) = tbs.get_extension::<ExtendedKeyUsage>()
            && !ekus
                .iter()
                .any(|o| *o == ID_KP_EMAIL_PROTECTION || *o == ANY_EKU)
        {
            return Err(not_issuer("its extendedKeyUsage lacks emailProtection"));
        }
        if let Ok(Some((_, nc))) = tbs.get_extension::<NameConstraints>() {
            for address in &addresses {
                if !within(&nc, address) {
                    return Err(PathProblem::NameConstraint {
                        address: address.clone(),
                        ca: name(ca),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Whether `address` satisfies the rfc822Name subtrees of `nc` (RFC 5280 §4.2.1.10): not in
/// an excluded one, and in a permitted one when there are any.
fn within(nc: &NameConstraints, address: &str) -> bool {
    let rfc822 = |subtrees: &Option<x509_cert::ext::pkix::constraints::name::GeneralSubtrees>| {
        subtrees
            .iter()
            .flatten()
            .filter_map(|s| match &s.base {
                GeneralName::Rfc822Name(n) => Some(n.as_str().to_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let permitted = rfc822(&nc.permitted_subtrees);
    let excluded = rfc822(&nc.excluded_subtrees);
    if excluded.iter().any(|c| matches_constraint(c, address)) {
        return false;
    }
    permitted.is_empty() || permitted.iter().any(|c| matches_constraint(c, address))
}

/// One rfc822Name constraint: `user@host` a mailbox, `host` every mailbox on that host,
/// `.host` every mailbox on a host below it. Hosts compare without case.
fn matches_constraint(constraint: &str, address: &str) -> bool {
    let Some((local, host)) = address.rsplit_once('@') else {
        return false;
    };
    if let Some((c_local, c_host)) = constraint.rsplit_once('@') {
        return c_local == local && c_host.eq_ignore_ascii_case(host);
    }
    let (host, constraint) = (host.to_ascii_lowercase(), constraint.to_ascii_lowercase());
    if constraint.starts_with('.') {
        host.ends_with(&constraint)
    } else {
        host == constraint
    }
}

/// Whether `issuer` could have issued `cert`: its subject is `cert`'s issuer, and the key
/// identifiers agree when both are present.
fn may_have_issued(issuer: &Certificate, cert: &Certificate) -> bool {
    if issuer.tbs_certificate().subject() != cert.tbs_certificate().issuer() {
        return false;
    }
    let aki = cert
        .tbs_certificate()
        .get_extension::<AuthorityKeyIdentifier>()
        .ok()
        .flatten()
        .and_then(|(_, a)| a.key_identifier);
    let ski = issuer
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .ok()
        .flatten()
        .map(|(_, s)| s.0);
    match (aki, ski) {
        (Some(a), Some(s)) => a == s,
        _ => true,
    }
}

/// The same subject and public key: an anchor may come in another certificate than the one
/// in the chain (a re-issued root).
fn same_key_and_name(a: &Certificate, b: &Certificate) -> bool {
    a.tbs_certificate().subject() == b.tbs_certificate().subject()
        && a.tbs_certificate().subject_public_key_info()
            == b.tbs_certificate().subject_public_key_info()
}

/// Verifies `issuer`'s signature on `cert`.
fn verify_signature(cert: &Certificate, issuer: &Certificate) -> Result<(), PathProblem> {
    let algorithm = cert.signature_algorithm().oid;
    let unsupported = |name: &str| PathProblem::UnsupportedSignature {
        subject: self::name(cert),
        algorithm: name.to_owned(),
    };
    let bad = || PathProblem::BadSignature {
        subject: name(cert),
    };
    let tbs = cert.tbs_certificate().to_der().map_err(|_| bad())?;
    let signature = cert.signature().as_bytes().ok_or_else(bad)?;
    let rsa = |key: &Certificate| certcheck::rsa_public_key_unchecked(key).ok_or_else(bad);
    let ecdsa = |prehash: &[u8]| match certcheck::ec_verifying_key(issuer) {
        Some(EcVerifyingKey::P256(key)) => p256::ecdsa::DerSignature::from_bytes(signature)
            .map_err(|_| bad())
            .and_then(|sig| key.verify_prehash(prehash, &sig).map_err(|_| bad())),
        Some(EcVerifyingKey::P384(key)) => p384::ecdsa::DerSignature::from_bytes(signature)
            .map_err(|_| bad())
            .and_then(|sig| key.verify_prehash(prehash, &sig).map_err(|_| bad())),
        None => Err(bad()),
    };
    let verified = match algorithm {
        ECDSA_WITH_SHA_256 => return ecdsa(&sha2::Sha256::digest(&tbs)),
        ECDSA_WITH_SHA_384 => return ecdsa(&sha2::Sha384::digest(&tbs)),
        SHA_256_WITH_RSA_ENCRYPTION => {
            rsa(issuer)?.pkcs1v15_verify::<sha2::Sha256>(&tbs, signature)
        }
        SHA_384_WITH_RSA_ENCRYPTION => {
            rsa(issuer)?.pkcs1v15_verify::<sha2::Sha384>(&tbs, signature)
        }
        SHA_512_WITH_RSA_ENCRYPTION => {
            rsa(issuer)?.pkcs1v15_verify::<sha2::Sha512>(&tbs, signature)
        }
        SHA_1_WITH_RSA_ENCRYPTION => return Err(unsupported("sha1WithRSAEncryption (SHA-1)")),
        other => return Err(unsupported(&other.to_string())),
    };
    verified.map_err(|_| bad())
}

/// How a certificate is named in messages: its subject.
fn name(cert: &Certificate) -> String {
    cert.tbs_certificate().subject().to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use super::*;

    fn cert(name: &str) -> Certificate {
        let path = smime_testkit::repo_root().join("testdata/pki").join(name);
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        super::super::certfile::certificates(&data)
            .unwrap()
            .remove(0)
    }

    /// 2026-06-01, inside every test certificate's validity but the expired CA's.
    fn at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_315_200)
    }

    #[test]
    fn a_chain_through_the_pool_reaches_the_root() {
        let root = cert("ca.crt");
        let chain = validate(
            &cert("keys/alice@example.com.crt"),
            &[cert("intermediate.crt"), cert("trust/other-root.crt")],
            std::slice::from_ref(&root),
            at(),
        )
        .unwrap();
        assert_eq!(chain.len(), 3);
        assert_eq!(chain[2], root);
    }

    #[test]
    fn without_the_intermediate_or_the_root_there_is_no_path() {
        let err = validate(
            &cert("keys/alice@example.com.crt"),
            &[],
            &[cert("ca.crt")],
            at(),
        )
        .unwrap_err();
        assert!(matches!(err, PathProblem::NoIssuer { .. }), "{err}");
        let err = validate(
            &cert("trust/stranger@example.com.crt"),
            &[cert("intermediate.crt")],
            &[cert("ca.crt")],
            at(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("Other Root"), "{err}");
    }

    #[test]
    fn a_name_constrained_ca_vouches_inside_and_not_outside() {
        let pool = [cert("trust/constrained-ca.crt")];
        let anchors = [cert("ca.crt")];
        validate(&cert("trust/inside@example.com.crt"), &pool, &anchors, at()).unwrap();
        let err = validate(
            &cert("trust/outside@example.org.crt"),
            &pool,
            &anchors,
            at(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            PathProblem::NameConstraint {
                address: "outside@example.org".into(),
                ca: "CN=smime TEST-ONLY Constrained CA,O=smime test PKI".into()
            }
        );
    }

    #[test]
    fn an_expired_ca_breaks_the_chain_and_a_leaf_is_no_issuer() {
        let err = validate(
            &cert("trust/late@example.com.crt"),
            &[cert("trust/expired-ca.crt")],
            &[cert("ca.crt")],
            at(),
        )
        .unwrap_err();
        assert!(matches!(err, PathProblem::Validity { .. }), "{err}");
        // A leaf trusted directly is its own path.
        let alice = cert("keys/alice@example.com.crt");
        assert_eq!(
            validate(&alice, &[], std::slice::from_ref(&alice), at())
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_tampered_signature_is_caught() {
        let good =
            std::fs::read(smime_testkit::repo_root().join("testdata/pki/certfiles/alice.cer"))
                .unwrap();
        let mut bad = good.clone();
        let last = bad.len() - 5;
        bad[last] ^= 1;
        let bad = <Certificate as der::Decode>::from_der(&bad).unwrap();
        let err = validate(&bad, &[cert("intermediate.crt")], &[cert("ca.crt")], at()).unwrap_err();
        assert!(matches!(err, PathProblem::BadSignature { .. }), "{err}");
    }

    #[test]
    fn ecdsa_signed_certificates_chain() {
        // ec-ca (P-384) signs the P-256 leaf with ecdsa-with-SHA384.
        let chain = validate(
            &cert("trust/ec-leaf@example.com.crt"),
            &[cert("trust/ec-ca.crt")],
            &[cert("ca.crt")],
            at(),
        )
        .unwrap();
        assert_eq!(chain.len(), 3);
        // A tampered ECDSA signature is caught too.
        let path = smime_testkit::repo_root().join("testdata/pki/trust/ec-leaf@example.com.crt");
        let mut der = super::super::certfile::certificates(&std::fs::read(path).unwrap())
            .unwrap()
            .remove(0)
            .to_der()
            .unwrap();
        let at_sig = der.len() - 10;
        der[at_sig] ^= 1;
        let bad = <Certificate as der::Decode>::from_der(&der).unwrap();
        let err = validate(&bad, &[cert("trust/ec-ca.crt")], &[cert("ca.crt")], at()).unwrap_err();
        assert!(matches!(err, PathProblem::BadSignature { .. }), "{err}");
    }

    #[test]
    fn rfc822_constraints_match_as_rfc5280_says() {
        assert!(matches_constraint("example.com", "a@Example.COM"));
        assert!(!matches_constraint("example.com", "a@sub.example.com"));
        assert!(matches_constraint(".example.com", "a@sub.example.com"));
        assert!(!matches_constraint(".example.com", "a@example.com"));
        assert!(matches_constraint("a@example.com", "a@example.com"));
        assert!(!matches_constraint("a@example.com", "b@example.com"));
        assert!(!matches_constraint("example.com", "not-an-address"));
    }
}
