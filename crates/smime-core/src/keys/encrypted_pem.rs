//! OpenSSL's traditional encrypted PEM: an `RSA PRIVATE KEY` (or `EC PRIVATE KEY`) block with
//! the RFC 1421 headers `Proc-Type: 4,ENCRYPTED` and `DEK-Info: <cipher>,<IV in hex>`, as
//! `openssl genrsa -aes256` and `openssl rsa -aes256 -traditional` write it.
//!
//! No crate reads it: the key is OpenSSL's `EVP_BytesToKey` (MD5, one round, the salt is the
//! first 8 bytes of the IV), and the DER is CBC-encrypted with PKCS#7 padding. Ciphers:
//! AES-128/192/256-CBC and DES-EDE3-CBC; plain DES and others are refused by name.

use aes::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
use zeroize::Zeroizing;

use super::pem::PemBlock;

/// Why an encrypted PEM block could not be opened. The texts follow the file's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EncryptedPemProblem {
    /// The padding or the DER inside is wrong: what a wrong passphrase gives.
    #[error("wrong passphrase (or the file is damaged)")]
    WrongPassphrase,
    /// A `DEK-Info` cipher we do not decrypt.
    #[error(
        "its key is encrypted with {0}, which is not supported (AES-128/192/256-CBC and DES-EDE3-CBC are)"
    )]
    Unsupported(String),
    /// The headers are not what OpenSSL writes.
    #[error("its encryption headers cannot be read: {0}")]
    Malformed(&'static str),
}

/// The DER inside `block` (PKCS#1 `RSAPrivateKey` for an `RSA PRIVATE KEY` block), decrypted
/// with `passphrase` (its bytes as typed, as OpenSSL uses them).
///
/// # Errors
/// [`EncryptedPemProblem`] when the headers are unusable or the passphrase is wrong.
pub(crate) fn decrypt(
    block: &PemBlock,
    passphrase: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EncryptedPemProblem> {
    let dek = block
        .header("DEK-Info")
        .ok_or(EncryptedPemProblem::Malformed("no DEK-Info header"))?;
    let (cipher, iv_hex) = dek
        .split_once(',')
        .ok_or(EncryptedPemProblem::Malformed("DEK-Info has no IV"))?;
    let cipher = cipher.trim().to_ascii_uppercase();
    let iv = hex(iv_hex.trim()).ok_or(EncryptedPemProblem::Malformed("the IV is not hex"))?;
    let (key_len, iv_len) = match cipher.as_str() {
        "AES-128-CBC" => (16, 16),
        "AES-192-CBC" => (24, 16),
        "AES-256-CBC" => (32, 16),
        "DES-EDE3-CBC" => (24, 8),
        _ => return Err(EncryptedPemProblem::Unsupported(cipher)),
    };
    if iv.len() != iv_len {
        return Err(EncryptedPemProblem::Malformed(
            "the IV has the wrong length",
        ));
    }
    let key = bytes_to_key(passphrase, &iv[..8], key_len);
    let data = &block.der[..];
    let plain = match cipher.as_str() {
        "AES-128-CBC" => cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv)
            .map(|d| d.decrypt_padded_vec::<Pkcs7>(data)),
        "AES-192-CBC" => cbc::Decryptor::<aes::Aes192>::new_from_slices(&key, &iv)
            .map(|d| d.decrypt_padded_vec::<Pkcs7>(data)),
        "AES-256-CBC" => cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &iv)
            .map(|d| d.decrypt_padded_vec::<Pkcs7>(data)),
        _ => cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map(|d| d.decrypt_padded_vec::<Pkcs7>(data)),
    }
    .map_err(|_| EncryptedPemProblem::Malformed("the key or IV has the wrong length"))?
    .map_err(|_| EncryptedPemProblem::WrongPassphrase)?;
    let plain = Zeroizing::new(plain);
    // The padding of a wrong passphrase passes by chance (1 in 256 for a last byte of 1):
    // what comes out must also be one DER SEQUENCE filling the buffer.
    if !is_one_sequence(&plain) {
        return Err(EncryptedPemProblem::WrongPassphrase);
    }
    Ok(plain)
}

/// `EVP_BytesToKey` with MD5 and one round: `D_i = MD5(D_{i-1} || passphrase || salt)`,
/// concatenated until `len` bytes.
fn bytes_to_key(passphrase: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut previous: Option<Zeroizing<[u8; 16]>> = None;
    while out.len() < len {
        let mut md = md5::Context::new();
        if let Some(p) = &previous {
            md.consume(&p[..]);
        }
        md.consume(passphrase);
        md.consume(salt);
        let digest = Zeroizing::new(md.finalize().0);
        out.extend_from_slice(&digest[..]);
        previous = Some(digest);
    }
    out.truncate(len);
    out
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether `der` is exactly one DER SEQUENCE (tag, definite length, contents).
fn is_one_sequence(der: &[u8]) -> bool {
    let [0x30, first, rest @ ..] = der else {
        return false;
    };
    let (len, body) = match *first {
        n @ 0..=0x7f => (usize::from(n), rest),
        0x81..=0x84 => {
            let n = usize::from(*first & 0x7f);
            let Some((len_bytes, body)) = rest.split_at_checked(n) else {
                return false;
            };
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, body)
        }
        _ => return false,
    };
    body.len() == len
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::keys::pem;

    fn fixture(name: &str) -> Vec<u8> {
        let path = smime_testkit::repo_root()
            .join("testdata/pki/encrypted")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn plain_pkcs1() -> Vec<u8> {
        let data = fixture("alice-pkcs1.pem");
        pem::blocks(&data).remove(0).der.to_vec()
    }

    #[test]
    fn each_cipher_openssl_writes_is_opened() {
        let want = plain_pkcs1();
        for name in [
            "alice-trad-aes128.pem",
            "alice-trad-aes192.pem",
            "alice-trad-aes256.pem",
            "alice-trad-des3.pem",
        ] {
            let data = fixture(name);
            let blocks = pem::blocks(&data);
            assert!(blocks[0].legacy_encrypted, "{name}");
            let der = decrypt(&blocks[0], b"test").unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&der[..], &want[..], "{name}");
        }
    }

    #[test]
    fn a_wrong_passphrase_is_told_as_such() {
        for name in ["alice-trad-aes256.pem", "alice-trad-des3.pem"] {
            let data = fixture(name);
            let block = &pem::blocks(&data)[0];
            for wrong in [&b"tesT"[..], b"", b"test "] {
                assert_eq!(
                    decrypt(block, wrong).unwrap_err(),
                    EncryptedPemProblem::WrongPassphrase,
                    "{name} {wrong:?}"
                );
            }
        }
    }

    #[test]
    fn unusable_headers_are_named() {
        let data = fixture("alice-trad-aes256.pem");
        let text = String::from_utf8(data).unwrap();
        let with = |from: &str, to: &str| {
            let changed = text.replacen(from, to, 1);
            let blocks = pem::blocks(changed.as_bytes());
            decrypt(&blocks[0], b"test").unwrap_err()
        };
        assert_eq!(
            with("AES-256-CBC", "DES-CBC"),
            EncryptedPemProblem::Unsupported("DES-CBC".into())
        );
        assert!(matches!(
            with("DEK-Info: AES-256-CBC,", "DEK-Info: AES-256-CBC,zz"),
            EncryptedPemProblem::Malformed(_)
        ));
        assert!(matches!(
            with("DEK-Info", "DEK-Inf0"),
            EncryptedPemProblem::Malformed("no DEK-Info header")
        ));
    }

    #[test]
    fn bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -P -md md5 -pass pass:test -S 0001020304050607`
        let key = bytes_to_key(b"test", &[0, 1, 2, 3, 4, 5, 6, 7], 32);
        assert_eq!(
            key.iter().map(|b| format!("{b:02X}")).collect::<String>(),
            include_str!("../../../../testdata/pki/encrypted/bytes-to-key.txt").trim()
        );
    }
}
