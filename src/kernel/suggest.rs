//! "did you mean `host`?": the known name closest to a misspelt one.
//!
//! Names here are config fields, helper names, source kinds, option values and environment
//! variable names: a few dozen short words, so a plain edit distance is enough (a crate would
//! bring more than these lines).

/// The candidate closest to `word` (case-insensitive), when it is close enough to be a typo:
/// at most one edit for words of up to four letters, two up to eight, three beyond; a
/// transposition (`usernmae`) counts as one.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let allowed = match word.chars().count() {
        0 => return None,
        1..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    candidates
        .into_iter()
        .map(|c| (distance(&word, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// ` (did you mean `x`?)`-style text: `did you mean `x`? ` or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match closest(word, candidates) {
        Some(c) => format!("did you mean `{c}`? "),
        None => String::new(),
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
/// transpositions, each costing one.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_and_strangers() {
        let fields = ["scheme", "host", "path", "helper", "config"];
        let table = [
            ("hots", Some("host")),
            ("HOST", Some("host")),
            ("hst", Some("host")),
            ("paht", Some("path")),
            ("helpr", Some("helper")),
            ("confg", Some("config")),
            ("shceme", Some("scheme")),
            ("url", None),
            ("colour", None),
            ("", None),
        ];
        for (word, want) in table {
            assert_eq!(closest(word, fields), want, "{word}");
        }
        let vars = [
            "USERNAME",
            "PASSWORD",
            "HOSTNAME",
            "IDENTITY_TOKEN",
            "REGISTRY_TOKEN",
        ];
        assert_eq!(closest("USERNMAE", vars), Some("USERNAME"));
        assert_eq!(closest("PASWORD", vars), Some("PASSWORD"));
        assert_eq!(closest("IDENTITYTOKEN", vars), Some("IDENTITY_TOKEN"));
        assert_eq!(closest("TOKEN", vars), None);
        assert_eq!(
            closest("envv", ["env", "file", "static", "keyring"]),
            Some("env")
        );
        assert_eq!(did_you_mean("oic", ["oci", "s3"]), "did you mean `oci`? ");
        assert_eq!(did_you_mean("vault", ["env", "file"]), "");
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("ab", "ba"), 1);
    }
}
