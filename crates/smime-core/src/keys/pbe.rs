//! Password-based decryption of keys: encrypted PKCS#8 (`BEGIN ENCRYPTED PRIVATE KEY`) and the
//! encrypted parts of PKCS#12 files.
//!
//! Two families: PBES2 (RFC 8018: PBKDF2 or scrypt, then AES-CBC or DES-EDE3-CBC), through the
//! `pkcs5` crate, with the passphrase's UTF-8 bytes as the password (what OpenSSL does, in
//! PKCS#12 too); and the PKCS#12 PBES1 schemes (RFC 7292 appendix C: 3DES or RC2 under the
//! SHA-1 key derivation of appendix B), here, with the passphrase as a BMPString. The key
//! derivation's cost is bounded before it runs ([`MAX_PBE_ITERATIONS`], the scrypt limits).

use cbc::cipher::{BlockModeDecrypt, InnerIvInit, KeyIvInit, block_padding::Pkcs7};
use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, Reader, SliceReader};
use sha1::Digest;
use sha2::digest::block_api::BlockSizeUser;
use spki::AlgorithmIdentifierRef;
use zeroize::{Zeroize, Zeroizing};

use crate::limits::{
    MAX_PBE_ITERATIONS, MAX_SCRYPT_LOG_N, MAX_SCRYPT_MEMORY, MAX_SCRYPT_P, MAX_SCRYPT_R,
};

/// PBES2 (RFC 8018).
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
/// PBMAC1 (RFC 8018), the MAC of OpenSSL 3.4's `-pbmac1_pbkdf2`: named in messages only.
pub(crate) const PBMAC1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.14");
/// DES-EDE3-CBC, whose IV `pkcs5` slices without checking its length.
const DES_EDE3_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.7");
/// The PKCS#12 PBES1 schemes (RFC 7292 appendix C) share this arc; the last arc picks one.
const PKCS12_PBE_ARC: &str = "1.2.840.113549.1.12.1";

/// Why an encrypted key or PKCS#12 part cannot be decrypted. The `Display` text follows the
/// file's path; none of them holds key bytes or the passphrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PbeProblem {
    /// The padding or the structure after decryption is wrong: with CBC, that is what a
    /// wrong passphrase looks like.
    #[error("wrong passphrase (or the file is damaged)")]
    WrongPassphrase,
    /// An algorithm we do not implement, named ("pbeWithSHAAnd128BitRC4 (1.2.840...)").
    #[error("encrypted with {algorithm}, which is not supported")]
    Unsupported {
        /// Its readable name and OID.
        algorithm: String,
    },
    /// Parameters that cannot be read, or that cross one of our limits.
    #[error("malformed encryption parameters: {0}")]
    Malformed(String),
}

/// A readable name for an algorithm with its OID, e.g. "PBES2 (1.2.840.113549.1.5.13)".
pub(crate) fn algorithm_name(oid: &ObjectIdentifier) -> String {
    // PKCS#5 v1.5's schemes (RFC 8018 A.3, what `openssl pkcs8 -v1 PBE-MD5-DES` writes) are
    // not in the OID database.
    let pkcs5 = |last| oid.parent() == PBES2.parent() && oid.arcs().last() == Some(last);
    let name = match *oid {
        PBES2 => Some("PBES2"),
        PBMAC1 => Some("PBMAC1"),
        _ if pkcs5(1) => Some("pbeWithMD2AndDES-CBC"),
        _ if pkcs5(3) => Some("pbeWithMD5AndDES-CBC"),
        _ if pkcs5(4) => Some("pbeWithMD2AndRC2-CBC"),
        _ if pkcs5(6) => Some("pbeWithMD5AndRC2-CBC"),
        _ if pkcs5(10) => Some("pbeWithSHA1AndDES-CBC"),
        _ if pkcs5(11) => Some("pbeWithSHA1AndRC2-CBC"),
        _ => const_oid::db::DB.by_oid(oid),
    };
    match name {
        Some(name) => format!("{name} ({oid})"),
        None => oid.to_string(),
    }
}

fn unsupported(oid: &ObjectIdentifier) -> PbeProblem {
    PbeProblem::Unsupported {
        algorithm: algorithm_name(oid),
    }
}

fn malformed(what: impl Into<String>) -> PbeProblem {
    PbeProblem::Malformed(what.into())
}

/// Decrypts `data`, encrypted with `alg` under `passphrase` (its UTF-8 bytes).
///
/// # Errors
/// [`PbeProblem`]: wrong passphrase, unsupported algorithm, malformed or too costly parameters.
pub(crate) fn decrypt(
    alg: AlgorithmIdentifierRef<'_>,
    passphrase: &[u8],
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, PbeProblem> {
    let params = alg.parameters;
    if alg.oid == PBES2 {
        return pbes2(
            params.ok_or_else(|| malformed("PBES2 without parameters"))?,
            passphrase,
            data,
        );
    }
    let (arc, last) = (alg.oid.parent(), alg.oid.arcs().last());
    if arc.is_some_and(|arc| arc.to_string() == PKCS12_PBE_ARC) {
        let cipher = match last {
            Some(3) => Pkcs12Cipher::Tdes3,
            Some(4) => Pkcs12Cipher::Tdes2,
            Some(5) => Pkcs12Cipher::Rc2 {
                key_len: 16,
                bits: 128,
            },
            Some(6) => Pkcs12Cipher::Rc2 {
                key_len: 5,
                bits: 40,
            },
            _ => return Err(unsupported(&alg.oid)),
        };
        let params = params.ok_or_else(|| malformed("PKCS#12 PBE without parameters"))?;
        return pkcs12_pbe(cipher, params, passphrase, data);
    }
    Err(unsupported(&alg.oid))
}

/// Decrypts an EncryptedPrivateKeyInfo (the DER of a `BEGIN ENCRYPTED PRIVATE KEY` block) and
/// returns the DER of the PrivateKeyInfo inside.
///
/// # Errors
/// [`PbeProblem`]; [`PbeProblem::WrongPassphrase`] too when the padding was right by chance
/// (1 in 256 for 3DES and RC2) but what it padded is not a PrivateKeyInfo.
pub(crate) fn decrypt_pkcs8(
    der: &[u8],
    passphrase: &[u8],
) -> Result<Zeroizing<Vec<u8>>, PbeProblem> {
    let parsed = SliceReader::new(der).and_then(|mut r| {
        let info = r.sequence(|r| {
            let alg: AlgorithmIdentifierRef<'_> = r.decode()?;
            let data: &OctetStringRef = r.decode()?;
            Ok::<_, der::Error>((alg, data.as_bytes()))
        })?;
        r.finish()?;
        Ok::<_, der::Error>(info)
    });
    let (alg, data) = parsed.map_err(|_| malformed("not an EncryptedPrivateKeyInfo"))?;
    let plain = decrypt(alg, passphrase, data)?;
    if pkcs8::PrivateKeyInfoRef::from_der(&plain).is_err() {
        return Err(PbeProblem::WrongPassphrase);
    }
    Ok(plain)
}

/// PBES2 through `pkcs5`, after checking what it would panic on or spend too long on.
fn pbes2(
    params: AnyRef<'_>,
    passphrase: &[u8],
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, PbeProblem> {
    // `pkcs5` slices a DES-EDE3-CBC IV to 8 bytes without checking that it has them.
    let enc = params.sequence(|r| {
        let _kdf: AnyRef<'_> = r.decode()?;
        let enc: AlgorithmIdentifierRef<'_> = r.decode()?;
        Ok::<_, der::Error>(enc)
    });
    if let Ok(enc) = enc
        && enc.oid == DES_EDE3_CBC
        && enc
            .parameters
            .and_then(|p| p.decode_as::<&OctetStringRef>().ok())
            .is_none_or(|iv| iv.as_bytes().len() != 8)
    {
        return Err(malformed("DES-EDE3-CBC without an 8-byte IV"));
    }
    let params = pkcs5::pbes2::Parameters::try_from(params).map_err(|e| match e.kind() {
        der::ErrorKind::OidUnknown { oid } => unsupported(&oid),
        _ => malformed("PBES2 parameters cannot be read"),
    })?;
    if let Some(p) = params.kdf.pbkdf2() {
        check_iterations(u64::from(p.iteration_count), "PBKDF2")?;
    } else if let Some(s) = params.kdf.scrypt() {
        let (n, r, p) = (
            s.cost_parameter,
            u64::from(s.block_size),
            u64::from(s.parallelization),
        );
        if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
            return Err(malformed("scrypt parameters out of range"));
        }
        if n.trailing_zeros() > MAX_SCRYPT_LOG_N || r > MAX_SCRYPT_R || p > MAX_SCRYPT_P {
            return Err(malformed(format!(
                "scrypt N = {n}, r = {r}, p = {p} is above the limit \
                 (N 2^{MAX_SCRYPT_LOG_N}, r {MAX_SCRYPT_R}, p {MAX_SCRYPT_P})"
            )));
        }
        if 128 * r * n > MAX_SCRYPT_MEMORY {
            return Err(malformed(format!(
                "scrypt N = {n}, r = {r} needs more than the {} MiB allowed",
                MAX_SCRYPT_MEMORY >> 20
            )));
        }
    }
    let mut buf = Zeroizing::new(data.to_vec());
    let len = params
        .decrypt_in_place(passphrase, &mut buf)
        .map_err(|e| match e {
            pkcs5::Error::DecryptFailed => PbeProblem::WrongPassphrase,
            pkcs5::Error::UnsupportedAlgorithm { oid } => unsupported(&oid),
            pkcs5::Error::AlgorithmParametersInvalid { oid } => {
                malformed(format!("invalid parameters for {}", algorithm_name(&oid)))
            }
            _ => malformed("PBES2 decryption failed"),
        })?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// Refuses an iteration count of 0 or above [`MAX_PBE_ITERATIONS`], naming `kdf`.
pub(crate) fn check_iterations(count: u64, kdf: &str) -> Result<(), PbeProblem> {
    if count == 0 {
        return Err(malformed(format!("{kdf} iteration count 0")));
    }
    if count > MAX_PBE_ITERATIONS {
        return Err(malformed(format!(
            "{kdf} iteration count {count} is above the limit of {MAX_PBE_ITERATIONS}"
        )));
    }
    Ok(())
}

/// The ciphers of the PKCS#12 PBES1 schemes.
#[derive(Clone, Copy)]
enum Pkcs12Cipher {
    /// Three-key triple DES (pbeWithSHAAnd3-KeyTripleDES-CBC).
    Tdes3,
    /// Two-key triple DES (pbeWithSHAAnd2-KeyTripleDES-CBC).
    Tdes2,
    /// RC2 with this key length (bytes) and effective key bits (128 or 40).
    Rc2 { key_len: usize, bits: usize },
}

/// A PKCS#12 PBES1 scheme: key and IV from the SHA-1 KDF, then CBC with PKCS#7 padding.
fn pkcs12_pbe(
    cipher: Pkcs12Cipher,
    params: AnyRef<'_>,
    passphrase: &[u8],
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, PbeProblem> {
    let (salt, iterations) = params
        .sequence(|r| {
            let salt: &OctetStringRef = r.decode()?;
            let iterations: u64 = r.decode()?;
            Ok::<_, der::Error>((salt.as_bytes(), iterations))
        })
        .map_err(|_| malformed("PKCS#12 PBE parameters cannot be read"))?;
    check_iterations(iterations, "PKCS#12 key derivation")?;
    if data.is_empty() || !data.len().is_multiple_of(8) {
        return Err(malformed(
            "the encrypted data is not a whole number of blocks",
        ));
    }
    let iterations = iterations as u32; // at most MAX_PBE_ITERATIONS
    let password = bmp_password(passphrase);
    let key_len = match cipher {
        Pkcs12Cipher::Tdes3 => 24,
        Pkcs12Cipher::Tdes2 => 16,
        Pkcs12Cipher::Rc2 { key_len, .. } => key_len,
    };
    let mut key = Zeroizing::new(vec![0u8; key_len]);
    let mut iv = Zeroizing::new([0u8; 8]);
    pkcs12_kdf::<sha1::Sha1>(&password, salt, KdfId::Key, iterations, &mut key);
    pkcs12_kdf::<sha1::Sha1>(&password, salt, KdfId::Iv, iterations, &mut iv[..]);
    let mut buf = Zeroizing::new(data.to_vec());
    let bad_key = |_| malformed("bad key length");
    let plain = match cipher {
        Pkcs12Cipher::Tdes3 => cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv[..])
            .map_err(bad_key)?
            .decrypt_padded::<Pkcs7>(&mut buf),
        Pkcs12Cipher::Tdes2 => cbc::Decryptor::<des::TdesEde2>::new_from_slices(&key, &iv[..])
            .map_err(bad_key)?
            .decrypt_padded::<Pkcs7>(&mut buf),
        Pkcs12Cipher::Rc2 { bits, .. } => cbc::Decryptor::<rc2::Rc2>::inner_iv_slice_init(
            rc2::Rc2::new_with_eff_key_len(&key, bits),
            &iv[..],
        )
        .map_err(bad_key)?
        .decrypt_padded::<Pkcs7>(&mut buf),
    };
    let len = plain.map_err(|_| PbeProblem::WrongPassphrase)?.len();
    buf.truncate(len);
    Ok(buf)
}

/// What the PKCS#12 key derivation is asked for (RFC 7292 B.3: its "ID" byte).
#[derive(Clone, Copy)]
pub(crate) enum KdfId {
    /// Key material for a cipher.
    Key = 1,
    /// An initialisation vector.
    Iv = 2,
    /// A MAC key.
    Mac = 3,
}

/// The passphrase as PKCS#12 wants it: a BMPString (UTF-16BE) with a two-byte terminator; an
/// empty passphrase is just the terminator. Bytes that are not UTF-8 are taken one each, as
/// Latin-1 (what OpenSSL does).
pub(crate) fn bmp_password(passphrase: &[u8]) -> Zeroizing<Vec<u8>> {
    // Sized up front (UTF-16 has at most one unit per UTF-8 byte): no copy left behind.
    let mut out = Zeroizing::new(Vec::with_capacity(passphrase.len() * 2 + 2));
    match std::str::from_utf8(passphrase) {
        Ok(text) => text
            .encode_utf16()
            .for_each(|unit| out.extend_from_slice(&unit.to_be_bytes())),
        Err(_) => passphrase
            .iter()
            .for_each(|&b| out.extend_from_slice(&[0, b])),
    }
    out.extend_from_slice(&[0, 0]);
    out
}

/// The key derivation of RFC 7292 appendix B.2 with the hash `D` (SHA-1, or the SHA-2 of a
/// MAC): fills `out` from the BMP `password`, `salt` and `iterations` (at least 1).
pub(crate) fn pkcs12_kdf<D: Digest + BlockSizeUser>(
    password: &[u8],
    salt: &[u8],
    id: KdfId,
    iterations: u32,
    out: &mut [u8],
) {
    let v = D::block_size();
    // S and P: the salt and the password repeated to a whole number of v-byte blocks.
    let stretch = |src: &[u8], buf: &mut Vec<u8>| {
        let len = src.len().div_ceil(v) * v;
        buf.extend(src.iter().cycle().take(len));
    };
    let mut i = Zeroizing::new(Vec::with_capacity(
        (salt.len() + password.len()) / v * v + 2 * v,
    ));
    stretch(salt, &mut i);
    stretch(password, &mut i);
    let diversifier = vec![id as u8; v];
    let mut chunks = out.chunks_mut(<D as Digest>::output_size()).peekable();
    while let Some(chunk) = chunks.next() {
        let mut a = D::new()
            .chain_update(&diversifier)
            .chain_update(&i[..])
            .finalize();
        for _ in 1..iterations {
            a = D::digest(&a);
        }
        chunk.copy_from_slice(&a[..chunk.len()]);
        if chunks.peek().is_some() {
            // I_j = (I_j + B + 1) mod 2^(8v), where B is A repeated to v bytes.
            for block in i.chunks_mut(v) {
                let mut carry = 1u16;
                for (k, byte) in block.iter_mut().enumerate().rev() {
                    let sum = u16::from(*byte) + u16::from(a[k % a.len()]) + carry;
                    *byte = (sum & 0xff) as u8;
                    carry = sum >> 8;
                }
            }
        }
        a.as_mut_slice().zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::pem;

    const PASS: &[u8] = b"test";

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../testdata/pki/pkcs12/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The DER of the one ENCRYPTED PRIVATE KEY block in a fixture.
    fn p8(name: &str) -> Vec<u8> {
        let blocks = pem::blocks(&fixture(name));
        assert_eq!(blocks.len(), 1, "{name}");
        assert_eq!(blocks[0].label, "ENCRYPTED PRIVATE KEY");
        blocks[0].der.to_vec()
    }

    /// alice's unencrypted PKCS#8 key, what every fixture holds.
    fn alice_key() -> Vec<u8> {
        let path = format!(
            "{}/../../testdata/pki/keys/alice@example.com.pem",
            env!("CARGO_MANIFEST_DIR")
        );
        let data = std::fs::read(path).unwrap_or_default();
        let blocks = pem::blocks(&data);
        blocks
            .iter()
            .find(|b| b.label == "PRIVATE KEY")
            .map(|b| b.der.to_vec())
            .unwrap_or_default()
    }

    /// `data` with the one occurrence of `from` replaced by `to` (same length).
    pub(crate) fn patched(mut data: Vec<u8>, from: &[u8], to: &[u8]) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let at: Vec<usize> = data
            .windows(from.len())
            .enumerate()
            .filter(|(_, w)| *w == from)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(at.len(), 1, "{from:02x?} occurs {} times", at.len());
        data[at[0]..at[0] + to.len()].copy_from_slice(to);
        data
    }

    #[test]
    fn every_supported_pkcs8_scheme_decrypts() {
        let want = alice_key();
        assert!(!want.is_empty());
        for name in [
            "p8-aes256.pem",
            "p8-scrypt.pem",
            "p8-des3.pem",
            "p8-sha1prf.pem",
            "p8-pbe-3des.pem",
            "p8-pbe-2des.pem",
            "p8-pbe-rc2-128.pem",
            "p8-pbe-rc2-40.pem",
        ] {
            match decrypt_pkcs8(&p8(name), PASS) {
                Ok(key) => assert_eq!(&key[..], &want[..], "{name}"),
                Err(e) => panic!("{name}: {e}"),
            }
        }
    }

    #[test]
    fn a_wrong_passphrase_is_told() {
        for name in [
            "p8-aes256.pem",
            "p8-scrypt.pem",
            "p8-des3.pem",
            "p8-pbe-3des.pem",
            "p8-pbe-rc2-40.pem",
        ] {
            for wrong in [&b"tesT"[..], b"", b"test\xff"] {
                assert_eq!(
                    decrypt_pkcs8(&p8(name), wrong),
                    Err(PbeProblem::WrongPassphrase),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn rc4_is_unsupported_and_named() {
        let err = decrypt_pkcs8(&p8("p8-rc4.pem"), PASS).err();
        assert_eq!(
            err,
            Some(PbeProblem::Unsupported {
                algorithm: "pbeWithSHAAnd128BitRC4 (1.2.840.113549.1.12.1.1)".into()
            })
        );
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some(
                "encrypted with pbeWithSHAAnd128BitRC4 (1.2.840.113549.1.12.1.1), \
                 which is not supported"
            )
        );
    }

    #[test]
    fn costly_parameters_are_refused_before_running() {
        let start = std::time::Instant::now();
        // 8388608 iterations (02 04 00 80 00 00) patched to 10000001, one above the limit.
        let (from, to) = ([2, 4, 0, 0x80, 0, 0], [2, 4, 0, 0x98, 0x96, 0x81]);
        for name in ["p8-iter8m.pem", "p8-pbe-iter8m.pem"] {
            match decrypt_pkcs8(&patched(p8(name), &from, &to), PASS) {
                Err(PbeProblem::Malformed(m)) => {
                    assert!(m.contains("10000001 is above the limit of 10000000"), "{m}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        // scrypt N = 2^16 (02 03 01 00 00) patched to 2^21, then r to 33, then p to 17.
        let n = patched(
            p8("p8-scrypt64k.pem"),
            &[2, 3, 1, 0, 0],
            &[2, 3, 0x20, 0, 0],
        );
        let r = patched(
            p8("p8-scrypt64k.pem"),
            &[2, 1, 2, 2, 1, 1],
            &[2, 1, 33, 2, 1, 1],
        );
        let p = patched(
            p8("p8-scrypt64k.pem"),
            &[2, 1, 2, 2, 1, 1],
            &[2, 1, 2, 2, 1, 17],
        );
        // N = 2^20 and r = 16: each within its limit, 2 GiB together.
        let mem = patched(
            p8("p8-scrypt64k.pem"),
            &[2, 3, 1, 0, 0],
            &[2, 3, 0x10, 0, 0],
        );
        let mem = patched(mem, &[2, 1, 2, 2, 1, 1], &[2, 1, 16, 2, 1, 1]);
        for data in [n, r, p] {
            match decrypt_pkcs8(&data, PASS) {
                Err(PbeProblem::Malformed(m)) => assert!(m.contains("above the limit"), "{m}"),
                other => panic!("{other:?}"),
            }
        }
        match decrypt_pkcs8(&mem, PASS) {
            Err(PbeProblem::Malformed(m)) => assert!(m.contains("1024 MiB"), "{m}"),
            other => panic!("{other:?}"),
        }
        // N = 0 and N not a power of two would make `pkcs5` panic or fail: refused first.
        let zero = patched(p8("p8-scrypt64k.pem"), &[2, 3, 1, 0, 0], &[2, 3, 0, 0, 0]);
        let odd = patched(p8("p8-scrypt64k.pem"), &[2, 3, 1, 0, 0], &[2, 3, 1, 0, 1]);
        for data in [zero, odd] {
            assert!(matches!(
                decrypt_pkcs8(&data, PASS),
                Err(PbeProblem::Malformed(_))
            ));
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    /// One DER element.
    fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        crate::keys::ber::push_len(&mut out, contents.len());
        out.extend_from_slice(contents);
        out
    }

    #[test]
    fn a_short_des_iv_is_refused_not_a_panic() {
        // p8-des3.pem with a 4-byte IV: `pkcs5` would panic slicing it to 8.
        let der = p8("p8-des3.pem");
        fn walk(d: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
            crate::keys::ber::next(d).map(|e| (e.contents, e.whole, e.rest))
        }
        let Some((info, _, _)) = walk(&der) else {
            panic!("not DER")
        };
        let Some((alg, _, data)) = walk(info) else {
            panic!("no algorithm")
        };
        let Some((_, pbes2_oid, params)) = walk(alg) else {
            panic!("no OID")
        };
        let Some((params, _, _)) = walk(params) else {
            panic!("no parameters")
        };
        let Some((_, kdf, _)) = walk(params) else {
            panic!("no KDF")
        };
        let des_oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x03, 0x07];
        let enc = tlv(0x30, &[&des_oid[..], &tlv(0x04, &[1, 2, 3, 4])].concat());
        let alg = tlv(
            0x30,
            &[pbes2_oid, &tlv(0x30, &[kdf, &enc].concat())].concat(),
        );
        let bad = tlv(0x30, &[&alg[..], data].concat());
        assert_eq!(
            decrypt_pkcs8(&bad, PASS),
            Err(PbeProblem::Malformed(
                "DES-EDE3-CBC without an 8-byte IV".into()
            ))
        );
    }

    #[test]
    fn malformed_input_is_no_panic() {
        let good = p8("p8-pbe-3des.pem");
        for cut in [0, 1, 10, 40, good.len() - 1] {
            assert!(decrypt_pkcs8(&good[..cut], PASS).is_err(), "{cut}");
        }
        // The last block cut off: not whole blocks.
        let mut short = good.clone();
        short.truncate(good.len() - 3);
        assert!(decrypt_pkcs8(&short, PASS).is_err());
    }

    #[test]
    fn kdf_known_answers() {
        // RFC 7292 has none; these are the vectors of BouncyCastle's PKCS12 key generator test
        // (password "smeg", one iteration, SHA-1).
        let password = bmp_password(b"smeg");
        let salt = [0x0a, 0x58, 0xcf, 0x64, 0x53, 0x0d, 0x82, 0x3f];
        let mut key = [0u8; 24];
        pkcs12_kdf::<sha1::Sha1>(&password, &salt, KdfId::Key, 1, &mut key);
        assert_eq!(
            key,
            [
                0x8a, 0xaa, 0xe6, 0x29, 0x7b, 0x6c, 0xb0, 0x46, 0x42, 0xab, 0x5b, 0x07, 0x78, 0x51,
                0x28, 0x4e, 0xb7, 0x12, 0x8f, 0x1a, 0x2a, 0x7f, 0xbc, 0xa3
            ]
        );
        let mut iv = [0u8; 8];
        pkcs12_kdf::<sha1::Sha1>(&password, &salt, KdfId::Iv, 1, &mut iv);
        assert_eq!(iv, [0x79, 0x99, 0x3d, 0xfe, 0x04, 0x8d, 0x3b, 0x76]);
        let salt = [0x3d, 0x83, 0xc0, 0xe4, 0x54, 0x6a, 0xc1, 0x40];
        let mut mac_key = [0u8; 20];
        pkcs12_kdf::<sha1::Sha1>(&password, &salt, KdfId::Mac, 1, &mut mac_key);
        assert_eq!(
            mac_key,
            [
                0x8d, 0x96, 0x7d, 0x88, 0xf6, 0xca, 0xa9, 0xd7, 0x14, 0x80, 0x0a, 0xb3, 0xd4, 0x80,
                0x51, 0xd6, 0x3f, 0x73, 0xa3, 0x12
            ]
        );
        // The password as BMP: UTF-16BE plus two zero bytes; empty is the two zero bytes.
        assert_eq!(&bmp_password(b"")[..], &[0, 0]);
        assert_eq!(&bmp_password("é".as_bytes())[..], &[0, 0xe9, 0, 0]);
        assert_eq!(&bmp_password(b"\xff")[..], &[0, 0xff, 0, 0]);
    }
}
