//! Every size and count limit, in one place. Input is refused when it crosses one, before the
//! work it would cost is done: each bound is far above what real mail, keys and certificates
//! need, and low enough that hostile input cannot make a message take unbounded memory or time.
//!
//! The public ones are re-exported at the crate root (`smime_core::MAX_MIME_DEPTH`, ...); the
//! others bound the internals of one module each.

// --- Messages ---------------------------------------------------------------------------------

/// Largest header section accepted (the message's own header, up to the empty line), in
/// bytes. Exim's default `header_maxsize` is the same 1 MiB; real messages, even after many
/// relays, stay far below it.
pub const MAX_HEADER_SIZE: usize = 1024 * 1024;

/// Largest single header field accepted, its folded lines and CRLFs included, in bytes: 100 KiB,
/// Postfix's `header_size_limit` (Postfix cuts longer fields, so such a message would not survive
/// delivery intact anyway). Much more lenient than RFC 5322's 998-octet *line* limit, on purpose:
/// long unfolded lines and To lists of a few thousand addresses occur in real mail.
pub const MAX_FIELD_SIZE: usize = 100 * 1024;

/// Deepest MIME nesting accepted; deeper input is refused rather than recursed into. Real mail
/// nests a few levels (a forwarded message with attachments inside `multipart/mixed` is about
/// five); 64 keeps the recursion's stack small whatever the input.
pub const MAX_MIME_DEPTH: usize = 64;

/// Longest line (without CRLF) that may pass unencoded (RFC 5322 §2.1.1: 998 characters); a
/// longer one is re-encoded, since relays may fold or cut it.
pub(crate) const MAX_7BIT_LINE: usize = 998;

/// Longest encoded line we emit, excluding the CRLF (RFC 2045 §6.7, §6.8: 76 characters for
/// both base64 and quoted-printable).
pub(crate) const MAX_ENCODED_LINE: usize = 76;

// --- Keys and certificates --------------------------------------------------------------------

/// Largest key or certificate file read, in bytes. Checked on the file's metadata before
/// reading, and again while reading (pipes and devices have no size). A key with its
/// certificate chain is a few KiB; 1 MiB leaves room for any genuine file and refuses
/// `/dev/zero`.
pub const MAX_KEY_FILE: u64 = 1024 * 1024;

/// Most certificates read from one file. A sender's chain or a recipient's file holds a
/// handful; a file with more is a CA bundle or an attack, and every one of its certificates
/// would be sent with each signature.
pub const MAX_CERTS_PER_FILE: usize = 100;

/// Smallest RSA modulus accepted, in bits: shorter keys are no longer considered safe (NIST
/// SP 800-131A has disallowed them for new signatures since 2014).
pub const MIN_RSA_BITS: usize = 2048;

/// Largest RSA modulus accepted, in bits: larger keys make each operation very slow (the cost of
/// a private-key operation grows with the cube of the size), and no client needs them.
pub const MAX_RSA_BITS: usize = 8192;

/// Highest iteration count accepted for PBKDF2 and the PKCS#12 key derivation (encrypted keys,
/// PKCS#12 files and their MAC). OpenSSL writes 2048; RFC 8018 names 10,000,000 for "especially
/// critical keys", which already takes seconds: more is a file built to keep us busy.
pub(crate) const MAX_PBE_ITERATIONS: u64 = 10_000_000;

/// Largest scrypt cost parameter N accepted, as a power of two (2^20). OpenSSL writes 2^14.
pub(crate) const MAX_SCRYPT_LOG_N: u32 = 20;

/// Largest scrypt block size r accepted: four times the usual 8.
pub(crate) const MAX_SCRYPT_R: u64 = 32;

/// Largest scrypt parallelisation p accepted: each unit repeats the whole work once more.
pub(crate) const MAX_SCRYPT_P: u64 = 16;

/// Most memory one scrypt derivation may ask for (128·r·N bytes): 1 GiB, N = 2^20 with r = 8.
/// The N and r limits alone would allow 4 GiB, more than a key store should ever take.
pub(crate) const MAX_SCRYPT_MEMORY: u64 = 1 << 30;

/// Most private keys read from one PKCS#12 file. A personal file holds one; a few more are
/// tolerated, and each costs a key derivation.
pub(crate) const MAX_KEYS_PER_PKCS12: usize = 16;

/// Most password-based decryptions in one PKCS#12 file (key bags and encrypted containers
/// together): each may run the key derivation up to [`MAX_PBE_ITERATIONS`] times.
pub(crate) const MAX_PKCS12_DECRYPTIONS: usize = 32;

/// How deep safeContentsBags may nest inside a PKCS#12 file. Real files nest none.
pub(crate) const MAX_PKCS12_NESTING: usize = 4;

// --- Reading S/MIME ---------------------------------------------------------------------------

/// The largest message [`Reader::open`](crate::Reader::open) and
/// [`parse_cms`](crate::parse_cms) accept by default, in bytes. Mail systems deliver messages of
/// a few tens of MB at most, base64 included; 64 MiB is above that while bounding what one
/// message (and its decrypted copy) holds in memory.
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

/// How many S/MIME layers one message may have (signed inside encrypted counts two). Triple
/// wrapping (signed, encrypted, signed again: RFC 2634) is three; eight leaves room and bounds
/// the work.
pub const MAX_LAYERS: usize = 8;

/// How deep constructed elements may nest inside one CMS structure. A SignedData with its
/// certificates nests about ten levels.
pub(crate) const MAX_NESTING: usize = 32;

/// At most this many signers are looked at in one SignedData. Mail has one, rarely two.
pub(crate) const MAX_SIGNERS: usize = 16;

/// At most this many certificates in one SignedData: a signer's certificate and chain, a few
/// per signer.
pub(crate) const MAX_CERTIFICATES: usize = 64;

/// At most this many RecipientInfos are read from one EnvelopedData: one per recipient, and a
/// thousand covers any list whose members each get their own copy of the key.
pub(crate) const MAX_RECIPIENTS: usize = 1024;

/// Longest MIME boundary accepted (RFC 2046 allows 70; some agents write a little more).
pub(crate) const MAX_BOUNDARY: usize = 100;

/// How deep [`inspect`](crate::inspect()) follows nesting (MIME parts, nested messages and
/// encapsulated content together) before the rest is left out: it describes, so a deeper part
/// is marked, not refused. Half of [`MAX_MIME_DEPTH`], which is far above real mail already.
pub const MAX_INSPECT_DEPTH: usize = 32;

/// The largest input [`inspect`](crate::inspect()) accepts, in bytes: far above any real message
/// (it only describes), and within the 32-bit offsets of the MIME parser.
pub const MAX_INSPECT_SIZE: usize = 256 * 1024 * 1024;

/// Certificates in a certification path, leaf and anchor included (`keys/path.rs`): S/MIME
/// chains have 2 to 4; the bound also stops the path search in a pool of many same-named
/// certificates.
pub(crate) const MAX_PATH_LENGTH: usize = 8;

/// Trust anchors in a [`TrustStore`](crate::TrustStore): the system bundles hold 140-150.
pub(crate) const MAX_TRUST_ANCHORS: usize = 1000;

/// Size of one trust bundle file: Debian's is about 220 KB.
pub(crate) const MAX_TRUST_FILE: u64 = 4 * 1024 * 1024;
