//! Character encodings of delimited files: detecting the encoding of input
//! bytes, decoding one field at a time, and encoding output text.
//!
//! Owns: the choice between UTF-8, UTF-8 with BOM and CP932 (Windows
//! Shift_JIS, which `encoding_rs::SHIFT_JIS` implements as the WHATWG
//! standard defines it), per-field decoding that reports the first bad byte,
//! the lossless rendering of undecodable bytes as `\xNN` for rejects, and CP932
//! output with a count of the characters CP932 cannot represent.
//!
//! Does not own: splitting bytes into records and fields (`delimited.rs`) or
//! writing files (`write.rs`). XLSX files carry their own (Unicode) text and
//! never come here.
//!
//! Detection: a BOM means UTF-8; bytes that are valid UTF-8 are UTF-8 (an
//! all-ASCII file is too). Otherwise, in order:
//! 1. if the first MiB holds more valid non-ASCII UTF-8 characters than
//!    malformed UTF-8 sequences, it is UTF-8 with some broken bytes (CP932
//!    text almost never forms valid multi-byte UTF-8 by chance);
//! 2. if the whole file decodes as CP932 without an error, it is CP932 (the
//!    common case for a Japanese Excel export);
//! 3. else the encoding with fewer malformed sequences over the whole file
//!    wins (ties go to UTF-8).
//!
//! Counting errors alone is not enough: UTF-8 Japanese read as CP932 is
//! mostly valid (continuation bytes 0xA1–0xBF are half-width katakana in
//! CP932), hence step 1. Either way the remaining bad bytes reject only the
//! rows they are in, since fields are decoded one by one.

use encoding_rs::{DecoderResult, EncoderResult, SHIFT_JIS};
use rayon::prelude::*;
use std::fmt::Write as _;

/// The encoding detected for a delimited input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputEncoding {
    Utf8,
    Utf8Bom,
    Cp932,
}

impl InputEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            InputEncoding::Utf8 => "utf-8",
            InputEncoding::Utf8Bom => "utf-8-bom",
            InputEncoding::Cp932 => "cp932",
        }
    }
}

impl std::fmt::Display for InputEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The encoding of an output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputEncoding {
    #[default]
    Utf8,
    Utf8Bom,
    Cp932,
}

impl OutputEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputEncoding::Utf8 => "utf-8",
            OutputEncoding::Utf8Bom => "utf-8-bom",
            OutputEncoding::Cp932 => "cp932",
        }
    }
}

impl std::fmt::Display for OutputEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OutputEncoding {
    type Err = String;

    /// Accepts `utf-8`, `utf8`, `utf-8-bom`, `utf8bom`, `cp932`, `sjis`,
    /// `shift_jis`, `shift-jis`, `windows-31j` (any case).
    fn from_str(s: &str) -> Result<Self, String> {
        let key: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .collect();
        match key.as_str() {
            "utf8" => Ok(OutputEncoding::Utf8),
            "utf8bom" | "utf8withbom" => Ok(OutputEncoding::Utf8Bom),
            "cp932" | "sjis" | "shiftjis" | "windows31j" | "ms932" => Ok(OutputEncoding::Cp932),
            _ => Err(format!(
                "unknown output encoding `{}` (expected utf-8, utf-8-bom or cp932)",
                s.trim()
            )),
        }
    }
}

pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a file's bytes cannot be read as text at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unsupported {
    Utf16,
}

/// What [`detect`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Detected {
    pub encoding: InputEncoding,
    /// Leading bytes (a BOM) to skip.
    pub skip: usize,
    /// The whole file decoded, when it is CP932 without a single error: the
    /// reader then parses this UTF-8 text, which is faster than decoding
    /// field by field.
    pub decoded: Option<String>,
}

/// Detect the encoding (see the module docs).
pub(crate) fn detect(bytes: &[u8]) -> Result<Detected, Unsupported> {
    let found = |encoding, skip| Detected {
        encoding,
        skip,
        decoded: None,
    };
    if bytes.starts_with(UTF8_BOM) {
        return Ok(found(InputEncoding::Utf8Bom, UTF8_BOM.len()));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(Unsupported::Utf16);
    }
    // UTF-16 without BOM: ASCII text with every other byte NUL.
    let head = &bytes[..bytes.len().min(4096)];
    if head.len() >= 4 && head.iter().filter(|b| **b == 0).count() * 3 >= head.len() {
        return Err(Unsupported::Utf16);
    }
    if std::str::from_utf8(bytes).is_ok() {
        return Ok(found(InputEncoding::Utf8, 0));
    }
    let (utf8_chars, utf8_errors) = utf8_stats(&bytes[..bytes.len().min(1 << 20)]);
    if utf8_chars > utf8_errors {
        return Ok(found(InputEncoding::Utf8, 0));
    }
    if let Some(text) = decode_cp932_strict(bytes) {
        return Ok(Detected {
            encoding: InputEncoding::Cp932,
            skip: 0,
            decoded: Some(text),
        });
    }
    let utf8_errors = count_utf8_errors(bytes);
    let cp932_errors = count_cp932_errors(bytes);
    if cp932_errors < utf8_errors {
        Ok(found(InputEncoding::Cp932, 0))
    } else {
        Ok(found(InputEncoding::Utf8, 0))
    }
}

/// The whole of `bytes` decoded as CP932, or `None` at the first error.
///
/// CP932 decoding is the slowest step of reading a CP932 file, so large
/// inputs are decoded in parallel in pieces split after a
/// LF. That is safe because LF is never a CP932 trail byte: a split there
/// never cuts a character, and a lead byte before it is an error either way.
fn decode_cp932_strict(bytes: &[u8]) -> Option<String> {
    const PIECE: usize = 1 << 20;
    if bytes.len() < 2 * PIECE {
        return SHIFT_JIS
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|text| text.into_owned());
    }
    let mut pieces = Vec::with_capacity(bytes.len() / PIECE + 1);
    let mut start = 0;
    while start < bytes.len() {
        let mut end = (start + PIECE).min(bytes.len());
        end = match bytes[end..].iter().position(|b| *b == b'\n') {
            Some(i) => end + i + 1,
            None => bytes.len(),
        };
        pieces.push(&bytes[start..end]);
        start = end;
    }
    let decoded: Vec<std::borrow::Cow<'_, str>> = pieces
        .par_iter()
        .map(|piece| SHIFT_JIS.decode_without_bom_handling_and_without_replacement(piece))
        .collect::<Option<_>>()?;
    let mut text = String::with_capacity(decoded.iter().map(|d| d.len()).sum());
    for d in &decoded {
        text.push_str(d);
    }
    Some(text)
}

/// Valid non-ASCII characters and malformed sequences when read as UTF-8.
fn utf8_stats(bytes: &[u8]) -> (usize, usize) {
    let mut chars = 0;
    let mut errors = 0;
    for chunk in bytes.utf8_chunks() {
        chars += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        errors += usize::from(!chunk.invalid().is_empty());
    }
    (chars, errors)
}

fn count_utf8_errors(bytes: &[u8]) -> usize {
    bytes
        .utf8_chunks()
        .filter(|c| !c.invalid().is_empty())
        .count()
}

fn count_cp932_errors(bytes: &[u8]) -> usize {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut out = vec![0u8; 64 * 1024];
    let mut input = bytes;
    let mut errors = 0;
    loop {
        let (result, read, _written) =
            decoder.decode_to_utf8_without_replacement(input, &mut out, true);
        input = &input[read..];
        match result {
            DecoderResult::InputEmpty => return errors,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(_, _) => errors += 1,
        }
    }
}

/// A field that does not decode: the byte offset of the first bad byte,
/// relative to the start of the bytes given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadBytes {
    pub offset: usize,
}

/// Decode one field's bytes.
pub(crate) fn decode_field(bytes: &[u8], enc: InputEncoding) -> Result<String, BadBytes> {
    // ASCII is the same in all three encodings, and most fields are ASCII or
    // (for UTF-8 input) already valid; `from_utf8` checks ASCII fast.
    match enc {
        InputEncoding::Utf8 | InputEncoding::Utf8Bom => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => Err(BadBytes {
                offset: e.valid_up_to(),
            }),
        },
        InputEncoding::Cp932 => {
            if bytes.is_ascii() {
                // ASCII is valid UTF-8.
                return Ok(String::from_utf8(bytes.to_vec()).unwrap_or_default());
            }
            match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
                Some(s) => Ok(s.into_owned()),
                None => Err(BadBytes {
                    offset: first_cp932_error(bytes),
                }),
            }
        }
    }
}

fn first_cp932_error(bytes: &[u8]) -> usize {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut out = vec![0u8; bytes.len() * 3 + 16];
    let (result, read, _) = decoder.decode_to_utf8_without_replacement(bytes, &mut out, true);
    match result {
        // `read` is past the malformed sequence and `extra` bytes after it.
        DecoderResult::Malformed(bad, extra) => read - extra as usize - bad as usize,
        _ => bytes.len(),
    }
}

/// Text of some bytes for a reject's `raw`: decoded where possible, every
/// undecodable byte written as `\xNN`, so nothing of the original is lost.
pub(crate) fn lossless_text(bytes: &[u8], enc: InputEncoding) -> String {
    let mut out = String::with_capacity(bytes.len());
    match enc {
        InputEncoding::Utf8 | InputEncoding::Utf8Bom => {
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    let _ = write!(out, "\\x{b:02X}");
                }
            }
        }
        InputEncoding::Cp932 => {
            let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
            let mut buf = vec![0u8; bytes.len() * 3 + 16];
            let mut input = bytes;
            loop {
                let (result, read, written) =
                    decoder.decode_to_utf8_without_replacement(input, &mut buf, true);
                out.push_str(std::str::from_utf8(&buf[..written]).unwrap_or_default());
                match result {
                    DecoderResult::InputEmpty | DecoderResult::OutputFull => {
                        // The buffer is large enough for all of the input.
                        if read >= input.len() {
                            break;
                        }
                        input = &input[read..];
                    }
                    DecoderResult::Malformed(bad, extra) => {
                        let end = read - extra as usize;
                        for b in &input[end - bad as usize..end] {
                            let _ = write!(out, "\\x{b:02X}");
                        }
                        input = &input[end..];
                        // Restart cleanly after the bad bytes.
                        decoder = SHIFT_JIS.new_decoder_without_bom_handling();
                    }
                }
            }
        }
    }
    out
}

/// The character CP932 uses for one that JIS X 0208 (and Unicode's mapping
/// of it, which Mac and Linux input methods use) writes differently: the same
/// code in the Japanese character set, so the same glyph to the reader.
/// Without this `9:00〜18:00` would become `9:00&#12316;18:00`.
fn cp932_variant(c: char) -> Option<char> {
    Some(match c {
        '\u{301C}' => '\u{FF5E}', // 〜 WAVE DASH → ～
        '\u{2016}' => '\u{2225}', // ‖ → ∥
        '\u{2014}' => '\u{2015}', // — EM DASH → ―
        '\u{00A2}' => '\u{FFE0}', // ¢ → ￠
        '\u{00A3}' => '\u{FFE1}', // £ → ￡
        '\u{00AC}' => '\u{FFE2}', // ¬ → ￢
        _ => return None,
    })
}

/// Append `text` encoded as CP932 to `out`. The JIS/CP932 variants of
/// [`cp932_variant`] are written as their CP932 forms; any other character
/// CP932 cannot represent is written as an HTML decimal reference
/// (`&#134071;` for `𠮷`), the way the WHATWG encoder does, so the original
/// can still be recovered. Returns how many references were written.
pub(crate) fn encode_cp932(text: &str, out: &mut Vec<u8>) -> usize {
    if text.is_ascii() {
        out.extend_from_slice(text.as_bytes());
        return 0;
    }
    let mut encoder = SHIFT_JIS.new_encoder();
    let mut input = text;
    let mut unmappable = 0;
    let start = out.len();
    // CP932 needs at most two bytes per character; one char is at least one
    // UTF-8 byte, so twice the input length always suffices.
    out.resize(start + text.len() * 2 + 8, 0);
    let mut pos = start;
    loop {
        let (result, read, written) =
            encoder.encode_from_utf8_without_replacement(input, &mut out[pos..], true);
        pos += written;
        input = &input[read..];
        match result {
            EncoderResult::InputEmpty => break,
            EncoderResult::OutputFull => {
                let len = out.len();
                out.resize(len + input.len() * 2 + 8, 0);
            }
            EncoderResult::Unmappable(c) => {
                let mut alt = [0u8; 4];
                let reference = match cp932_variant(c) {
                    // Always mappable: the encoder writes two bytes.
                    Some(v) => SHIFT_JIS.encode(v.encode_utf8(&mut alt)).0.into_owned(),
                    None => {
                        unmappable += 1;
                        format!("&#{};", c as u32).into_bytes()
                    }
                };
                if out.len() < pos + reference.len() + input.len() * 2 + 8 {
                    out.resize(pos + reference.len() + input.len() * 2 + 8, 0);
                }
                out[pos..pos + reference.len()].copy_from_slice(&reference);
                pos += reference.len();
            }
        }
    }
    out.truncate(pos);
    unmappable
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sjis(s: &str) -> Vec<u8> {
        let (b, _, had_errors) = SHIFT_JIS.encode(s);
        assert!(!had_errors);
        b.into_owned()
    }

    #[test]
    fn detects_bom_utf8_and_cp932() {
        let enc = |b: &[u8]| {
            let d = detect(b).unwrap();
            (d.encoding, d.skip)
        };
        assert_eq!(enc(b"\xEF\xBB\xBFa,b"), (InputEncoding::Utf8Bom, 3));
        assert_eq!(enc("会社名,住所".as_bytes()), (InputEncoding::Utf8, 0));
        assert_eq!(enc(b"a,b\n1,2\n"), (InputEncoding::Utf8, 0));
        let text = "会社名,住所\n株式会社ＡＢＣ,東京都千代田区霞が関1-2-1\n";
        let d = detect(&sjis(text)).unwrap();
        assert_eq!(d.encoding, InputEncoding::Cp932);
        assert_eq!(d.decoded.as_deref(), Some(text));
        // With a bad byte it is still CP932, decoded field by field.
        let mut bytes = sjis(text);
        bytes.extend_from_slice(b"\x81,\n");
        let d = detect(&bytes).unwrap();
        assert_eq!((d.encoding, d.decoded), (InputEncoding::Cp932, None));
    }

    #[test]
    fn large_cp932_is_decoded_in_pieces() {
        let text = "株式会社ＡＢＣ,東京都千代田区霞が関1-2-1,ｶﾌﾞｼｷｶﾞｲｼｬ\r\n".repeat(60_000);
        let bytes = sjis(&text);
        assert!(bytes.len() > 2 << 20);
        assert_eq!(decode_cp932_strict(&bytes).as_deref(), Some(text.as_str()));
        let mut bad = bytes.clone();
        let at = bad.len() - 10;
        bad.insert(at, 0x81);
        bad.insert(at + 1, b'\n');
        assert_eq!(decode_cp932_strict(&bad), None);
    }

    #[test]
    fn one_bad_byte_in_utf8_stays_utf8() {
        let mut bytes = "会社名,住所\n株式会社あいう,東京都港区\n"
            .repeat(20)
            .into_bytes();
        bytes.extend_from_slice(b"x\xFFy,z\n");
        assert_eq!(detect(&bytes).unwrap().encoding, InputEncoding::Utf8);
    }

    #[test]
    fn utf16_is_refused() {
        assert_eq!(detect(b"\xFF\xFEa\0b\0").unwrap_err(), Unsupported::Utf16);
        assert_eq!(detect(b"a\0,\0b\0\n\0").unwrap_err(), Unsupported::Utf16);
    }

    #[test]
    fn decode_reports_offset_of_bad_byte() {
        assert_eq!(
            decode_field(b"ab\xFFc", InputEncoding::Utf8),
            Err(BadBytes { offset: 2 })
        );
        let mut b = sjis("山田");
        b.push(0x81); // a lead byte with no trail byte
        assert_eq!(
            decode_field(&b, InputEncoding::Cp932),
            Err(BadBytes { offset: 4 })
        );
        assert_eq!(
            decode_field(&sjis("山田"), InputEncoding::Cp932).unwrap(),
            "山田"
        );
    }

    #[test]
    fn lossless_text_escapes_bad_bytes() {
        assert_eq!(lossless_text(b"a\xFFb", InputEncoding::Utf8), "a\\xFFb");
        let mut b = sjis("山");
        b.extend_from_slice(b"\x81,");
        b.extend_from_slice(&sjis("田"));
        assert_eq!(lossless_text(&b, InputEncoding::Cp932), "山\\x81,田");
    }

    #[test]
    fn cp932_output_counts_unmappable() {
        let mut out = Vec::new();
        let n = encode_cp932("𠮷野家😀", &mut out);
        assert_eq!(n, 2);
        let (text, _, _) = SHIFT_JIS.decode(&out);
        assert_eq!(text, "&#134071;野家&#128512;");
    }

    #[test]
    fn cp932_output_writes_jis_variants_as_cp932() {
        let mut out = Vec::new();
        assert_eq!(encode_cp932("9:00〜18:00 ‖ — ¢£¬", &mut out), 0);
        let (text, _, _) = SHIFT_JIS.decode(&out);
        assert_eq!(text, "9:00～18:00 ∥ ― ￠￡￢");
    }

    #[test]
    fn output_encoding_names() {
        for (s, e) in [
            ("utf-8", OutputEncoding::Utf8),
            ("UTF8", OutputEncoding::Utf8),
            ("utf-8-bom", OutputEncoding::Utf8Bom),
            ("cp932", OutputEncoding::Cp932),
            ("sjis", OutputEncoding::Cp932),
            ("Shift_JIS", OutputEncoding::Cp932),
        ] {
            assert_eq!(s.parse::<OutputEncoding>().unwrap(), e, "{s}");
        }
        assert!("latin1".parse::<OutputEncoding>().is_err());
    }
}
