//! Property: for any MIME tree (nested multiparts; text, HTML and binary leaves; every transfer
//! encoding; several charsets; LF, CRLF or mixed line endings; long lines, NUL and bare CR,
//! trailing white space, lines starting with `From ` or `.`), protecting the message in each
//! mode and opening it again with [`smime_core::Reader`] gives back the same decoded parts.
//!
//! `PROPTEST_CASES` sets the number of cases (default 64). A fixed sample of the generated
//! trees is also checked with OpenSSL (skipped with a notice when OpenSSL is missing, unless
//! `SMIME_REQUIRE_INTEROP=1`).
#![allow(clippy::unwrap_used)]

use crate::common::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use smime_core::{Options, SignMode};
use smime_testkit::{Tool, compare_leaves};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Ascii,
    Utf8,
    Latin1,
}

impl Charset {
    fn name(self) -> &'static str {
        match self {
            Charset::Ascii => "us-ascii",
            Charset::Utf8 => "utf-8",
            Charset::Latin1 => "iso-8859-1",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cte {
    None,
    SevenBit,
    EightBit,
    QuotedPrintable,
    Base64,
    Binary,
}

impl Cte {
    fn header(self) -> Option<&'static str> {
        match self {
            Cte::None => None,
            Cte::SevenBit => Some("7bit"),
            Cte::EightBit => Some("8bit"),
            Cte::QuotedPrintable => Some("quoted-printable"),
            Cte::Base64 => Some("base64"),
            Cte::Binary => Some("binary"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eol {
    Lf,
    Crlf,
    Mixed,
}

#[derive(Debug, Clone)]
enum Node {
    /// A text leaf: `subtype` (`plain`/`html`), its lines (decoded, without line breaks).
    Text {
        subtype: &'static str,
        charset: Charset,
        cte: Cte,
        lines: Vec<Vec<u8>>,
    },
    /// An `application/octet-stream` attachment.
    Binary { cte: Cte, data: Vec<u8> },
    /// A multipart.
    Multi {
        subtype: &'static str,
        children: Vec<Node>,
    },
}

/// One line of text in `charset`, from a few shapes that have broken encoders before.
fn text_line(charset: Charset, eight_bit: bool) -> impl Strategy<Value = Vec<u8>> {
    let word_chars: Vec<u8> = (b' '..=b'~').collect();
    let high: Vec<u8> = (0xa0..=0xffu8).collect();
    let unicode = ["é", "ß", "€", "日本", "😀", "ñ", "ü"];
    let plain = prop::collection::vec(prop::sample::select(word_chars), 0..60);
    let fancy = prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(vec![b'a', b'b', b' ', b'=', b'.', b'\t']).prop_map(|c| vec![c]),
            1 => prop::sample::select(high).prop_map(|c| vec![c]),
            1 => prop::sample::select(unicode.to_vec()).prop_map(|s| s.as_bytes().to_vec()),
        ],
        0..60,
    )
    .prop_map(move |parts| {
        let bytes: Vec<u8> = parts.concat();
        match charset {
            // Only what the charset can hold.
            Charset::Ascii => bytes.into_iter().filter(u8::is_ascii).collect(),
            Charset::Utf8 => String::from_utf8_lossy(&bytes).into_owned().into_bytes(),
            Charset::Latin1 => bytes,
        }
    });
    let base = prop_oneof![3 => plain, 2 => fancy];
    (base, 0..10u8, 1000..1200usize, 77..200usize).prop_map(
        move |(mut line, shape, long_a, long_b)| {
            match shape {
                0 => line.splice(0..0, b"From ".iter().copied()).for_each(drop),
                1 => line.insert(0, b'.'),
                2 => line = b".".to_vec(),
                3 => line.extend_from_slice(b"  \t"),
                4 => line.resize(line.len() + long_a, b'x'),
                5 => line.resize(line.len() + long_b, b'y'),
                // A bare CR inside the line. (Not at its end: an LF-stored message would then
                // hold a CRLF, whose meaning differs between the input and its CRLF form.)
                6 if eight_bit => {
                    let mid = line.len() / 2;
                    line.splice(mid..mid, *b"\rz");
                }
                _ => {}
            }
            if !eight_bit {
                // 7bit parts: US-ASCII without control characters.
                line.retain(|b| b.is_ascii() && (*b >= b' ' || *b == b'\t'));
            }
            line
        },
    )
}

fn text_leaf() -> impl Strategy<Value = Node> {
    (
        prop::sample::select(vec!["plain", "html"]),
        prop::sample::select(vec![Charset::Ascii, Charset::Utf8, Charset::Latin1]),
        prop::sample::select(vec![
            Cte::None,
            Cte::SevenBit,
            Cte::EightBit,
            Cte::QuotedPrintable,
            Cte::Base64,
        ]),
    )
        .prop_flat_map(|(subtype, charset, cte)| {
            let eight_bit = matches!(cte, Cte::EightBit | Cte::QuotedPrintable | Cte::Base64);
            let charset = if eight_bit { charset } else { Charset::Ascii };
            prop::collection::vec(text_line(charset, eight_bit), 0..12).prop_map(move |lines| {
                Node::Text {
                    subtype,
                    charset,
                    cte,
                    lines,
                }
            })
        })
}

fn binary_leaf() -> impl Strategy<Value = Node> {
    (
        prop::sample::select(vec![Cte::Base64, Cte::Binary, Cte::QuotedPrintable]),
        prop::collection::vec(
            prop_oneof![
                3 => any::<u8>(),
                1 => Just(0u8),
                1 => Just(b'\r'),
            ],
            0..3000,
        ),
    )
        .prop_map(|(cte, mut data)| {
            // A bare LF in raw binary is indistinguishable from a line break in a message
            // stored with LF endings: keep raw binary free of it (base64/QP carry anything).
            if cte == Cte::Binary {
                data.retain(|&b| b != b'\n');
            }
            Node::Binary { cte, data }
        })
}

fn tree() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![3 => text_leaf(), 1 => binary_leaf()];
    leaf.prop_recursive(4, 24, 4, |inner| {
        (
            prop::sample::select(vec!["mixed", "alternative", "related"]),
            prop::collection::vec(inner, 1..4),
        )
            .prop_map(|(subtype, children)| Node::Multi { subtype, children })
    })
}

/// Renders line breaks in the chosen style.
struct Out {
    buf: Vec<u8>,
    eol: Eol,
    n: usize,
    parts: usize,
}

impl Out {
    fn nl(&mut self) {
        self.n += 1;
        let crlf = match self.eol {
            Eol::Lf => false,
            Eol::Crlf => true,
            Eol::Mixed => !self.n.is_multiple_of(3),
        };
        self.buf
            .extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
    }
    fn line(&mut self, s: &[u8]) {
        self.buf.extend_from_slice(s);
        self.nl();
    }
}

fn qp_encode(data: &[u8], out: &mut Out) {
    let mut col = 0;
    for (i, &b) in data.iter().enumerate() {
        let at_end = i + 1 == data.len();
        let literal =
            (b'!'..=b'~').contains(&b) && b != b'=' || (b == b' ' || b == b'\t') && !at_end;
        let enc = if literal {
            vec![b]
        } else {
            format!("={b:02X}").into_bytes()
        };
        if col + enc.len() > 75 {
            out.line(b"=");
            col = 0;
        }
        out.buf.extend_from_slice(&enc);
        col += enc.len();
    }
}

/// Base64 in lines of 76 characters (the testkit's encoder, independent of the library).
fn b64_encode(data: &[u8], out: &mut Out) {
    let encoded = smime_testkit::base64_encode_lines(data);
    for line in encoded.split_inclusive(|&b| b == b'\n') {
        out.line(line.strip_suffix(b"\r\n").unwrap_or(line));
    }
}

fn render_node(node: &Node, out: &mut Out, depth: usize) {
    match node {
        Node::Text {
            subtype,
            charset,
            cte,
            lines,
        } => {
            out.line(
                format!("Content-Type: text/{subtype}; charset={}", charset.name()).as_bytes(),
            );
            if let Some(h) = cte.header() {
                out.line(format!("Content-Transfer-Encoding: {h}").as_bytes());
            }
            out.nl();
            match cte {
                Cte::QuotedPrintable => {
                    for l in lines {
                        qp_encode(l, out);
                        out.nl();
                    }
                }
                Cte::Base64 => {
                    let mut canonical = Vec::new();
                    for l in lines {
                        canonical.extend_from_slice(l);
                        canonical.extend_from_slice(b"\r\n");
                    }
                    b64_encode(&canonical, out);
                }
                _ => {
                    for l in lines {
                        out.line(l);
                    }
                }
            }
        }
        Node::Binary { cte, data } => {
            out.parts += 1;
            let n = out.parts;
            out.line(
                format!("Content-Type: application/octet-stream; name=\"f{n}.bin\"").as_bytes(),
            );
            out.line(format!("Content-Disposition: attachment; filename=\"f{n}.bin\"").as_bytes());
            if let Some(h) = cte.header() {
                out.line(format!("Content-Transfer-Encoding: {h}").as_bytes());
            }
            out.nl();
            match cte {
                Cte::Base64 => b64_encode(data, out),
                Cte::QuotedPrintable => {
                    qp_encode(data, out);
                    out.nl();
                }
                _ => {
                    out.buf.extend_from_slice(data);
                    out.nl();
                }
            }
        }
        Node::Multi { subtype, children } => {
            out.parts += 1;
            let boundary = format!("=_proptest_{depth}_{}", out.parts);
            out.line(
                format!("Content-Type: multipart/{subtype}; boundary=\"{boundary}\"").as_bytes(),
            );
            out.nl();
            out.line(b"This is a multi-part message in MIME format.");
            for child in children {
                out.line(format!("--{boundary}").as_bytes());
                render_node(child, out, depth + 1);
            }
            out.line(format!("--{boundary}--").as_bytes());
        }
    }
}

/// The whole `.eml`: From/To from the test PKI, then the tree.
fn render(node: &Node, eol: Eol) -> Vec<u8> {
    let mut out = Out {
        buf: Vec::new(),
        eol,
        n: 0,
        parts: 0,
    };
    out.line(b"From: Alice <alice@example.com>");
    out.line(b"To: Bob <bob@example.net>");
    out.line(b"Subject: property test");
    out.line(b"MIME-Version: 1.0");
    match node {
        // Raw binary at the top would end with the message's last line break, which is part
        // of the content there: wrap it so that the break belongs to a delimiter.
        Node::Binary { .. } => render_node(
            &Node::Multi {
                subtype: "mixed",
                children: vec![node.clone()],
            },
            &mut out,
            0,
        ),
        _ => render_node(node, &mut out, 0),
    }
    out.buf
}

/// A tree and a line-ending style; rendered by [`render`].
fn message() -> impl Strategy<Value = (Node, Eol)> {
    (
        tree(),
        prop::sample::select(vec![Eol::Lf, Eol::Crlf, Eol::Mixed]),
    )
}

/// The input, escaped, for failure messages.
fn shown(eml: &[u8]) -> String {
    eml.escape_ascii().to_string()
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

#[test]
fn protect_then_open_keeps_every_part() {
    let protectors: Vec<_> = modes()
        .into_iter()
        .map(|(name, o)| (name, protector(o)))
        .collect();
    let reader = reader_for("bob@example.net");
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    runner
        .run(&message(), |(tree, eol)| {
            let eml = render(&tree, eol);
            for (mode, p) in &protectors {
                let out = p
                    .protect(&eml)
                    .map_err(|e| TestCaseError::fail(format!("{mode}: protect: {e}")))?;
                let opened = reader
                    .open(&out.message)
                    .map_err(|e| TestCaseError::fail(format!("{mode}: open: {e}")))?;
                compare_leaves(&eml, &opened.content).map_err(|d| {
                    TestCaseError::fail(format!(
                        "{mode}: parts differ:\n{d}\ninput: {}",
                        shown(&eml)
                    ))
                })?;
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_fixed_sample_also_opens_in_openssl() {
    let Some(_) = smime_testkit::tool("openssl") else {
        return;
    };
    let mut runner = TestRunner::deterministic();
    let strategy = message();
    let p = protector(Options::sign_and_encrypt());
    let detached = protector(Options::sign(SignMode::Detached));
    for i in 0..8 {
        let (tree, eol) = strategy.new_tree(&mut runner).unwrap().current();
        let eml = render(&tree, eol);
        for (mode, p) in [("sign+encrypt", &p), ("sign-detached", &detached)] {
            let out = p.protect(&eml).unwrap().message;
            let (entity, _) = Tool::OpenSsl
                .open(&out, "bob@example.net")
                .unwrap_or_else(|e| panic!("sample {i} {mode}: OpenSSL: {e}"));
            compare_leaves(&eml, &entity)
                .unwrap_or_else(|d| panic!("sample {i} {mode}: OpenSSL: parts differ:\n{d}"));
        }
    }
}
