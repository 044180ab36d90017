//! The names an inspection gives algorithms and content types.

use const_oid::ObjectIdentifier;

use super::NamedOid;

/// Short names for the algorithms and content types of S/MIME, as their users know them;
/// others get the OID database's name ([`crate::read::oid_name`]).
const SHORT_NAMES: &[(&str, &str)] = &[
    ("2.16.840.1.101.3.4.1.2", "AES-128-CBC"),
    ("2.16.840.1.101.3.4.1.22", "AES-192-CBC"),
    ("2.16.840.1.101.3.4.1.42", "AES-256-CBC"),
    ("2.16.840.1.101.3.4.1.6", "AES-128-GCM"),
    ("2.16.840.1.101.3.4.1.26", "AES-192-GCM"),
    ("2.16.840.1.101.3.4.1.46", "AES-256-GCM"),
    ("1.2.840.113549.3.7", "3DES-CBC"),
    ("1.2.840.113549.3.2", "RC2-CBC"),
    ("1.3.14.3.2.7", "DES-CBC"),
    ("1.2.840.113549.1.9.16.3.18", "ChaCha20-Poly1305"),
    ("1.2.840.113549.1.1.1", "rsaEncryption"),
    ("1.2.840.113549.1.1.7", "RSAES-OAEP"),
    ("1.2.840.113549.1.1.10", "RSASSA-PSS"),
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption"),
    ("1.2.840.113549.1.1.11", "sha256WithRSAEncryption"),
    ("1.2.840.113549.1.1.12", "sha384WithRSAEncryption"),
    ("1.2.840.113549.1.1.13", "sha512WithRSAEncryption"),
    ("1.2.840.113549.2.5", "MD5"),
    ("1.3.14.3.2.26", "SHA-1"),
    ("2.16.840.1.101.3.4.2.4", "SHA-224"),
    ("2.16.840.1.101.3.4.2.1", "SHA-256"),
    ("2.16.840.1.101.3.4.2.2", "SHA-384"),
    ("2.16.840.1.101.3.4.2.3", "SHA-512"),
    ("1.2.840.113549.1.7.1", "id-data"),
    ("1.2.840.113549.1.7.2", "id-signedData"),
    ("1.2.840.113549.1.7.3", "id-envelopedData"),
    ("1.2.840.113549.1.9.16.1.9", "id-ct-compressedData"),
    ("1.2.840.113549.1.9.16.1.23", "id-ct-authEnvelopedData"),
];

/// `oid` with its name: the short name, else the registered one with the OID.
pub(super) fn named(oid: &ObjectIdentifier) -> NamedOid {
    let dotted = oid.to_string();
    let name = match SHORT_NAMES.iter().find(|(o, _)| *o == dotted) {
        Some((_, short)) => (*short).to_owned(),
        None => crate::read::oid_name(oid),
    };
    NamedOid { oid: dotted, name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_then_registered_then_dotted() {
        let sha256 = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
        assert_eq!(named(&sha256).name, "SHA-256");
        assert_eq!(named(&sha256).oid, "2.16.840.1.101.3.4.2.1");
        let ecdsa = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
        assert_eq!(
            named(&ecdsa).name,
            "ecdsa-with-SHA256 (1.2.840.10045.4.3.2)"
        );
        let private = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");
        assert_eq!(named(&private).name, "1.3.6.1.4.1.99999.1");
    }

    #[test]
    fn every_short_name_is_a_valid_oid() {
        for (oid, _) in SHORT_NAMES {
            assert!(ObjectIdentifier::new(oid).is_ok(), "{oid}");
        }
    }
}
