//! A character-bigram tokenizer for CJK (and any other script) that keeps real
//! token positions.
//!
//! tantivy's `NgramTokenizer` emits every gram at position 0, which makes
//! phrase and proximity information meaningless; here the n-th bigram of a
//! word is at position n. Words are split on whitespace; a one-character word
//! is emitted as a unigram so that it can still be found. Grams are made of
//! `char`s (Unicode scalar values), never bytes.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

#[derive(Debug, Clone, Default)]
pub struct BigramTokenizer;

pub struct BigramStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = BigramStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BigramStream {
        BigramStream {
            tokens: bigram_tokens(text),
            next: 0,
        }
    }
}

impl TokenStream for BigramStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// The bigrams of `text` (as strings), in order; the query side uses the same
/// function as the index side.
pub fn bigrams(text: &str) -> Vec<String> {
    bigram_tokens(text).into_iter().map(|t| t.text).collect()
}

fn bigram_tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut position = 0;
    for (word_start, word) in words(text) {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        if chars.len() == 1 {
            out.push(token(word_start, word, position));
            position += 1;
            continue;
        }
        for w in chars.windows(2) {
            let from = w[0].0;
            let to = w[1].0 + w[1].1.len_utf8();
            out.push(token(word_start + from, &word[from..to], position));
            position += 1;
        }
    }
    out
}

fn token(offset: usize, text: &str, position: usize) -> Token {
    Token {
        offset_from: offset,
        offset_to: offset + text.len(),
        position,
        text: text.to_string(),
        position_length: 1,
    }
}

fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(char::is_whitespace)
        .filter(|w| !w.is_empty())
        .map(move |w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_up() {
        let toks = bigram_tokens("東京都 港区");
        let texts: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["東京", "京都", "港区"]);
        let positions: Vec<usize> = toks.iter().map(|t| t.position).collect();
        assert_eq!(positions, [0, 1, 2]);
        // Offsets are byte offsets into the original text.
        assert_eq!(
            &"東京都 港区"[toks[2].offset_from..toks[2].offset_to],
            "港区"
        );
    }

    #[test]
    fn single_characters_and_empty() {
        assert_eq!(bigrams("林"), ["林"]);
        assert_eq!(bigrams("a 林 bc"), ["a", "林", "bc"]);
        assert!(bigrams("  ").is_empty());
    }
}
