//! Certificate files in the forms CAs and people hand them out, whatever the file is called:
//! PEM (`CERTIFICATE`, `X509 CERTIFICATE`, `PKCS7` bundles; one or a chain, text around the
//! blocks tolerated), a DER certificate (`.cer`, `.der`), and a PKCS#7 certificate bundle
//! (`.p7b`, `.p7c`: a SignedData without signers, RFC 5652 §5) in DER or BER (Windows writes
//! BER). Errors say which format was met.

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use const_oid::db::rfc5911::ID_SIGNED_DATA;
use der::{Decode, Encode};
use x509_cert::Certificate;

use super::{pem, pkcs12};
use crate::limits::MAX_CERTS_PER_FILE;

/// Why a file yields no certificate. The texts follow the file's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CertFileProblem {
    /// A `-----BEGIN <label>-----` line without its END line.
    #[error("its {0} PEM block has no END line: the file is truncated")]
    Truncated(String),
    /// A certificate (PEM block or in a bundle) that cannot be decoded.
    #[error("a {what} cannot be read ({detail})")]
    Unreadable {
        /// `CERTIFICATE block`, `certificate in the PKCS#7 bundle`, ...
        what: &'static str,
        /// The decoder's words.
        detail: String,
    },
    /// A PKCS#7 bundle without any certificate.
    #[error("is a PKCS#7 certificate bundle that holds no certificate")]
    EmptyBundle,
    /// A PKCS#12 file where certificates were expected.
    #[error(
        "is a PKCS#12 file (a key and its certificates behind a passphrase), not a certificate file"
    )]
    Pkcs12,
    /// PEM blocks, none of them a certificate (such as a key alone).
    #[error("holds no certificate (its PEM blocks: {0})")]
    NoCertificateBlock(String),
    /// Neither PEM nor a DER certificate nor a PKCS#7 bundle.
    #[error("holds no PEM certificate and is not a DER certificate or PKCS#7 bundle")]
    NotACertificate,
    /// More certificates than [`MAX_CERTS_PER_FILE`].
    #[error("holds {0} certificates, over the limit per file")]
    TooMany(usize),
}

/// Every certificate in `data`, in file order (bundles in their order).
///
/// # Errors
/// [`CertFileProblem`] when there is none, one cannot be read, or there are too many.
pub(crate) fn certificates(data: &[u8]) -> Result<Vec<Certificate>, CertFileProblem> {
    certificates_up_to(data, MAX_CERTS_PER_FILE)
}

/// [`certificates`] with another limit than [`MAX_CERTS_PER_FILE`] (a trust bundle holds
/// a few hundred); [`CertFileProblem::TooMany`] past it.
pub(crate) fn certificates_up_to(
    data: &[u8],
    max: usize,
) -> Result<Vec<Certificate>, CertFileProblem> {
    let count = |n: usize| {
        if n > max {
            Err(CertFileProblem::TooMany(n))
        } else {
            Ok(())
        }
    };
    let blocks = pem::blocks(data);
    if blocks.is_empty() {
        if let Some(label) = pem::unterminated(data) {
            return Err(CertFileProblem::Truncated(label));
        }
        return der_file(data, max);
    }
    // Counted before any is parsed: a file of 10,000 broken blocks costs no decoding.
    let is_cert = |l: &str| {
        matches!(
            l,
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
        )
    };
    let listed = blocks.iter().filter(|b| is_cert(&b.label)).count();
    count(listed)?;
    let mut out = Vec::new();
    let mut labels = Vec::new();
    for block in &blocks {
        match block.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                count(out.len() + 1)?;
                out.push(certificate(&block.der, "CERTIFICATE block")?);
            }
            "PKCS7" | "CERTIFICATE CHAIN" => {
                for c in bundle(&block.der, max)? {
                    count(out.len() + 1)?;
                    out.push(c);
                }
            }
            other => labels.push(other.to_owned()),
        }
    }
    if out.is_empty() {
        labels.dedup();
        return Err(CertFileProblem::NoCertificateBlock(labels.join(", ")));
    }
    Ok(out)
}

/// A file without PEM: one DER certificate, a PKCS#7 bundle, or something we can name.
fn der_file(data: &[u8], max: usize) -> Result<Vec<Certificate>, CertFileProblem> {
    if let Ok(c) = Certificate::from_der(data) {
        return Ok(vec![c]);
    }
    if is_pkcs7(data) {
        return bundle(data, max);
    }
    if pkcs12::looks_like_pkcs12(data) {
        return Err(CertFileProblem::Pkcs12);
    }
    Err(CertFileProblem::NotACertificate)
}

/// The certificates of a PKCS#7 SignedData (DER, else BER).
fn bundle(der: &[u8], max: usize) -> Result<Vec<Certificate>, CertFileProblem> {
    let unreadable = |detail: String| CertFileProblem::Unreadable {
        what: "PKCS#7 certificate bundle",
        detail,
    };
    let info = ContentInfo::from_der(der)
        .or_else(|_| ContentInfo::from_ber(der))
        .map_err(|e| unreadable(e.to_string()))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(unreadable(format!(
            "its content type is {}, not signed-data",
            info.content_type
        )));
    }
    let inner = info
        .content
        .to_der()
        .map_err(|e| unreadable(e.to_string()))?;
    let signed = SignedData::from_der(&inner)
        .or_else(|_| SignedData::from_ber(&inner))
        .map_err(|e| unreadable(e.to_string()))?;
    let mut out = Vec::new();
    for choice in signed.certificates.iter().flat_map(|set| set.0.iter()) {
        if let CertificateChoices::Certificate(c) = choice {
            if out.len() >= max {
                return Err(CertFileProblem::TooMany(out.len() + 1));
            }
            out.push(c.clone());
        }
    }
    if out.is_empty() {
        return Err(CertFileProblem::EmptyBundle);
    }
    Ok(out)
}

fn certificate(der: &[u8], what: &'static str) -> Result<Certificate, CertFileProblem> {
    Certificate::from_der(der).map_err(|e| CertFileProblem::Unreadable {
        what,
        detail: e.to_string(),
    })
}

/// `SEQUENCE { OBJECT IDENTIFIER signedData, ...`: the start of a PKCS#7 ContentInfo.
fn is_pkcs7(data: &[u8]) -> bool {
    const SIGNED_DATA: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
    ];
    after_sequence_header(data).is_some_and(|rest| rest.starts_with(SIGNED_DATA))
}

/// The contents after a SEQUENCE's identifier and length (definite or indefinite).
fn after_sequence_header(data: &[u8]) -> Option<&[u8]> {
    let [0x30, len, rest @ ..] = data else {
        return None;
    };
    match *len {
        0..=0x80 => Some(rest),
        0x81..=0x84 => rest.get(usize::from(len & 0x7f)..),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pki(name: &str) -> Vec<u8> {
        let path = smime_testkit::repo_root().join("testdata/pki").join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn serials(certs: &[Certificate]) -> Vec<String> {
        certs
            .iter()
            .map(|c| c.tbs_certificate().serial_number().to_string())
            .collect()
    }

    #[test]
    fn every_form_gives_the_same_certificates() {
        let pem = certificates(&pki("certfiles/alice-chain.pem")).unwrap();
        assert_eq!(pem.len(), 2);
        for name in [
            "certfiles/alice-chain.p7b",
            "certfiles/alice-chain.p7c",
            "certfiles/alice-chain-ber.p7b",
        ] {
            let got = certificates(&pki(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut want = serials(&pem);
            let mut have = serials(&got);
            want.sort();
            have.sort();
            assert_eq!(have, want, "{name}");
        }
        let der = certificates(&pki("certfiles/alice.cer")).unwrap();
        assert_eq!(serials(&der), serials(&pem[..1]));
    }

    #[test]
    fn each_wrong_file_is_named_by_what_it_is() {
        assert_eq!(
            certificates(&pki("keys/alice@example.com.p12")).unwrap_err(),
            CertFileProblem::Pkcs12
        );
        assert_eq!(
            certificates(&pki("certfiles/empty.p7b")).unwrap_err(),
            CertFileProblem::EmptyBundle
        );
        assert_eq!(
            certificates(&pki("encrypted/alice-pkcs1.pem")).unwrap_err(),
            CertFileProblem::NoCertificateBlock("RSA PRIVATE KEY".into())
        );
        assert_eq!(
            certificates(b"\x30\x03\x02\x01\x00").unwrap_err(),
            CertFileProblem::NotACertificate
        );
        let der = pki("certfiles/alice.cer");
        assert_eq!(
            certificates(&der[..der.len() / 2]).unwrap_err(),
            CertFileProblem::NotACertificate
        );
        let p7 = pki("certfiles/alice-chain.p7b");
        assert!(matches!(
            certificates(&p7[..p7.len() - 10]).unwrap_err(),
            CertFileProblem::Unreadable { .. }
        ));
    }
}
