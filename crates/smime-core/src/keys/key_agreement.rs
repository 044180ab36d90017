//! Wrapping the content-encryption key for an EC recipient, and unwrapping it with an EC key:
//! ECDH ephemeral-static key agreement as CMS uses it (RFC 5753 §3.1, RFC 5652 §6.2.2).
//!
//! The sender makes a fresh key pair for each message, agrees a secret with the recipient's
//! static key (the one in its certificate), derives a key-encryption key from it with the ANSI
//! X9.63 KDF over `ECC-CMS-SharedInfo` (RFC 5753 §7.2), and wraps the content-encryption key
//! with AES key wrap (RFC 3394). The KeyAgreeRecipientInfo carries the ephemeral public key,
//! the scheme and the wrapped key.
//!
//! What we write: `dhSinglePass-stdDH-sha256kdf-scheme` for P-256 and `sha384kdf` for P-384
//! (the hash as strong as the curve, as RFC 5008 and RFC 6318 pair them), and a wrap key as
//! long as the content key (`id-aes128-wrap` for AES-128, `id-aes256-wrap` for AES-256), which
//! is OpenSSL's choice too. What we read, in addition: `sha1kdf` (OpenSSL's default when it
//! encrypts to an EC certificate), `sha224kdf`, `sha512kdf` and `id-aes192-wrap`.
//!
//! `cms` 0.3.0-rc.0 has a builder for this, but it wraps the key with an all-zero key-encryption
//! key (see `../shared/reference/stack.md`); this module is ours for that reason. The tests in
//! `smime-core/tests/core/ecdsa.rs` decrypt what it writes with OpenSSL, so a wrong wrap key
//! cannot pass.
//!
//! The unwrapping half ([`unwrap_with`]) is tested here against the wrapping half; the reader's
//! ECDH decryption (the inbound issue) is its first caller, hence the `dead_code` allowance.
#![cfg_attr(not(test), allow(dead_code))]

use aes_kw::cipher::KeyInit;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5753::{
    DH_SINGLE_PASS_STD_DH_SHA_1_KDF_SCHEME, DH_SINGLE_PASS_STD_DH_SHA_224_KDF_SCHEME,
    DH_SINGLE_PASS_STD_DH_SHA_256_KDF_SCHEME, DH_SINGLE_PASS_STD_DH_SHA_384_KDF_SCHEME,
    DH_SINGLE_PASS_STD_DH_SHA_512_KDF_SCHEME,
};
use const_oid::db::rfc5911::{ID_AES_128_WRAP, ID_AES_192_WRAP, ID_AES_256_WRAP};
use der::asn1::{Any, OctetString};
use der::{Encode, Tag, TagNumber};
use elliptic_curve::Generate;
use elliptic_curve::sec1::ToSec1Point;
use rand_core::CryptoRng;
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

/// An EC recipient's public key, from its certificate.
#[derive(Debug, Clone)]
pub(crate) enum EcPublicKey {
    /// On P-256.
    P256(p256::PublicKey),
    /// On P-384.
    P384(p384::PublicKey),
}

/// An EC private key that unwraps content-encryption keys. The crates wipe the scalar on drop;
/// no `Debug`.
pub(crate) enum EcSecretKey {
    /// On P-256.
    P256(p256::SecretKey),
    /// On P-384.
    P384(p384::SecretKey),
}

impl EcSecretKey {
    /// The matching public key (to compare with a certificate's).
    pub(crate) fn public_key(&self) -> EcPublicKey {
        match self {
            EcSecretKey::P256(k) => EcPublicKey::P256(k.public_key()),
            EcSecretKey::P384(k) => EcPublicKey::P384(k.public_key()),
        }
    }
}

impl PartialEq for EcPublicKey {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (EcPublicKey::P256(a), EcPublicKey::P256(b)) => a == b,
            (EcPublicKey::P384(a), EcPublicKey::P384(b)) => a == b,
            _ => false,
        }
    }
}

/// What goes into a KeyAgreeRecipientInfo for one recipient.
#[derive(Debug)]
pub(crate) struct Agreement {
    /// The ephemeral public key, an uncompressed point (the originatorKey's publicKey).
    pub(crate) ephemeral_point: Vec<u8>,
    /// The keyEncryptionAlgorithm: the key-agreement scheme, with the key wrap algorithm as
    /// its parameters.
    pub(crate) key_encryption_algorithm: AlgorithmIdentifierOwned,
    /// The wrapped content-encryption key.
    pub(crate) encrypted_key: Vec<u8>,
}

/// The KDF's hash, from the key-agreement scheme's OID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KdfHash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl KdfHash {
    fn from_scheme(oid: &ObjectIdentifier) -> Option<KdfHash> {
        Some(match *oid {
            DH_SINGLE_PASS_STD_DH_SHA_1_KDF_SCHEME => KdfHash::Sha1,
            DH_SINGLE_PASS_STD_DH_SHA_224_KDF_SCHEME => KdfHash::Sha224,
            DH_SINGLE_PASS_STD_DH_SHA_256_KDF_SCHEME => KdfHash::Sha256,
            DH_SINGLE_PASS_STD_DH_SHA_384_KDF_SCHEME => KdfHash::Sha384,
            DH_SINGLE_PASS_STD_DH_SHA_512_KDF_SCHEME => KdfHash::Sha512,
            _ => return None,
        })
    }

    fn scheme(self) -> ObjectIdentifier {
        match self {
            KdfHash::Sha1 => DH_SINGLE_PASS_STD_DH_SHA_1_KDF_SCHEME,
            KdfHash::Sha224 => DH_SINGLE_PASS_STD_DH_SHA_224_KDF_SCHEME,
            KdfHash::Sha256 => DH_SINGLE_PASS_STD_DH_SHA_256_KDF_SCHEME,
            KdfHash::Sha384 => DH_SINGLE_PASS_STD_DH_SHA_384_KDF_SCHEME,
            KdfHash::Sha512 => DH_SINGLE_PASS_STD_DH_SHA_512_KDF_SCHEME,
        }
    }

    /// ANSI X9.63 KDF: `out.len()` bytes from the shared secret `z` and `shared_info`.
    fn derive(self, z: &[u8], shared_info: &[u8], out: &mut [u8]) -> Result<(), String> {
        use ansi_x963_kdf::derive_key_into as kdf;
        match self {
            KdfHash::Sha1 => kdf::<sha1::Sha1>(z, shared_info, out),
            KdfHash::Sha224 => kdf::<sha2::Sha224>(z, shared_info, out),
            KdfHash::Sha256 => kdf::<sha2::Sha256>(z, shared_info, out),
            KdfHash::Sha384 => kdf::<sha2::Sha384>(z, shared_info, out),
            KdfHash::Sha512 => kdf::<sha2::Sha512>(z, shared_info, out),
        }
        .map_err(|e| format!("the X9.63 key derivation failed: {e}"))
    }
}

/// The length in bytes of the key of an AES key wrap algorithm.
fn wrap_key_len(oid: &ObjectIdentifier) -> Option<usize> {
    match *oid {
        ID_AES_128_WRAP => Some(16),
        ID_AES_192_WRAP => Some(24),
        ID_AES_256_WRAP => Some(32),
        _ => None,
    }
}

/// `ECC-CMS-SharedInfo ::= SEQUENCE { keyInfo AlgorithmIdentifier, entityUInfo [0] EXPLICIT
/// OCTET STRING OPTIONAL, suppPubInfo [2] EXPLICIT OCTET STRING }` (RFC 5753 §7.2): the wrap
/// algorithm with absent parameters, the sender's user keying material, and the length of the
/// key-encryption key in bits as four big-endian bytes.
fn shared_info(
    wrap: &ObjectIdentifier,
    ukm: Option<&[u8]>,
    kek_len: usize,
) -> Result<Vec<u8>, der::Error> {
    let explicit = |number: u8, octets: &[u8]| -> Result<Vec<u8>, der::Error> {
        let inner = OctetString::new(octets)?.to_der()?;
        Any::new(
            Tag::ContextSpecific {
                constructed: true,
                number: TagNumber(number.into()),
            },
            inner,
        )?
        .to_der()
    };
    let mut body = AlgorithmIdentifierOwned {
        oid: *wrap,
        parameters: None,
    }
    .to_der()?;
    if let Some(ukm) = ukm {
        body.extend(explicit(0, ukm)?);
    }
    let bits = u32::try_from(kek_len * 8).map_err(|_| der::ErrorKind::Overflow)?;
    body.extend(explicit(2, &bits.to_be_bytes())?);
    Any::new(Tag::Sequence, body)?.to_der()
}

/// The key-encryption key: X9.63 KDF over the shared secret `z`.
fn kek(
    hash: KdfHash,
    wrap: &ObjectIdentifier,
    ukm: Option<&[u8]>,
    z: &[u8],
) -> Result<Zeroizing<Vec<u8>>, String> {
    let len = wrap_key_len(wrap).ok_or_else(|| format!("unsupported key wrap algorithm {wrap}"))?;
    let info = shared_info(wrap, ukm, len).map_err(|e| e.to_string())?;
    let mut out = Zeroizing::new(vec![0u8; len]);
    hash.derive(z, &info, &mut out)?;
    Ok(out)
}

/// AES key wrap (RFC 3394) of `cek` under `kek` (16, 24 or 32 bytes).
fn aes_wrap(kek: &[u8], cek: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; cek.len() + 8];
    let wrapped = match kek.len() {
        16 => aes_kw::KwAes128::new_from_slice(kek)
            .map_err(|e| e.to_string())?
            .wrap_key(cek, &mut out)
            .map(<[u8]>::len),
        24 => aes_kw::KwAes192::new_from_slice(kek)
            .map_err(|e| e.to_string())?
            .wrap_key(cek, &mut out)
            .map(<[u8]>::len),
        _ => aes_kw::KwAes256::new_from_slice(kek)
            .map_err(|e| e.to_string())?
            .wrap_key(cek, &mut out)
            .map(<[u8]>::len),
    }
    .map_err(|e| format!("AES key wrap failed: {e}"))?;
    out.truncate(wrapped);
    Ok(out)
}

/// AES key unwrap (RFC 3394); `None` when the integrity check fails (wrong key).
fn aes_unwrap(kek: &[u8], wrapped: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let len = match kek.len() {
        16 => aes_kw::KwAes128::new_from_slice(kek)
            .ok()?
            .unwrap_key(wrapped, &mut out)
            .ok()?
            .len(),
        24 => aes_kw::KwAes192::new_from_slice(kek)
            .ok()?
            .unwrap_key(wrapped, &mut out)
            .ok()?
            .len(),
        _ => aes_kw::KwAes256::new_from_slice(kek)
            .ok()?
            .unwrap_key(wrapped, &mut out)
            .ok()?
            .len(),
    };
    out.truncate(len);
    Some(out)
}

/// Agrees a key with `recipient` through a fresh ephemeral key drawn from `rng` and wraps
/// `cek` (16 or 32 bytes) with it. The error is a reason, for
/// [`ProtectError::Encrypt`](crate::ProtectError::Encrypt).
pub(crate) fn wrap_for<R: CryptoRng + ?Sized>(
    recipient: &EcPublicKey,
    cek: &[u8],
    rng: &mut R,
) -> Result<Agreement, String> {
    let wrap = if cek.len() <= 16 {
        ID_AES_128_WRAP
    } else {
        ID_AES_256_WRAP
    };
    let (hash, ephemeral_point, kek) = match recipient {
        EcPublicKey::P256(public) => {
            let secret = p256::ecdh::EphemeralSecret::generate_from_rng(rng);
            let z = secret.diffie_hellman(public);
            let point = secret.public_key().to_sec1_point(false).as_bytes().to_vec();
            let kek = kek(KdfHash::Sha256, &wrap, None, z.raw_secret_bytes())?;
            (KdfHash::Sha256, point, kek)
        }
        EcPublicKey::P384(public) => {
            let secret = p384::ecdh::EphemeralSecret::generate_from_rng(rng);
            let z = secret.diffie_hellman(public);
            let point = secret.public_key().to_sec1_point(false).as_bytes().to_vec();
            let kek = kek(KdfHash::Sha384, &wrap, None, z.raw_secret_bytes())?;
            (KdfHash::Sha384, point, kek)
        }
    };
    let wrap_algorithm = AlgorithmIdentifierOwned {
        oid: wrap,
        parameters: None,
    };
    Ok(Agreement {
        ephemeral_point,
        key_encryption_algorithm: AlgorithmIdentifierOwned {
            oid: hash.scheme(),
            parameters: Some(Any::encode_from(&wrap_algorithm).map_err(|e| e.to_string())?),
        },
        encrypted_key: aes_wrap(&kek, cek)?,
    })
}

/// Why a KeyAgreeRecipientInfo cannot be unwrapped with our key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UnwrapProblem {
    /// A scheme, curve or wrap algorithm we do not read (the text names it).
    #[error("{0}")]
    Unsupported(String),
    /// The structure is not what RFC 5753 describes (the text says how).
    #[error("{0}")]
    Malformed(String),
    /// The wrapped key does not unwrap: the message was not agreed with this key, or it was
    /// damaged.
    #[error("the content-encryption key does not unwrap with this key")]
    WrongKey,
}

/// Unwraps the content-encryption key of a KeyAgreeRecipientInfo with `key`: the originator's
/// ephemeral point, the keyEncryptionAlgorithm, the ukm if any and the recipient's encrypted
/// key.
pub(crate) fn unwrap_with(
    key: &EcSecretKey,
    ephemeral_point: &[u8],
    key_encryption_algorithm: &AlgorithmIdentifierOwned,
    ukm: Option<&[u8]>,
    encrypted_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>, UnwrapProblem> {
    let hash = KdfHash::from_scheme(&key_encryption_algorithm.oid).ok_or_else(|| {
        UnwrapProblem::Unsupported(format!(
            "key agreement scheme {}",
            super::private_key::oid_name(&key_encryption_algorithm.oid)
        ))
    })?;
    let wrap = key_encryption_algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
        .ok_or_else(|| UnwrapProblem::Malformed("no key wrap algorithm".to_owned()))?;
    if wrap_key_len(&wrap.oid).is_none() {
        return Err(UnwrapProblem::Unsupported(format!(
            "key wrap algorithm {}",
            super::private_key::oid_name(&wrap.oid)
        )));
    }
    let bad_point = || {
        UnwrapProblem::Malformed(
            "the originator's key is not a point on the recipient's curve".to_owned(),
        )
    };
    let kek = match key {
        EcSecretKey::P256(secret) => {
            let public =
                p256::PublicKey::from_sec1_bytes(ephemeral_point).map_err(|_| bad_point())?;
            let z = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
            kek(hash, &wrap.oid, ukm, z.raw_secret_bytes())
        }
        EcSecretKey::P384(secret) => {
            let public =
                p384::PublicKey::from_sec1_bytes(ephemeral_point).map_err(|_| bad_point())?;
            let z = p384::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
            kek(hash, &wrap.oid, ukm, z.raw_secret_bytes())
        }
    }
    .map_err(UnwrapProblem::Malformed)?;
    aes_unwrap(&kek, encrypted_key).ok_or(UnwrapProblem::WrongKey)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chacha20::rand_core::SeedableRng;

    fn p256_key(seed: u8) -> EcSecretKey {
        let mut rng = chacha20::ChaCha20Rng::from_seed([seed; 32]);
        EcSecretKey::P256(p256::SecretKey::generate_from_rng(&mut rng))
    }

    #[test]
    fn p384_keys_agree_with_sha384_and_unwrap() {
        let mut rng = chacha20::ChaCha20Rng::from_seed([3; 32]);
        let ours = EcSecretKey::P384(p384::SecretKey::generate_from_rng(&mut rng));
        let agreed = wrap_for(&ours.public_key(), &[7; 16], &mut rng).unwrap();
        assert_eq!(
            agreed.key_encryption_algorithm.oid,
            DH_SINGLE_PASS_STD_DH_SHA_384_KDF_SCHEME
        );
        let cek = unwrap_with(
            &ours,
            &agreed.ephemeral_point,
            &agreed.key_encryption_algorithm,
            None,
            &agreed.encrypted_key,
        )
        .unwrap();
        assert_eq!(cek.as_slice(), [7; 16]);
    }

    #[test]
    fn shared_info_is_rfc_5753_with_the_key_length_in_bits() {
        // SEQUENCE { SEQUENCE { id-aes256-wrap }, [2] { OCTET STRING 00 00 01 00 } }
        let der = shared_info(&ID_AES_256_WRAP, None, 32).unwrap();
        assert_eq!(
            der,
            [
                0x30, 0x15, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01,
                0x2d, 0xa2, 0x06, 0x04, 0x04, 0x00, 0x00, 0x01, 0x00
            ]
        );
        let with_ukm = shared_info(&ID_AES_128_WRAP, Some(b"ab"), 16).unwrap();
        assert_eq!(&with_ukm[15..21], [0xa0, 0x04, 0x04, 0x02, b'a', b'b']);
        assert_eq!(&with_ukm[21..], [0xa2, 0x06, 0x04, 0x04, 0, 0, 0, 0x80]);
    }

    #[test]
    fn what_is_wrapped_for_a_key_unwraps_with_it_and_with_no_other() {
        let mut rng = chacha20::ChaCha20Rng::from_seed([9; 32]);
        let ours = p256_key(1);
        let cek = [0x42u8; 32];
        let agreed = wrap_for(&ours.public_key(), &cek, &mut rng).unwrap();
        assert_eq!(
            agreed.key_encryption_algorithm.oid,
            DH_SINGLE_PASS_STD_DH_SHA_256_KDF_SCHEME
        );
        assert_eq!(agreed.encrypted_key.len(), 40);
        let unwrap = |key: &EcSecretKey| {
            unwrap_with(
                key,
                &agreed.ephemeral_point,
                &agreed.key_encryption_algorithm,
                None,
                &agreed.encrypted_key,
            )
        };
        assert_eq!(unwrap(&ours).unwrap().as_slice(), cek);
        assert_eq!(unwrap(&p256_key(2)).err(), Some(UnwrapProblem::WrongKey));
        // A wrap under an all-zero key (the cms builder's bug) does not unwrap.
        let zero = aes_wrap(&[0; 32], &cek).unwrap();
        assert_ne!(zero, agreed.encrypted_key);
    }

    #[test]
    fn an_unknown_scheme_or_a_bad_point_is_named() {
        let ours = p256_key(1);
        let alg = AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap("1.3.132.1.15.1"),
            parameters: None,
        };
        let e = unwrap_with(&ours, &[4; 65], &alg, None, &[0; 40]).unwrap_err();
        assert!(matches!(e, UnwrapProblem::Unsupported(_)), "{e:?}");
        let mut rng = chacha20::ChaCha20Rng::from_seed([9; 32]);
        let agreed = wrap_for(&ours.public_key(), &[1; 16], &mut rng).unwrap();
        let e = unwrap_with(
            &ours,
            &[4; 65],
            &agreed.key_encryption_algorithm,
            None,
            &agreed.encrypted_key,
        )
        .unwrap_err();
        assert!(matches!(e, UnwrapProblem::Malformed(_)), "{e:?}");
    }
}
