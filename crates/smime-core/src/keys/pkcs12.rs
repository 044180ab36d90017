//! PKCS#12 (PFX, RFC 7292) files: the private keys and certificates in them, in password
//! integrity and privacy mode (what OpenSSL, Windows, macOS and browsers export).
//!
//! The MAC is checked first when there is one (HMAC-SHA-1 or SHA-2 under the RFC 7292 key
//! derivation): a mismatch means a wrong passphrase. Then every ContentInfo of the
//! AuthenticatedSafe is read, plain (`id-data`) or password-encrypted (`id-encryptedData`, by
//! `pbe`), and its SafeBags kept: keys (keyBag, pkcs8ShroudedKeyBag), X.509 certificates
//! (certBag), with their localKeyId and friendlyName, which pair a key with its certificate.
//! BER (Windows exports) is made DER first by `ber`. Counts, depth and the work of each key
//! derivation are bounded.

use const_oid::ObjectIdentifier;
use der::Decode;
use hmac::{KeyInit, Mac};
use sha2::digest::block_api::{BlockSizeUser, EagerHash};
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

use super::ber::{self, BerProblem};
use super::pbe::{self, KdfId, PbeProblem};
use crate::limits::{
    MAX_CERTS_PER_FILE, MAX_KEYS_PER_PKCS12, MAX_PKCS12_DECRYPTIONS, MAX_PKCS12_NESTING,
};

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}
const ID_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.2");
const ID_ENVELOPED_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.3");
const ID_ENCRYPTED_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.6");
const KEY_BAG: ObjectIdentifier = oid("1.2.840.113549.1.12.10.1.1");
const SHROUDED_KEY_BAG: ObjectIdentifier = oid("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: ObjectIdentifier = oid("1.2.840.113549.1.12.10.1.3");
const SAFE_CONTENTS_BAG: ObjectIdentifier = oid("1.2.840.113549.1.12.10.1.6");
const X509_CERTIFICATE: ObjectIdentifier = oid("1.2.840.113549.1.9.22.1");
const FRIENDLY_NAME: ObjectIdentifier = oid("1.2.840.113549.1.9.20");
const LOCAL_KEY_ID: ObjectIdentifier = oid("1.2.840.113549.1.9.21");
const SHA1: ObjectIdentifier = oid("1.3.14.3.2.26");
const SHA224: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.4");
const SHA256: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.3");

/// What a PKCS#12 file holds, in file order.
#[derive(Debug)]
pub(crate) struct Pkcs12 {
    /// The private keys.
    pub(crate) keys: Vec<Pkcs12Key>,
    /// The X.509 certificates: the key's own, and usually its chain.
    pub(crate) certs: Vec<Pkcs12Cert>,
}

/// A private key from a PKCS#12 file. Its `Debug` shows the attributes, never the key.
pub(crate) struct Pkcs12Key {
    /// The DER of its PKCS#8 PrivateKeyInfo, wiped on drop.
    pub(crate) pkcs8_der: Zeroizing<Vec<u8>>,
    /// The localKeyId attribute: its certificate has the same.
    pub(crate) local_key_id: Option<Vec<u8>>,
    /// The friendlyName attribute.
    pub(crate) friendly_name: Option<String>,
}

impl std::fmt::Debug for Pkcs12Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs12Key")
            .field("pkcs8_der_len", &self.pkcs8_der.len())
            .field("local_key_id", &self.local_key_id)
            .field("friendly_name", &self.friendly_name)
            .finish_non_exhaustive()
    }
}

/// A certificate from a PKCS#12 file. The store links keys to certificates by their public
/// key (what `localKeyId` says too, when present); the attributes are kept for listing.
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Pkcs12Cert {
    /// The certificate.
    pub(crate) cert: x509_cert::Certificate,
    /// The localKeyId attribute: set on the certificate of a key in the file.
    pub(crate) local_key_id: Option<Vec<u8>>,
    /// The friendlyName attribute.
    pub(crate) friendly_name: Option<String>,
}

/// Why a PKCS#12 file yields nothing. The `Display` text follows the file's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Pkcs12Problem {
    /// The MAC does not match, or a decryption's padding or result is wrong.
    #[error("wrong passphrase (or the file is damaged)")]
    WrongPassphrase,
    /// The file ends inside its structure.
    #[error("the file is truncated")]
    Truncated,
    /// Not a PKCS#12 file, or a damaged one, or one over a limit (the text says which).
    #[error("{0}")]
    Malformed(String),
    /// A PKCS#12 feature or MAC we do not implement, named.
    #[error("uses {what}, which is not supported")]
    Unsupported {
        /// What it is.
        what: String,
    },
    /// A part cannot be decrypted for another reason than the passphrase.
    #[error(transparent)]
    Pbe(PbeProblem),
}

impl From<PbeProblem> for Pkcs12Problem {
    fn from(p: PbeProblem) -> Self {
        match p {
            PbeProblem::WrongPassphrase => Pkcs12Problem::WrongPassphrase,
            other => Pkcs12Problem::Pbe(other),
        }
    }
}

impl From<BerProblem> for Pkcs12Problem {
    fn from(p: BerProblem) -> Self {
        match p {
            BerProblem::Truncated => Pkcs12Problem::Truncated,
            BerProblem::Malformed(why) => malformed(why),
        }
    }
}

fn malformed(what: &str) -> Pkcs12Problem {
    Pkcs12Problem::Malformed(format!("malformed PKCS#12 file ({what})"))
}

fn unsupported(what: impl Into<String>) -> Pkcs12Problem {
    Pkcs12Problem::Unsupported { what: what.into() }
}

/// True when `data` starts as a PKCS#12 file does: a SEQUENCE holding INTEGER 3 and then a
/// ContentInfo of type id-data (in DER or BER). Cheap, and needs no passphrase: for messages.
pub(crate) fn looks_like_pkcs12(data: &[u8]) -> bool {
    fn header(data: &[u8], tag: u8) -> Option<&[u8]> {
        let (&t, rest) = data.split_first()?;
        let (&len, rest) = rest.split_first()?;
        match len {
            _ if t != tag => None,
            0..=0x80 => Some(rest),
            0x81..=0x84 => rest.get(usize::from(len & 0x7f)..),
            _ => None,
        }
    }
    let id_data = [6, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 7, 1];
    header(data, 0x30)
        .and_then(|d| d.strip_prefix(&[2, 1, 3]))
        .and_then(|d| header(d, 0x30))
        .is_some_and(|d| d.starts_with(&id_data))
}

/// Reads the keys and certificates of the PKCS#12 file `data` with `passphrase` (UTF-8).
///
/// # Errors
/// [`Pkcs12Problem`]: not PKCS#12, truncated, wrong passphrase, unsupported, over a limit.
pub(crate) fn parse(data: &[u8], passphrase: &[u8]) -> Result<Pkcs12, Pkcs12Problem> {
    if !looks_like_pkcs12(data) {
        return Err(match ber::to_der(data) {
            Err(BerProblem::Truncated) if data.first() == Some(&0x30) => Pkcs12Problem::Truncated,
            _ => Pkcs12Problem::Malformed("is not a PKCS#12 file".into()),
        });
    }
    let pfx = ber::to_der(data)?;
    let mut pfx = take(&mut &pfx[..], 0x30, "PFX")?;
    let version = take(&mut pfx, 0x02, "version")?;
    if version != [3] {
        return Err(unsupported(format!("PKCS#12 version {version:02x?}")));
    }
    let (content_type, content) = content_info(take(&mut pfx, 0x30, "authSafe")?)?;
    match content_type {
        ID_DATA => {}
        ID_SIGNED_DATA => return Err(unsupported("public-key integrity mode (signedData)")),
        _ => return Err(malformed("authSafe is not id-data")),
    }
    let auth_safe = take(&mut &content[..], 0x04, "authSafe content")?;
    if !pfx.is_empty() {
        verify_mac(take(&mut pfx, 0x30, "macData")?, passphrase, auth_safe)?;
    }
    let mut ctx = Context {
        passphrase,
        decryptions: 0,
        found: Pkcs12 {
            keys: Vec::new(),
            certs: Vec::new(),
        },
    };
    let auth_safe = ber::to_der(auth_safe)?;
    let mut infos = take(&mut &auth_safe[..], 0x30, "AuthenticatedSafe")?;
    while !infos.is_empty() {
        let (content_type, content) = content_info(take(&mut infos, 0x30, "ContentInfo")?)?;
        let safe_contents = match content_type {
            ID_DATA => ber::to_der(take(&mut &content[..], 0x04, "data")?)?,
            ID_ENCRYPTED_DATA => ber::to_der(&ctx.decrypt_data(content)?)?,
            ID_ENVELOPED_DATA => {
                return Err(unsupported("public-key privacy mode (envelopedData)"));
            }
            other => return Err(unsupported(pbe::algorithm_name(&other))),
        };
        ctx.safe_contents(&safe_contents, 0)?;
    }
    Ok(ctx.found)
}

/// Checks the MAC of `data` (the authSafe's content octets) against `mac_data`.
fn verify_mac(mut mac_data: &[u8], passphrase: &[u8], data: &[u8]) -> Result<(), Pkcs12Problem> {
    let mut digest_info = take(&mut mac_data, 0x30, "MAC")?;
    let alg = next(&mut digest_info, "MAC algorithm")?;
    let alg =
        AlgorithmIdentifierRef::from_der(alg.whole).map_err(|_| malformed("MAC algorithm"))?;
    let expected = take(&mut digest_info, 0x04, "MAC value")?;
    let salt = take(&mut mac_data, 0x04, "MAC salt")?;
    let iterations = if mac_data.is_empty() {
        1
    } else {
        let int = take(&mut mac_data, 0x02, "MAC iterations")?;
        if int.is_empty() || int.len() > 8 || int[0] & 0x80 != 0 {
            return Err(malformed("MAC iterations"));
        }
        int.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    };
    pbe::check_iterations(iterations, "MAC key derivation")?;
    let iterations = iterations as u32; // at most MAX_PBE_ITERATIONS
    let password = pbe::bmp_password(passphrase);
    let matches = match alg.oid {
        SHA1 => mac_matches::<sha1::Sha1>(&password, salt, iterations, data, expected),
        SHA224 => mac_matches::<sha2::Sha224>(&password, salt, iterations, data, expected),
        SHA256 => mac_matches::<sha2::Sha256>(&password, salt, iterations, data, expected),
        SHA384 => mac_matches::<sha2::Sha384>(&password, salt, iterations, data, expected),
        SHA512 => mac_matches::<sha2::Sha512>(&password, salt, iterations, data, expected),
        other => {
            return Err(unsupported(format!(
                "the MAC {}",
                pbe::algorithm_name(&other)
            )));
        }
    };
    if matches {
        Ok(())
    } else {
        Err(Pkcs12Problem::WrongPassphrase)
    }
}

/// HMAC with `D` under the RFC 7292 MAC key (as long as `D`'s output), compared in constant
/// time.
fn mac_matches<D: EagerHash + BlockSizeUser>(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    data: &[u8],
    expected: &[u8],
) -> bool
where
    hmac::Hmac<D>: KeyInit + Mac,
{
    let mut key = Zeroizing::new(vec![0u8; <D as sha2::Digest>::output_size()]);
    pbe::pkcs12_kdf::<D>(password, salt, KdfId::Mac, iterations, &mut key);
    let Ok(mut mac) = <hmac::Hmac<D> as KeyInit>::new_from_slice(&key) else {
        return false;
    };
    mac.update(data);
    mac.verify_slice(expected).is_ok()
}

/// The walk over the AuthenticatedSafe: the passphrase, the decryptions so far, what was found.
struct Context<'p> {
    passphrase: &'p [u8],
    decryptions: usize,
    found: Pkcs12,
}

impl Context<'_> {
    /// Counts one more key derivation, refusing one too many.
    fn count_decryption(&mut self) -> Result<(), Pkcs12Problem> {
        self.decryptions += 1;
        if self.decryptions > MAX_PKCS12_DECRYPTIONS {
            return Err(Pkcs12Problem::Malformed(format!(
                "holds more than {MAX_PKCS12_DECRYPTIONS} encrypted parts"
            )));
        }
        Ok(())
    }

    /// The SafeContents inside an EncryptedData, decrypted.
    fn decrypt_data(&mut self, encrypted_data: &[u8]) -> Result<Zeroizing<Vec<u8>>, Pkcs12Problem> {
        let mut ed = take(&mut &encrypted_data[..], 0x30, "EncryptedData")?;
        take(&mut ed, 0x02, "EncryptedData version")?;
        let mut eci = take(&mut ed, 0x30, "EncryptedContentInfo")?;
        take(&mut eci, 0x06, "content type")?;
        let alg = next(&mut eci, "encryption algorithm")?;
        let alg = AlgorithmIdentifierRef::from_der(alg.whole)
            .map_err(|_| malformed("encryption algorithm"))?;
        // [0] IMPLICIT OCTET STRING: primitive, or (BER) constructed of OCTET STRING segments.
        let content = next(&mut eci, "encrypted content")?;
        let ciphertext = match content.tag {
            0x80 => content.contents.to_vec(),
            0xa0 => {
                let (mut segments, mut joined) = (content.contents, Vec::new());
                while !segments.is_empty() {
                    joined.extend_from_slice(take(&mut segments, 0x04, "encrypted content")?);
                }
                joined
            }
            _ => return Err(malformed("encrypted content")),
        };
        self.count_decryption()?;
        Ok(pbe::decrypt(alg, self.passphrase, &ciphertext)?)
    }

    /// Keeps the keys and certificates of a SafeContents (DER), `depth` bags deep.
    fn safe_contents(&mut self, der: &[u8], depth: usize) -> Result<(), Pkcs12Problem> {
        let mut bags = take(&mut &der[..], 0x30, "SafeContents")?;
        while !bags.is_empty() {
            let mut bag = take(&mut bags, 0x30, "SafeBag")?;
            let bag_id = read_oid(&mut bag, "bag type")?;
            let value = take(&mut bag, 0xa0, "bag value")?;
            let (local_key_id, friendly_name) = match bag.is_empty() {
                true => (None, None),
                false => attributes(take(&mut bag, 0x31, "bag attributes")?)?,
            };
            match bag_id {
                KEY_BAG | SHROUDED_KEY_BAG => {
                    if self.found.keys.len() >= MAX_KEYS_PER_PKCS12 {
                        return Err(Pkcs12Problem::Malformed(format!(
                            "holds more than {MAX_KEYS_PER_PKCS12} private keys"
                        )));
                    }
                    let pkcs8_der = if bag_id == KEY_BAG {
                        pkcs8::PrivateKeyInfoRef::from_der(value)
                            .map_err(|_| malformed("a key bag is not a PrivateKeyInfo"))?;
                        Zeroizing::new(value.to_vec())
                    } else {
                        self.count_decryption()?;
                        pbe::decrypt_pkcs8(value, self.passphrase)?
                    };
                    self.found.keys.push(Pkcs12Key {
                        pkcs8_der,
                        local_key_id,
                        friendly_name,
                    });
                }
                CERT_BAG => {
                    let mut cert_bag = take(&mut &value[..], 0x30, "certBag")?;
                    if read_oid(&mut cert_bag, "certificate type")? != X509_CERTIFICATE {
                        continue; // an SDSI certificate: not ours to use
                    }
                    if self.found.certs.len() >= MAX_CERTS_PER_FILE {
                        return Err(Pkcs12Problem::Malformed(format!(
                            "holds more than {MAX_CERTS_PER_FILE} certificates"
                        )));
                    }
                    let explicit = take(&mut cert_bag, 0xa0, "certificate")?;
                    let der = take(&mut &explicit[..], 0x04, "certificate")?;
                    let cert = x509_cert::Certificate::from_der(der)
                        .map_err(|_| malformed("a certificate cannot be read"))?;
                    self.found.certs.push(Pkcs12Cert {
                        cert,
                        local_key_id,
                        friendly_name,
                    });
                }
                SAFE_CONTENTS_BAG => {
                    if depth >= MAX_PKCS12_NESTING {
                        return Err(malformed("safeContentsBags nested too deeply"));
                    }
                    self.safe_contents(value, depth + 1)?;
                }
                _ => {} // crlBag, secretBag and others: nothing we use
            }
        }
        Ok(())
    }
}

/// The localKeyId and friendlyName among a bag's attributes (the first value of each).
fn attributes(mut set: &[u8]) -> Result<BagAttributes, Pkcs12Problem> {
    let (mut local_key_id, mut friendly_name) = (None, None);
    while !set.is_empty() {
        let mut attribute = take(&mut set, 0x30, "bag attribute")?;
        let id = read_oid(&mut attribute, "bag attribute")?;
        let mut values = take(&mut attribute, 0x31, "bag attribute values")?;
        match id {
            LOCAL_KEY_ID => local_key_id = Some(take(&mut values, 0x04, "localKeyId")?.to_vec()),
            FRIENDLY_NAME => {
                let bmp = take(&mut values, 0x1e, "friendlyName")?;
                let units = bmp
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
                friendly_name = Some(
                    char::decode_utf16(units)
                        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                        .collect(),
                );
            }
            _ => {}
        }
    }
    Ok((local_key_id, friendly_name))
}

/// A bag's localKeyId and friendlyName.
type BagAttributes = (Option<Vec<u8>>, Option<String>);

/// The content type and the contents of the `[0]` content of a ContentInfo's contents.
fn content_info(mut info: &[u8]) -> Result<(ObjectIdentifier, &[u8]), Pkcs12Problem> {
    let content_type = read_oid(&mut info, "content type")?;
    Ok((content_type, take(&mut info, 0xa0, "content")?))
}

/// The next element of `input`, which it moves past.
fn next<'a>(input: &mut &'a [u8], what: &str) -> Result<ber::Element<'a>, Pkcs12Problem> {
    let element = ber::next(input).ok_or_else(|| malformed(what))?;
    *input = element.rest;
    Ok(element)
}

/// The contents of the next element of `input`, which must have `tag`.
fn take<'a>(input: &mut &'a [u8], tag: u8, what: &str) -> Result<&'a [u8], Pkcs12Problem> {
    let element = next(input, what)?;
    if element.tag != tag {
        return Err(malformed(what));
    }
    Ok(element.contents)
}

fn read_oid(input: &mut &[u8], what: &str) -> Result<ObjectIdentifier, Pkcs12Problem> {
    ObjectIdentifier::from_bytes(take(input, 0x06, what)?).map_err(|_| malformed(what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::certcheck::rsa_public_key_unchecked;
    use pkcs8::DecodePrivateKey;

    const PASS: &[u8] = b"test";

    fn read(path: &str) -> Vec<u8> {
        let path = format!("{}/../../testdata/pki/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn parsed(data: &[u8], name: &str) -> Pkcs12 {
        parse(data, PASS).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn problem(data: &[u8], passphrase: &[u8]) -> Pkcs12Problem {
        match parse(data, passphrase) {
            Ok(p) => panic!("parsed: {p:?}"),
            Err(e) => e,
        }
    }

    /// The DER of the first PRIVATE KEY block of a PEM file.
    fn pem_key(path: &str) -> Vec<u8> {
        let blocks = crate::keys::pem::blocks(&read(path));
        blocks
            .iter()
            .find(|b| b.label == "PRIVATE KEY")
            .map(|b| b.der.to_vec())
            .unwrap_or_default()
    }

    fn subject(cert: &Pkcs12Cert) -> String {
        cert.cert.tbs_certificate().subject().to_string()
    }

    /// True when `key` is the private key of `cert`.
    fn belongs(key: &Pkcs12Key, cert: &Pkcs12Cert) -> bool {
        let Ok(private) = rsa::PrivateKey::from_pkcs8_der(&key.pkcs8_der) else {
            return false;
        };
        rsa_public_key_unchecked(&cert.cert) == Some(rsa::PublicKey::from(&private))
    }

    /// The one key, and the one certificate with its localKeyId, which must hold its public key.
    fn key_and_cert(p12: &Pkcs12) -> (&Pkcs12Key, &Pkcs12Cert) {
        assert_eq!(p12.keys.len(), 1);
        let key = &p12.keys[0];
        assert!(key.local_key_id.is_some());
        let mine: Vec<&Pkcs12Cert> = p12
            .certs
            .iter()
            .filter(|c| c.local_key_id == key.local_key_id)
            .collect();
        assert_eq!(mine.len(), 1);
        assert!(belongs(key, mine[0]));
        (key, mine[0])
    }

    #[test]
    fn openssl_defaults_with_chain() {
        let p12 = parsed(&read("pkcs12/default.p12"), "default.p12");
        let (key, cert) = key_and_cert(&p12);
        assert_eq!(
            &key.pkcs8_der[..],
            &pem_key("keys/alice@example.com.pem")[..]
        );
        assert_eq!(key.friendly_name.as_deref(), Some("alice@example.com"));
        assert_eq!(cert.friendly_name.as_deref(), Some("alice@example.com"));
        assert!(subject(cert).contains("alice@example.com"));
        assert_eq!(p12.certs.len(), 2);
        let other = p12.certs.iter().find(|c| c.local_key_id.is_none());
        assert!(other.is_some_and(|c| subject(c).contains("Intermediate")));
    }

    #[test]
    fn every_fixture_variant_parses() {
        let want = pem_key("keys/alice@example.com.pem");
        for (name, certs) in [
            ("legacy.p12", 2),
            ("legacy2.p12", 1),
            ("sha512mac.p12", 1),
            ("nomac.p12", 1),
            ("plain.p12", 1),
        ] {
            let p12 = parsed(&read(&format!("pkcs12/{name}")), name);
            let (key, _) = key_and_cert(&p12);
            assert_eq!(&key.pkcs8_der[..], &want[..], "{name}");
            assert_eq!(p12.certs.len(), certs, "{name}");
        }
    }

    #[test]
    fn the_key_belongs_to_one_of_two_certificates() {
        let p12 = parsed(&read("pkcs12/twocerts.p12"), "twocerts.p12");
        assert_eq!(p12.certs.len(), 2);
        let (key, cert) = key_and_cert(&p12);
        assert!(subject(cert).contains("alice@example.com"));
        let Some(bob) = p12
            .certs
            .iter()
            .find(|c| subject(c).contains("bob@example.net"))
        else {
            panic!("no certificate for bob");
        };
        assert_eq!(bob.local_key_id, None);
        assert!(!belongs(key, bob));
    }

    #[test]
    fn the_test_pki_p12_files_parse() {
        for addr in [
            "alice@example.com",
            "bob@example.net",
            "carol@example.org",
            "dave@example.net",
            "erin@example.com",
        ] {
            let data = read(&format!("keys/{addr}.p12"));
            assert!(looks_like_pkcs12(&data));
            let p12 = parsed(&data, addr);
            let (_, cert) = key_and_cert(&p12);
            assert!(subject(cert).contains(addr), "{addr}");
            assert_eq!(
                p12.certs.len(),
                3,
                "{addr}: certificate, intermediate and root"
            );
        }
    }

    #[test]
    fn a_wrong_passphrase_is_told() {
        for name in ["default.p12", "legacy.p12", "sha512mac.p12", "nomac.p12"] {
            let data = read(&format!("pkcs12/{name}"));
            for wrong in [&b"tesT"[..], b"", "tést".as_bytes()] {
                assert_eq!(
                    problem(&data, wrong),
                    Pkcs12Problem::WrongPassphrase,
                    "{name}"
                );
            }
        }
        assert_eq!(
            Pkcs12Problem::WrongPassphrase.to_string(),
            "wrong passphrase (or the file is damaged)"
        );
    }

    #[test]
    fn truncated_or_foreign_files_are_refused_without_panic() {
        let data = read("pkcs12/default.p12");
        for cut in [1, 2, 4, 20, 100, data.len() / 2, data.len() - 1] {
            match problem(&data[..cut], PASS) {
                Pkcs12Problem::Truncated => {}
                Pkcs12Problem::Malformed(m) if cut < 4 => assert!(m.contains("not a PKCS#12")),
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
        let pem = read("keys/alice@example.com.pem");
        assert!(!looks_like_pkcs12(&pem));
        assert_eq!(
            problem(&pem, PASS),
            Pkcs12Problem::Malformed("is not a PKCS#12 file".into())
        );
        assert!(!looks_like_pkcs12(&[]));
        // Every one-byte change, outside the MAC's reach too, is an error or a clean parse.
        let nomac = read("pkcs12/nomac.p12");
        for i in (0..nomac.len()).step_by(7) {
            let mut bad = nomac.clone();
            bad[i] ^= 0x41;
            let _ = parse(&bad, PASS);
        }
    }

    #[test]
    fn unsupported_algorithms_are_named() {
        // The MAC's sha256 OID made PBMAC1's (the same length).
        let sha256 = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
        let pbmac1 = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0e];
        let data = patch(read("pkcs12/default.p12"), &sha256, &pbmac1, Which::Only);
        assert_eq!(
            problem(&data, PASS),
            Pkcs12Problem::Unsupported {
                what: "the MAC PBMAC1 (1.2.840.113549.1.5.14)".into()
            }
        );
        // In a file without MAC, the key bag's PBES2 (1.2.840.113549.1.5.13) made PKCS#5 v1.5's
        // pbeWithMD5AndDES-CBC (.5.3): same length, so every length stays right.
        let pbes2 = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
        let md5_des = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x03];
        let data = patch(read("pkcs12/nomac.p12"), &pbes2, &md5_des, Which::Only);
        let err = problem(&data, PASS);
        assert_eq!(
            err.to_string(),
            "encrypted with pbeWithMD5AndDES-CBC (1.2.840.113549.1.5.3), which is not supported"
        );
        assert!(matches!(
            err,
            Pkcs12Problem::Pbe(PbeProblem::Unsupported { .. })
        ));
    }

    #[test]
    fn an_iteration_count_over_the_limit_is_not_run() {
        // The MAC's 8388608 iterations (02 04 00 80 00 00, last in the file) made 10000001.
        let start = std::time::Instant::now();
        let data = patch(
            read("pkcs12/iter8m.p12"),
            &[2, 4, 0, 0x80, 0, 0],
            &[2, 4, 0, 0x98, 0x96, 0x81],
            Which::Last,
        );
        match problem(&data, PASS) {
            Pkcs12Problem::Pbe(PbeProblem::Malformed(m)) => {
                assert!(m.contains("10000001 is above the limit of 10000000"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn debug_shows_no_key_bytes() {
        let p12 = parsed(&read("pkcs12/default.p12"), "default.p12");
        // The private half of the key (the modulus is public: the certificate's Debug shows it).
        let der = &p12.keys[0].pkcs8_der[400..];
        let text = format!("{p12:?} {:?}", p12.keys[0]);
        assert!(text.contains("pkcs8_der_len"));
        for window in der.windows(8).step_by(64) {
            let bytes = format!("{window:?}");
            let inner = &bytes[1..bytes.len() - 1];
            let hex: String = window.iter().map(|b| format!("{b:02x}")).collect();
            assert!(!text.contains(inner) && !text.contains(&hex), "{inner}");
        }
    }

    #[test]
    fn ber_exports_parse() {
        // legacy.p12 without its MAC, rewritten as BER the way Windows writes it: indefinite
        // lengths everywhere, OCTET STRINGs in segments, and the encrypted content a
        // constructed [0]. The certificates' and keys' own DER is left alone.
        let der = read("pkcs12/legacy.p12");
        let Some(pfx) = ber::next(&der) else {
            panic!("not DER")
        };
        let Some(version) = ber::next(pfx.contents) else {
            panic!("no version")
        };
        let Some(auth_safe) = ber::next(version.rest) else {
            panic!("no authSafe")
        };
        let mut ber = vec![0x30, 0x80];
        ber.extend_from_slice(version.whole);
        berify(auth_safe.whole, 2, &mut ber);
        ber.extend_from_slice(&[0, 0]);
        assert!(looks_like_pkcs12(&ber));
        let p12 = parsed(&ber, "BER");
        let (key, _) = key_and_cert(&p12);
        assert_eq!(
            &key.pkcs8_der[..],
            &pem_key("keys/alice@example.com.pem")[..]
        );
        assert_eq!(p12.certs.len(), 2);
        assert_eq!(problem(&ber, b"wrong"), Pkcs12Problem::WrongPassphrase);
    }

    /// Appends `der` as BER: constructed elements with indefinite lengths, OCTET STRINGs (and
    /// `[0]` IMPLICIT ones) in two segments, the DER inside an OCTET STRING rewritten too while
    /// `inside` allows.
    fn berify(der: &[u8], inside: usize, out: &mut Vec<u8>) {
        let Some(e) = ber::next(der) else {
            panic!("not DER")
        };
        let segments = |contents: &[u8], out: &mut Vec<u8>| {
            let (a, b) = contents.split_at(contents.len() / 2);
            for part in [a, b] {
                out.push(0x04);
                ber::push_len(out, part.len());
                out.extend_from_slice(part);
            }
        };
        match e.tag {
            0x04 if inside > 0 && e.contents.first() == Some(&0x30) => {
                let mut inner = Vec::new();
                berify(e.contents, inside - 1, &mut inner);
                out.extend_from_slice(&[0x24, 0x80]);
                segments(&inner, out);
                out.extend_from_slice(&[0, 0]);
            }
            0x04 | 0x80 => {
                out.extend_from_slice(if e.tag == 0x04 {
                    &[0x24, 0x80]
                } else {
                    &[0xa0, 0x80]
                });
                segments(e.contents, out);
                out.extend_from_slice(&[0, 0]);
            }
            tag if tag & 0x20 != 0 => {
                out.extend_from_slice(&[tag, 0x80]);
                let mut rest = e.contents;
                while let Some(child) = ber::next(rest) {
                    berify(child.whole, inside, out);
                    rest = child.rest;
                }
                out.extend_from_slice(&[0, 0]);
            }
            _ => out.extend_from_slice(e.whole),
        }
    }

    fn find(data: &[u8], needle: &[u8]) -> Vec<usize> {
        data.windows(needle.len())
            .enumerate()
            .filter(|(_, w)| *w == needle)
            .map(|(i, _)| i)
            .collect()
    }

    enum Which {
        Only,
        Last,
    }

    fn patch(mut data: Vec<u8>, from: &[u8], to: &[u8], which: Which) -> Vec<u8> {
        let at = find(&data, from);
        let i = match which {
            Which::Only if at.len() == 1 => at[0],
            Which::Last if !at.is_empty() => at[at.len() - 1],
            _ => panic!("{from:02x?} occurs {} times", at.len()),
        };
        data[i..i + to.len()].copy_from_slice(to);
        data
    }
}
